"""The day's measures: the estimate's error against the actual wait, and the service level
against the wait-time targets (85 % within 15 minutes by default here)."""

from branchserve.queueing import actions
from branchserve.queueing.models import WaitTarget
from branchserve.queueing.queries import estimate_accuracy, service_level
from branchserve.queueing.tests.base import QueueTestCase, at
from branchserve.sim.strategies import Tier


class MeasuresTest(QueueTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        WaitTarget.objects.create(unit=cls.province, wait_s=900, share=0.85)
        WaitTarget.objects.create(unit=cls.province, tier=Tier.GOLD, wait_s=300, share=0.95)

    def serve(self, minutes):
        called = self.call(self.c11_1, minutes=minutes)
        counter, bob = self.counter(self.c11_1), self.staff(self.bob)
        actions.do_start(counter, called.ticket.public_id, bob, now=at(minutes))
        actions.do_finish(counter, called.ticket.public_id, bob, now=at(minutes + 1))
        return called.ticket

    def test_estimate_error_and_service_level(self):
        first = self.issue("A", minutes=0)  # told 300 s (typical time, nobody open)
        second = self.issue("A", minutes=0)  # told 600 s
        gold = self.issue("B", minutes=0, tier=Tier.GOLD)  # told 600 s (B's typical time)
        self.assertEqual(
            [first.estimated_wait_s, second.estimated_wait_s, gold.estimated_wait_s],
            [300, 600, 600],
        )
        self.open(self.c11_1, minutes=0)
        self.assertEqual(self.serve(1), gold)  # premium first (ageing strategy): waited 60 s
        self.assertEqual(self.serve(10), first)  # waited 600 s
        self.assertEqual(self.serve(20), second)  # waited 1200 s
        accuracy = estimate_accuracy(self.o11, at(0).date())
        # errors: 60 - 600, 600 - 300, 1200 - 600 → mean 360 / 3, mean absolute 1440 / 3
        self.assertEqual(accuracy, {"tickets": 3, "mean_abs_error_s": 480, "mean_error_s": 120})
        levels = {line["queue"]: line for line in service_level(self.o11, at(0).date())}
        self.assertEqual((levels["A"]["called"], levels["A"]["within"]), (2, 1))
        self.assertEqual(levels["A"]["share"], 0.5)
        self.assertEqual(levels["A"]["target_share"], 0.85)
        self.assertEqual((levels["B"]["within"], levels["B"]["target_share"]), (1, 0.95))
