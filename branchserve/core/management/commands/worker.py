"""``branchserve worker``: run the background jobs (deadlines, alerts, device-offline checks,
reports) in production. It is Huey's consumer (``run_huey``) with its options, e.g.
``branchserve worker --workers 4``. In the demo, ``branchserve serve --demo`` runs the jobs
itself."""

from __future__ import annotations

from huey.contrib.djhuey.management.commands.run_huey import Command as RunHuey


class Command(RunHuey):
    help = (
        "Run the background-job worker (Huey's consumer; Redis when REDIS_URL is set, "
        "SQLite otherwise). Options as for run_huey, e.g. --workers 4."
    )
