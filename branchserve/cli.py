"""The ``branchserve`` console script: a thin wrapper over the management commands.

``branchserve demo --outlets 60``, ``branchserve import-org roster.xlsx``, ``branchserve serve``,
``branchserve worker``, ``branchserve staffing …`` — dashes and underscores are the same.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "branchserve.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else argv)
    if len(args) > 1 and not args[1].startswith("-"):
        args[1] = args[1].replace("-", "_")
    args[0] = "branchserve"
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
