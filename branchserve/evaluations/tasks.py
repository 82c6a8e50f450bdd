"""Background jobs of the evaluations app (found by Huey's ``djhuey`` in each installed app)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from branchserve.evaluations.actions import expire_due


@db_periodic_task(crontab(minute="*"))
def expire_evaluations() -> int:
    """Every minute: close unanswered evaluations as not rated (``expire_evaluations``)."""
    return expire_due()
