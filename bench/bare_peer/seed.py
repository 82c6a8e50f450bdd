"""``python -m bare_peer.seed IDX...`` (from ``bench/``): the tables, and an outlet ``BO<idx>``
with its counter ``BC<idx>`` for each index."""

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bare_peer.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402

from bare_peer.models import Counter, Outlet  # noqa: E402

call_command("migrate", run_syncdb=True, verbosity=0)
for idx in sys.argv[1:]:
    outlet = Outlet.objects.create(code=f"BO{idx}")
    Counter.objects.create(code=f"BC{idx}", outlet=outlet)
