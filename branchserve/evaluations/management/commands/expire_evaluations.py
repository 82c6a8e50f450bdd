"""``branchserve expire_evaluations``: close evaluations nobody answered in time as not rated.

Pads do this lazily for their own counter when they read or a new evaluation starts there; this
catches the rest (a pad switched off, a counter closed). The job worker runs it every minute
(``evaluations/tasks.py``); run it by hand or from cron where no worker runs.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from branchserve.evaluations.actions import expire_due


class Command(BaseCommand):
    help = "Mark pending evaluations past their answer time as not rated."

    def handle(self, *args: Any, **options: Any) -> None:
        count = expire_due()
        self.stdout.write(f"{count} evaluation(s) closed as not rated.")
