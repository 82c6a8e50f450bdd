"""The evaluations demo: deterministic for a seed, planted cheaters recorded, none with
``--honest``."""

from __future__ import annotations

import datetime as dt
import tempfile
from typing import Any

from django.db import transaction
from django.test import TestCase, override_settings

from branchserve.core.demo import generators, run_generators
from branchserve.evaluations.choices import EvaluationState
from branchserve.evaluations.demo import SELECTIVE, SELF_RATER, planted_cheaters
from branchserve.evaluations.models import Evaluation
from branchserve.queueing.choices import TicketEventKind

TODAY = dt.date(2026, 11, 30)


def seed(honest: bool = False, seed: int = 7) -> tuple[Any, list[tuple[Any, ...]]]:
    produced = run_generators(
        generators(), seed=seed, today=TODAY, days=4, outlets=3, options={"honest": honest}
    )
    rows = list(
        Evaluation.objects.order_by("public_id").values_list(
            "public_id", "ticket__number", "teller__employee_no", "state", "level__code", "rated_at"
        )
    )
    return produced["evaluations"], rows


class DemoTest(TestCase):
    def setUp(self) -> None:
        self.var = tempfile.TemporaryDirectory()
        self.addCleanup(self.var.cleanup)
        override = override_settings(VAR_DIR=self.var.name)
        override.enable()
        self.addCleanup(override.disable)

    def test_same_seed_same_ratings_and_cheaters(self) -> None:
        with transaction.atomic():
            first, rows = seed()
            transaction.set_rollback(True)
        second, again = seed()
        self.assertGreater(len(rows), 100)
        self.assertEqual(rows, again)
        self.assertEqual(first.cheaters, second.cheaters)
        self.assertEqual(len(second.cheaters[SELF_RATER]), 1)
        self.assertGreaterEqual(len(second.cheaters[SELECTIVE]), 2)
        self.assertEqual(planted_cheaters(), second.cheaters)

    def test_the_self_rater_leaves_traces_and_honest_has_no_cheaters(self) -> None:
        with transaction.atomic():
            demo, _rows = seed()
            [rater] = demo.cheaters[SELF_RATER]
            on_no_shows = Evaluation.objects.filter(
                teller__employee_no=rater, transaction__kind=TicketEventKind.NO_SHOW
            )
            self.assertTrue(on_no_shows.exists())
            self.assertTrue(
                all(e.state == EvaluationState.RATED and e.service_s == 0 for e in on_no_shows)
            )
            transaction.set_rollback(True)
        demo, _rows = seed(honest=True)
        self.assertEqual(demo.cheaters, {})
        self.assertTrue(demo.honest)
        self.assertFalse(
            Evaluation.objects.filter(transaction__kind=TicketEventKind.NO_SHOW).exists()
        )
        self.assertEqual(planted_cheaters(), {})
