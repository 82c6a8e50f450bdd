"""The live queue calls what the simulator's ``choose`` would call on the same queue, and
stores the rule and reason of every call (rendered in Chinese)."""

import random

from django.db import transaction

from branchserve.queueing import actions
from branchserve.queueing.choices import TicketEventKind
from branchserve.queueing.models import CounterQueueConfig, CounterState, TicketEvent
from branchserve.queueing.reasons import REASON_TEMPLATES, render_reason
from branchserve.queueing.tests.base import QueueTestCase, at
from branchserve.sim.strategies import (
    REASON_TEMPLATES_ZH,
    CounterConfig,
    Reason,
    StrategyState,
    Tier,
    WaitingTicket,
    build_waiting,
    choose,
)

MORNING_S = 9 * 3600  # MORNING is 09:00: the strategy's clock starts at local midnight

CONFIGS = [
    {"queues": ["A", "B"], "strategy": "strict_priority"},
    {"queues": ["B", "A"], "strategy": "strict_priority", "tier_priority": False},
    {"queues": ["A", "B"], "strategy": "ageing", "ageing_cap_s": 1200},
    {"queues": ["A", "B", "C"], "strategy": "weighted_round_robin", "weights": [3, 1, 2]},
    {"queues": ["A", "B"], "strategy": "premium_boost", "fairness_cap_s": 1500},
    {"queues": ["C", "A"], "strategy": "premium_boost", "tier_boost_s": [0, 600, 1200, 1800]},
]


class SameChoiceAsTheSimulatorTest(QueueTestCase):
    def configure(self, config):
        CounterQueueConfig.objects.update_or_create(counter=self.c11_1, defaults={"config": config})

    def sim_ticket(self, ticket, **flags):
        minute = (ticket.issued_at - at(0)).total_seconds()
        effective = (ticket.effective_at - at(0)).total_seconds()
        return WaitingTicket(
            ticket.pk,
            ticket.queue,
            Tier(ticket.tier),
            MORNING_S + minute,
            MORNING_S + effective,
            ticket.green_channel,
            ticket.appointment,
            ticket.front,
        )

    def test_hand_made_queue_under_every_strategy(self):
        self.open(self.c11_1, minutes=0)
        specs = [  # (queue, minute, tier, green, appointment)
            ("A", 0, Tier.ORDINARY, False, False),
            ("B", 2, Tier.ORDINARY, False, False),
            ("A", 5, Tier.GOLD, False, False),
            ("C", 6, Tier.ORDINARY, False, False),
            ("B", 9, Tier.PRIVATE_BANKING, False, False),
            ("A", 12, Tier.PLATINUM, False, False),
            ("C", 14, Tier.GOLD, False, False),
        ]
        for queue, minute, tier, green, appointment in specs:
            self.issue(
                queue, minutes=minute, tier=tier, green_channel=green, appointment=appointment
            )
        for minutes in (15, 21, 40):
            for config in CONFIGS:
                with self.subTest(config=config, minutes=minutes), transaction.atomic():
                    self.configure(config)
                    self.assert_same_choice(config, minutes)
                    transaction.set_rollback(True)

    def test_flags_green_channel_appointment_and_transfer_to_the_front(self):
        self.configure({"queues": ["A", "B"], "strategy": "strict_priority"})
        self.open(self.c11_1, minutes=0)
        self.issue("A", minutes=0)
        self.issue("A", minutes=1, appointment=True)
        self.issue("B", minutes=2, green_channel=True)
        moved = self.issue("B", minutes=3)
        actions.do_transfer(
            self.o11, moved.public_id, business_type_code="A", placement="front", now=at(4)
        )
        expected = ["transferred_front", "green_channel", "appointment", "strict_order"]
        for reason in expected:
            with self.subTest(reason):
                called = self.assert_same_choice(
                    {"queues": ["A", "B"], "strategy": "strict_priority"}, 10, keep=True
                )
                self.assertEqual(called.reason_code, reason)

    def test_random_queues_called_to_the_end(self):
        rng = random.Random(20261130)
        for config in CONFIGS:
            with self.subTest(config=config), transaction.atomic():
                self.configure(config)
                self.open(self.c11_1, minutes=0)
                minute = 0.0
                for _ in range(rng.randint(6, 14)):
                    minute += rng.expovariate(1 / 1.5)
                    self.issue(
                        rng.choice("ABC"),
                        minutes=minute,
                        tier=rng.choice([Tier.ORDINARY] * 5 + list(Tier)),
                        green_channel=rng.random() < 0.1,
                    )
                # The simulator's way: one StrategyState kept in memory, called tickets removed.
                state = StrategyState()
                calls = 0
                while True:
                    minute += rng.uniform(1, 12)
                    called = self.assert_same_choice(config, minute, keep=True, state=state)
                    if called is None:
                        break
                    calls += 1
                self.assertGreater(calls, 0)
                transaction.set_rollback(True)

    def assert_same_choice(self, config, minutes, keep=False, state=None):
        """Call at O11-1 and compare with ``choose`` on the same waiting tickets."""
        from branchserve.queueing.choices import TicketState
        from branchserve.queueing.models import Ticket

        waiting = [
            self.sim_ticket(t)
            for t in Ticket.objects.filter(state=TicketState.WAITING, outlet=self.o11)
        ]
        sim_config = CounterConfig.from_dict({**config, "counter": "O11-1"})
        if state is None:
            state = StrategyState.from_dict(
                CounterState.objects.get(counter=self.c11_1).strategy_state
            )
        expected = choose(sim_config, build_waiting(waiting), MORNING_S + minutes * 60, state)
        if expected is None:
            from branchserve.core.errors import ActionError

            with self.assertRaises(ActionError) as refused:
                self.call(self.c11_1, minutes=minutes)
            self.assertEqual(refused.exception.code, "nothing_waiting")
            return None
        called = self.call(self.c11_1, minutes=minutes)
        self.assertEqual(called.ticket.pk, expected.ticket_id)
        self.assertEqual(called.rule, expected.rule)
        self.assertEqual(called.reason_code, expected.reason_code)
        self.assertEqual(called.params, expected.params)
        # The counter's strategy state is stored with the call.
        stored = CounterState.objects.get(counter=self.c11_1).strategy_state
        self.assertEqual(stored, state.to_dict())
        if keep:
            counter = self.counter(self.c11_1)
            actions.do_no_show(
                counter, called.ticket.public_id, self.staff(self.bob), now=at(minutes)
            )
        return called


class ReasonTest(QueueTestCase):
    def test_every_reason_renders_as_the_strategy_module_words_it(self):
        params = {
            "queue": "A",
            "waited_min": 31,
            "cap_min": 30,
            "boost_min": 10,
            "waited_s": 1860,
            "cap_s": 1800.0,
            "tier": "gold",
            "weight": 2,
        }
        self.assertEqual(set(REASON_TEMPLATES), set(Reason))
        for reason in Reason:
            with self.subTest(reason):
                self.assertEqual(
                    render_reason(reason, params), REASON_TEMPLATES_ZH[reason].format(**params)
                )

    def test_the_call_event_keeps_rule_reason_and_params(self):
        self.open(self.c11_1, minutes=0)
        self.issue("A", minutes=0)
        self.issue("A", minutes=10, tier=Tier.GOLD)
        called = self.call(self.c11_1, minutes=35)
        self.assertEqual(called.reason_code, "aged_past_cap")
        self.assertEqual(called.reason, "该客户已等候 35 分钟，超过 30 分钟上限，优先呼叫")
        event = TicketEvent.objects.get(kind=TicketEventKind.CALLED)
        self.assertEqual(event.data["rule"], "ageing")
        self.assertEqual(event.data["reason_code"], "aged_past_cap")
        self.assertEqual(event.data["params"]["waited_min"], 35)
        self.assertEqual(event.data["waited_s"], 35 * 60)
        self.assertEqual(event.staff.user, self.bob)
        self.assertEqual(event.counter, self.c11_1)
        # The lobby display's list shows the same sentence.
        kiosk = self.device_token("lobby_display", self.o11)
        response = self.api("GET", "/api/v1/outlets/O11/queue", token=kiosk)
        self.assertEqual(response.status_code, 200)
