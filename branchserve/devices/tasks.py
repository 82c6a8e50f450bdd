"""Background jobs of the devices app (found by Huey's ``djhuey`` in each installed app)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from branchserve.devices.actions import do_sweep_devices


@db_periodic_task(crontab(minute="*"))
def sweep_devices() -> int:
    """Every minute: record and announce devices that went offline (``device_sweep``)."""
    return len(do_sweep_devices())
