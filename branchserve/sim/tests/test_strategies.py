"""Each call strategy on hand-made queues, the contract's serialisation, and two properties:
the fast path agrees with the general one, and ageing starves nobody."""

from __future__ import annotations

import doctest
import json
import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from branchserve.sim import strategies
from branchserve.sim.distributions import Deterministic
from branchserve.sim.engine import TraceCustomer, replay
from branchserve.sim.model import ArrivalStream, BusinessType, CounterPlan, OutletModel
from branchserve.sim.strategies import (
    REASON_TEMPLATES_ZH,
    Choice,
    CounterConfig,
    QueueLine,
    Reason,
    Strategy,
    StrategyState,
    Tier,
    WaitingTicket,
    bind,
    build_waiting,
    choose,
)

ORD, G, P, PB = Tier.ORDINARY, Tier.GOLD, Tier.PLATINUM, Tier.PRIVATE_BANKING


def ticket(id_, queue="A", tier=ORD, at=0.0, *, effective_at=None, **flags) -> WaitingTicket:
    return WaitingTicket(
        id_, queue, tier, at, at if effective_at is None else effective_at, **flags
    )


def pick(config: CounterConfig, tickets, now: float, state=None) -> Choice:
    choice = choose(config, build_waiting(tickets), now, state)
    assert choice is not None
    return choice


def test_module_doctests():
    assert doctest.testmod(strategies).failed == 0


# ---------------------------------------------------------------- strict priority


def test_strict_priority_follows_the_counters_queue_order_then_the_longest_wait():
    config = CounterConfig("1", ("B", "A"))
    tickets = [ticket(1, "A", at=0), ticket(2, "B", at=50), ticket(3, "B", at=20)]
    choice = pick(config, tickets, now=100)
    assert (choice.ticket_id, choice.rule, choice.reason_code) == (
        3,
        "strict_priority",
        "strict_order",
    )
    assert choice.params == {"queue": "B"}


def test_strict_priority_calls_higher_tiers_first_across_queues():
    config = CounterConfig("1", ("A", "B"))
    tickets = [ticket(1, "A", ORD, at=0), ticket(2, "B", G, at=60), ticket(3, "B", P, at=90)]
    choice = pick(config, tickets, now=100)
    assert (choice.ticket_id, choice.reason_code) == (3, "premium_priority")
    assert choice.params == {"queue": "B", "tier": "platinum"}


def test_strict_priority_without_tier_priority_is_queue_order_then_fifo():
    config = CounterConfig("1", ("A", "B"), tier_priority=False)
    tickets = [ticket(1, "A", ORD, at=30), ticket(2, "A", PB, at=40), ticket(3, "B", G, at=0)]
    assert pick(config, tickets, now=100).ticket_id == 1


def test_a_premium_ticket_that_is_also_the_longest_wait_is_plain_strict_order():
    config = CounterConfig("1", ("A",))
    choice = pick(config, [ticket(1, tier=G, at=0), ticket(2, at=10)], now=100)
    assert (choice.ticket_id, choice.reason_code) == (1, "strict_order")


def test_nothing_to_call():
    config = CounterConfig("1", ("A",))
    assert choose(config, {}, 10.0) is None
    assert choose(config, build_waiting([ticket(1, "B")]), 10.0) is None
    assert choose(config, {"A": QueueLine()}, 10.0) is None


# ---------------------------------------------------------------- ageing


def test_ageing_calls_a_ticket_past_the_cap_before_any_premium():
    config = CounterConfig("1", ("A",), strategy=Strategy.AGEING, ageing_cap_s=1800)
    tickets = [ticket(1, tier=ORD, at=0), ticket(2, tier=PB, at=1000)]
    assert pick(config, tickets, now=1799).ticket_id == 2
    choice = pick(config, tickets, now=1860)
    assert (choice.ticket_id, choice.rule, choice.reason_code) == (1, "ageing", "aged_past_cap")
    assert choice.params == {"waited_s": 1860, "waited_min": 31, "cap_s": 1800.0, "cap_min": 30}
    text = REASON_TEMPLATES_ZH[choice.reason_code].format(**choice.params)
    assert text == "该客户已等候 31 分钟，超过 30 分钟上限，优先呼叫"


def test_ageing_calls_the_longest_wait_first_among_aged_tickets_across_queues():
    config = CounterConfig("1", ("A", "B"), strategy="ageing", ageing_cap_s=600)
    tickets = [ticket(1, "A", G, at=300), ticket(2, "B", ORD, at=100), ticket(3, "A", ORD, at=200)]
    assert pick(config, tickets, now=1000).ticket_id == 2


def test_an_ageing_cap_works_with_other_strategies_too():
    config = CounterConfig("1", ("A", "B"), strategy="weighted_round_robin", ageing_cap_s=60)
    choice = pick(config, [ticket(1, "A", at=50), ticket(2, "B", at=0)], now=100)
    assert (choice.ticket_id, choice.reason_code) == (2, "aged_past_cap")


def test_ageing_measures_the_wait_from_the_effective_time():
    config = CounterConfig("1", ("A",), strategy="ageing", ageing_cap_s=600)
    moved = ticket(1, tier=ORD, at=0, effective_at=500)  # transferred at 500, at the back
    choice = pick(config, [moved, ticket(2, tier=G, at=450)], now=700)
    assert choice.ticket_id == 2


# ---------------------------------------------------------------- weighted round robin


def wrr_sequence(config, calls, state=None, persist=False):
    """Call ``calls`` times from queues that never run dry; optionally store the state as JSON
    between calls, as the live queue does."""
    state = state or StrategyState()
    tickets = [ticket(q + str(i), q, at=float(i)) for q in config.queues for i in range(80)]
    waiting = build_waiting(tickets)
    order = []
    for _ in range(calls):
        choice = choose(config, waiting, 100.0, state)
        assert choice is not None and choice.reason_code == "wrr_turn"
        waiting[choice.ticket.queue].remove(choice.ticket)
        order.append(choice.ticket.queue)
        if persist:
            state = StrategyState.from_dict(json.loads(json.dumps(state.to_dict())))
    return order


def test_weighted_round_robin_interleaves_by_weight():
    config = CounterConfig("1", ("A", "B"), strategy="weighted_round_robin", weights=(2, 1))
    assert wrr_sequence(config, 6) == ["A", "B", "A", "A", "B", "A"]
    config = CounterConfig("1", ("A", "B", "C"), strategy="weighted_round_robin", weights=(5, 1, 1))
    order = wrr_sequence(config, 70)
    assert (order.count("A"), order.count("B"), order.count("C")) == (50, 10, 10)
    assert "AAAA" not in "".join(order[:7])  # smooth: the heavy queue is spread out


def test_weighted_round_robin_state_survives_a_json_round_trip():
    config = CounterConfig("1", ("A", "B", "C"), strategy="weighted_round_robin", weights=(3, 2, 1))
    assert wrr_sequence(config, 30, persist=True) == wrr_sequence(config, 30)


def test_weighted_round_robin_skips_empty_queues_and_keeps_tier_priority_inside_a_queue():
    config = CounterConfig("1", ("A", "B"), strategy="weighted_round_robin", weights=(1, 5))
    tickets = [ticket(1, "A", ORD, at=0), ticket(2, "A", G, at=10)]
    choice = pick(config, tickets, now=20)
    assert (choice.ticket_id, choice.params) == (2, {"queue": "A", "weight": 1})


# ---------------------------------------------------------------- premium boost


BOOST = CounterConfig(
    "V", ("A",), strategy="premium_boost", tier_boost_s=(0, 300, 600, 900), fairness_cap_s=1800
)


def test_premium_boost_counts_premium_tickets_as_having_waited_longer():
    choice = pick(BOOST, [ticket(1, tier=ORD, at=0), ticket(2, tier=G, at=200)], now=400)
    assert (choice.ticket_id, choice.reason_code) == (2, "premium_boost")
    assert choice.params == {"tier": "gold", "boost_s": 300.0, "boost_min": 5, "waited_s": 200}


def test_premium_boost_is_only_a_head_start():
    choice = pick(BOOST, [ticket(1, tier=ORD, at=0), ticket(2, tier=G, at=350)], now=600)
    assert (choice.ticket_id, choice.reason_code) == (1, "longest_wait")


def test_premium_boost_is_bounded_by_the_fairness_cap():
    tickets = [ticket(1, tier=ORD, at=0), ticket(2, tier=PB, at=200)]
    assert pick(BOOST, tickets, now=1700).ticket_id == 2  # 1700 < 1500 + 900
    choice = pick(BOOST, tickets, now=1850)
    assert (choice.ticket_id, choice.reason_code) == (1, "fairness_cap")
    assert choice.params["cap_min"] == 30


# ---------------------------------------------------------------- flags


def test_transferred_to_the_front_beats_everything():
    config = CounterConfig("1", ("A", "B"), strategy="ageing", ageing_cap_s=60)
    tickets = [
        ticket(1, "A", ORD, at=0),
        ticket(2, "B", ORD, at=5, green_channel=True),
        ticket(3, "B", ORD, at=0, effective_at=90, front=True),
    ]
    choice = pick(config, tickets, now=100)
    assert (choice.ticket_id, choice.reason_code, choice.params) == (
        3,
        "transferred_front",
        {"queue": "B"},
    )


def test_green_channel_comes_before_aged_and_premium_tickets():
    config = CounterConfig("1", ("A",), strategy="ageing", ageing_cap_s=60)
    tickets = [
        ticket(1, tier=ORD, at=0),
        ticket(2, tier=PB, at=10),
        ticket(3, at=50, green_channel=True),
    ]
    choice = pick(config, tickets, now=100)
    assert (choice.ticket_id, choice.reason_code) == (3, "green_channel")


def test_appointments_come_after_aged_tickets_and_before_the_strategy():
    config = CounterConfig("1", ("A",), strategy="ageing", ageing_cap_s=600)
    tickets = [
        ticket(1, tier=ORD, at=0),
        ticket(2, tier=PB, at=10),
        ticket(3, at=50, appointment=True),
    ]
    assert pick(config, tickets, now=100).reason_code == "appointment"
    assert pick(config, tickets, now=700).ticket_id == 1


def test_flagged_tickets_of_queues_the_counter_does_not_serve_are_ignored():
    config = CounterConfig("1", ("A",))
    tickets = [ticket(1, "A", at=10), ticket(2, "B", at=0, green_channel=True)]
    assert pick(config, tickets, now=20).ticket_id == 1


# ---------------------------------------------------------------- the contract's data


def test_every_reason_has_a_template_filled_by_its_params():
    """Make each reason happen and render it: no template may need a key its params lack."""
    ageing = CounterConfig("1", ("A",), strategy="ageing", ageing_cap_s=60)
    cases = [
        (CounterConfig("1", ("A",)), [ticket(1, at=0, effective_at=5, front=True)], 10),
        (ageing, [ticket(1, at=0, green_channel=True)], 10),
        (ageing, [ticket(1, at=0)], 100),
        (ageing, [ticket(1, at=0, appointment=True)], 10),
        (CounterConfig("1", ("A",)), [ticket(1, at=0), ticket(2, tier=G, at=5)], 10),
        (CounterConfig("1", ("A",)), [ticket(1, at=0)], 10),
        (CounterConfig("1", ("A",), strategy="weighted_round_robin"), [ticket(1, at=0)], 10),
        (BOOST, [ticket(1, at=0), ticket(2, tier=G, at=5)], 10),
        (BOOST, [ticket(1, at=0)], 10),
        (BOOST, [ticket(1, at=0)], 2000),
    ]
    seen = set()
    for config, tickets, now in cases:
        choice = pick(config, tickets, now)
        text = REASON_TEMPLATES_ZH[choice.reason_code].format(**choice.params)
        assert text and "{" not in text
        json.dumps(choice.to_dict())
        seen.add(choice.reason_code)
    assert seen == {r.value for r in Reason} == set(REASON_TEMPLATES_ZH)


def test_value_types_round_trip_through_json():
    config = CounterConfig(
        "3", ["A", "B"], strategy="weighted_round_robin", weights=[2, 1], ageing_cap_s=1800
    )
    data = json.loads(json.dumps(config.to_dict()))
    assert CounterConfig.from_dict(data) == config
    assert data["strategy"] == "weighted_round_robin"
    t = ticket(7, "B", G, at=12.5, effective_at=30.0, green_channel=True)
    assert WaitingTicket.from_dict(json.loads(json.dumps(t.to_dict()))) == t
    assert t.to_dict()["tier"] == "gold"
    assert Tier.parse("private_banking") is PB and Tier.parse(2) is P and Tier.GOLD.key == "gold"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"queues": ()}, "serves no queue"),
        ({"queues": ("A", "A")}, "listed twice"),
        ({"weights": (1, 2)}, "one positive weight"),
        ({"weights": (0,)}, "one positive weight"),
        ({"strategy": "ageing"}, "needs ageing_cap_s"),
        ({"strategy": "fastest"}, "unknown strategy"),
        ({"ageing_cap_s": -1}, "must be >= 0"),
        ({"tier_boost_s": (0, -5)}, "non-negative boost"),
    ],
)
def test_bad_counter_configs_are_refused(kwargs, message):
    data = {"counter": "1", "queues": ("A",), **kwargs}
    with pytest.raises(ValueError, match=message):
        CounterConfig(**data)


def test_unknown_config_keys_are_refused():
    with pytest.raises(ValueError, match="unknown counter config keys"):
        CounterConfig.from_dict({"counter": "1", "queues": ["A"], "speed": 3})


def test_queue_lines_keep_call_order_and_count():
    line = QueueLine()
    first, second, late = ticket(1, at=10), ticket(2, at=30), ticket(3, at=50)
    for t in (first, second, late):
        line.add(t)
    back_in = ticket(4, at=20)  # a transfer placed by its original time
    green = ticket(5, at=40, green_channel=True)
    line.add(back_in)
    line.add(green)
    assert [t.id for t in line] == [5, 1, 4, 2, 3]
    assert len(line) == 5
    line.remove(back_in)
    line.remove(green)
    assert [t.id for t in line] == [1, 2, 3] and line.count == 3
    with pytest.raises(ValueError):
        line.remove(back_in)


# ---------------------------------------------------------------- properties

QUEUES = ("A", "B", "C")
tickets_strategy = st.lists(
    st.tuples(
        st.sampled_from(QUEUES),
        st.sampled_from(list(Tier)),
        st.integers(0, 3000),  # issued_at
        st.integers(0, 600),  # effective_at - issued_at (a transfer)
        st.sampled_from(["", "", "", "", "green", "appointment", "front"]),
    ),
    max_size=25,
)
config_strategy = st.builds(
    CounterConfig,
    counter=st.just("1"),
    queues=st.lists(st.sampled_from(QUEUES), min_size=1, max_size=3, unique=True).map(tuple),
    strategy=st.sampled_from([Strategy.STRICT_PRIORITY, Strategy.AGEING]),
    tier_priority=st.booleans(),
    ageing_cap_s=st.sampled_from([0.0, 600.0, 1800.0]),
)


@settings(max_examples=300, deadline=None, database=None)
@given(config=config_strategy, rows=tickets_strategy, now=st.integers(3600, 5000))
def test_the_fast_path_chooses_exactly_as_the_general_path(config, rows, now):
    tickets = [
        WaitingTicket(
            i,
            queue,
            tier,
            float(issued),
            float(issued + moved),
            green_channel=flag == "green",
            appointment=flag == "appointment",
            front=flag == "front",
        )
        for i, (queue, tier, issued, moved, flag) in enumerate(rows)
    ]
    waiting = build_waiting(tickets)
    fast = choose(config, waiting, float(now))
    general = strategies._choose_general(config, waiting, float(now), None)
    assert fast == general


@st.composite
def any_config(draw):
    queues = tuple(draw(st.lists(st.sampled_from(QUEUES), min_size=1, max_size=3, unique=True)))
    strategy = draw(st.sampled_from(list(Strategy)))
    cap = draw(st.sampled_from([None, 0.0, 600.0, 1800.0]))
    if strategy is Strategy.AGEING and cap is None:
        cap = 900.0
    return CounterConfig(
        "1",
        queues,
        strategy=strategy,
        weights=tuple(draw(st.integers(1, 4)) for _ in queues),
        tier_priority=draw(st.booleans()),
        ageing_cap_s=cap,
        tier_boost_s=tuple(draw(st.sampled_from([0.0, 300.0, 900.0])) for _ in Tier),
        fairness_cap_s=draw(st.sampled_from([None, 1200.0, 2400.0])),
    )


@settings(max_examples=300, deadline=None, database=None)
@given(
    config=any_config(),
    rows=tickets_strategy,
    now=st.integers(3600, 5000),
    credits=st.dictionaries(st.sampled_from(QUEUES), st.integers(-6, 6)),
)
def test_pick_bind_and_choose_decide_as_the_reference_call_after_call(config, rows, now, credits):
    """The simulator's ``bind(...)(now)`` and ``pick`` decide as ``choose``, and ``choose`` as
    the reference path, for every strategy — over a whole sequence of calls emptying the queue,
    with the bound function kept across calls as the simulator keeps it."""
    tickets = [
        WaitingTicket(
            i,
            queue,
            tier,
            float(issued),
            float(issued + moved),
            green_channel=flag == "green",
            appointment=flag == "appointment",
            front=flag == "front",
        )
        for i, (queue, tier, issued, moved, flag) in enumerate(rows)
    ]
    waiting = build_waiting(tickets)
    states = [StrategyState(dict(credits)) for _ in range(4)]
    bound = bind(config, waiting, states[0])
    for step in range(len(tickets) + 1):
        at = float(now + 60 * step)
        reference = strategies._choose_general(config, waiting, at, states[1])
        expected = None if reference is None else (reference.ticket, reference.reason_code)
        assert bound(at) == expected
        assert strategies.pick(config, waiting, at, states[2]) == expected
        assert choose(config, waiting, at, states[3]) == reference
        assert states[0] == states[1] == states[2] == states[3]
        if reference is None:
            break
        waiting[reference.ticket.queue].remove(reference.ticket)


def starvation_model(counters: int, cap_s: float, service_s: float) -> OutletModel:
    return OutletModel(
        name="starvation",
        slot_s=7200.0,
        business_types=(BusinessType("x", "A", Deterministic(service_s)),),
        arrivals=(ArrivalStream("x", Tier.ORDINARY, (0.0,)),),
        counters=tuple(
            CounterPlan(
                CounterConfig(str(k), ("A",), strategy=Strategy.AGEING, ageing_cap_s=cap_s),
                ((0.0, 7200.0),),
            )
            for k in range(counters)
        ),
    )


@settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    counters=st.integers(1, 3),
    ordinary=st.lists(st.floats(0, 3000, allow_nan=False), min_size=1, max_size=15),
    # Premium traffic as bursts: (start, customers, gap between them, tier) — from a trickle
    # to a flood far beyond what the counters can serve.
    bursts=st.lists(
        st.tuples(
            st.floats(0, 4000, allow_nan=False),
            st.integers(1, 120),
            st.floats(0, 120, allow_nan=False),
            st.sampled_from([G, P, PB]),
        ),
        max_size=4,
    ),
    services=st.lists(st.floats(1, 300, allow_nan=False), min_size=1, max_size=20),
)
def test_under_ageing_no_ticket_starves_whatever_premium_traffic_arrives(
    counters, ordinary, bursts, services
):
    """Once a ticket passes the cap, only the tickets already waiting before it can still go
    first: it is called within cap + S_max * (1 + N // c), N = those still waiting then. The
    premium traffic (any size, any time) is not in the bound."""
    cap = 600.0
    s_max = max(services)
    customers = [TraceCustomer(t, "x", services[j % len(services)]) for j, t in enumerate(ordinary)]
    premium = [(start + j * gap, tier) for start, count, gap, tier in bursts for j in range(count)]
    customers += [
        TraceCustomer(t, "x", services[(j + 7) % len(services)], tier=tier)
        for j, (t, tier) in enumerate(premium)
    ]
    day = replay(starvation_model(counters, cap, s_max), customers)
    arrival = day.arrival_s
    called = day.called_s
    assert not any(math.isnan(c) for c in called)  # everyone is served in the end
    index = np.arange(day.customers)
    for t in range(day.customers):
        aged_at = arrival[t] + cap
        # Ties in arrival time count as older (the tie-break may favour either).
        older = (arrival <= arrival[t]) & (index != t)
        older_still_waiting = int((older & (called > aged_at)).sum())
        bound = cap + s_max * (1 + older_still_waiting // counters)
        assert called[t] - arrival[t] <= bound + 1e-6


def test_strict_premium_priority_would_starve_the_same_ticket():
    """The property above fails without the cap: one ordinary ticket under a premium flood."""
    flood = [TraceCustomer(10.0 * j, "x", 15.0, tier=G) for j in range(600)]
    customers = [TraceCustomer(5.0, "x", 15.0), *flood]
    model = starvation_model(1, 600.0, 15.0)
    strict = replace(model, counters=(CounterPlan(CounterConfig("0", ("A",)), ((0.0, 7200.0),)),))
    day = replay(strict, customers)
    assert day.wait_s[day.tier == ORD][0] > 5000
    day = replay(model, customers)
    assert day.wait_s[day.tier == ORD][0] <= 600 + 15
