"""``branchserve device_sweep``: record the devices that fell silent while their outlet is open.

Offline is a matter of time, so nothing else notices it: this writes each went-offline (and
silent come-back) change to the devices' history and announces it to the outlet's live
clients. The job worker runs it every minute (``devices/tasks.py``); run it by hand or from
cron where no worker runs.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from branchserve.devices.actions import do_sweep_devices


class Command(BaseCommand):
    help = "Record devices that went offline (or came back) since the last sweep."

    def handle(self, *args: Any, **options: Any) -> None:
        changes = do_sweep_devices()
        for change in changes:
            self.stdout.write(f"{change.outlet.code} {change.device.name}: {change.kind}")
        self.stdout.write(f"{len(changes)} change(s) recorded.")
