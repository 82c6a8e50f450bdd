"""The discrete-event engine: runs an :class:`~branchserve.sim.model.OutletModel`.

One replication is one day:

1. every random variate is drawn up front, in bulk, with NumPy — arrivals (a Poisson process
   with a constant rate per slot and stream), service times per business type, no-shows, the
   green channel, patience, transfers — in a fixed order from the replication's own generator.
   The draws do not depend on the counters or their strategies, so two runs with the same seed
   and different strategies see the same customers (common random numbers);
2. an event loop over a ``heapq`` of counter events (service ends, shifts opening and closing)
   merged with the sorted arrivals. Whenever a counter is free it asks the shared strategy
   module for its decision — :func:`branchserve.sim.strategies.pick`, bound once per counter
   with :func:`~branchserve.sim.strategies.bind`: the decision the live queue's
   :func:`~branchserve.sim.strategies.choose` makes, without building the reason's params
   that the simulator does not keep — on the waiting tickets, kept as
   :class:`~branchserve.sim.strategies.QueueLine` objects. A free counter takes an arriving
   ticket at once (the longest-idle counter serving that queue).

Abandonment is exact but lazy: a customer leaves at ``arrival + patience`` if not called by
then; since ``choose`` only reads the heads of the lanes, expired tickets are removed from the
heads just before each call instead of through one event per customer.

Replications are independent: ``simulate(model, n, seed)`` gives replication ``r`` the
generator of ``SeedSequence(seed).spawn(n)[r]``, so a seed always reproduces the same results,
and the first replications of a longer run are those of a shorter one.

>>> from branchserve.sim.distributions import Exponential
>>> from branchserve.sim.model import OutletModel
>>> model = OutletModel.stationary(1 / 60, Exponential(240.0), counters=5, horizon_s=8 * 3600)
>>> a, b = simulate(model, 3, seed=7), simulate(model, 3, seed=7)
>>> [r.metrics()["wait_mean_s|all"] for r in a.replications] == [
...     r.metrics()["wait_mean_s|all"] for r in b.replications]
True
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from heapq import heappop, heappush
from itertools import repeat
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from branchserve.sim.model import OutletModel
from branchserve.sim.results import Replication, Results
from branchserve.sim.strategies import (
    CounterConfig,
    QueueLine,
    StrategyState,
    Tier,
    WaitingTicket,
    bind,
)

__all__ = ["TraceCustomer", "replay", "replication_rng", "run_replication", "simulate"]

_INF = math.inf
_NAN = math.nan
_OFF, _IDLE, _BUSY = 0, 1, 2
_TIERS = tuple(Tier)
T = TypeVar("T")


def simulate(model: OutletModel, replications: int = 1, seed: int = 0) -> Results:
    """Run ``replications`` independent days of ``model``."""
    if replications < 1:
        raise ValueError("replications must be at least 1")
    runs = tuple(run_replication(model, replication_rng(seed, r), r) for r in range(replications))
    return Results(model, seed, runs)


def replication_rng(seed: int, replication: int) -> np.random.Generator:
    """The generator of replication ``replication``: ``SeedSequence(seed).spawn(n)[replication]``
    for any ``n`` greater than ``replication``."""
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(replication,)))
    )


@dataclass(slots=True)
class _Draws:
    """Every random variate of one replication, in arrival order."""

    n: int
    arrival_s: npt.NDArray[np.float64]
    business: npt.NDArray[np.int64]
    tier: npt.NDArray[np.int64]
    appointment: npt.NDArray[np.bool_]
    service_s: npt.NDArray[np.float64]
    no_show: npt.NDArray[np.bool_] | None
    green_channel: npt.NDArray[np.bool_] | None
    deadline_s: npt.NDArray[np.float64] | None
    transfer_to: npt.NDArray[np.int64] | None
    service2_s: npt.NDArray[np.float64] | None


def _draw(model: OutletModel, rng: np.random.Generator) -> _Draws:
    streams = model.arrivals
    slots = model.slots
    businesses = model.business_types
    index = {b.code: i for i, b in enumerate(businesses)}

    # Arrivals: a Poisson number per (slot, stream), spread uniformly over the slot. Drawn
    # slot by slot, so the stable sort below only reorders within each slot.
    expected = np.array([s.per_slot for s in streams], dtype=np.float64).T.reshape(-1)
    counts = rng.poisson(expected)
    n = int(counts.sum())
    cells = np.arange(slots * len(streams))
    slot = np.repeat(cells // len(streams), counts)
    stream = np.repeat(cells % len(streams), counts)
    arrival = (slot + rng.random(n)) * model.slot_s
    order = np.argsort(arrival, kind="stable")
    arrival = arrival[order]
    stream = stream[order]
    business = np.array([index[s.business] for s in streams], dtype=np.int64)[stream]
    tier = np.array([int(s.tier) for s in streams], dtype=np.int64)[stream]
    appointment = np.array([s.appointment for s in streams], dtype=np.bool_)[stream]

    if len(businesses) == 1:
        service = businesses[0].service.sample(rng, n)
    else:
        service = np.empty(n)
        for b, business_type in enumerate(businesses):
            members = np.flatnonzero(business == b)
            service[members] = business_type.service.sample(rng, members.size)

    no_show = rng.random(n) < model.no_show_prob if model.no_show_prob > 0 else None
    green = None
    if model.green_channel_prob > 0:
        green = (rng.random(n) < model.green_channel_prob) & ~appointment
    deadline = None
    if model.patience is not None:
        deadline = arrival + model.patience.sample(rng, n)

    transfer_to = service2 = None
    if any(b.transfer is not None and b.transfer.prob > 0 for b in businesses):
        transfer_to = np.full(n, -1, dtype=np.int64)
        service2 = np.full(n, np.nan)
        for b, business_type in enumerate(businesses):
            transfer = business_type.transfer
            if transfer is None or transfer.prob <= 0:
                continue
            members = np.flatnonzero(business == b)
            moving = members[rng.random(members.size) < transfer.prob]
            target = index[transfer.to]
            transfer_to[moving] = target
            service2[moving] = businesses[target].service.sample(rng, moving.size)

    return _Draws(
        n,
        arrival,
        business,
        tier,
        appointment,
        service,
        no_show,
        green,
        deadline,
        transfer_to,
        service2,
    )


@dataclass(frozen=True, slots=True)
class TraceCustomer:
    """A customer given rather than drawn: an outlet's real day, or a hand-made scenario."""

    arrival_s: float
    business: str
    service_s: float
    tier: Tier = Tier.ORDINARY
    patience_s: float = math.inf
    green_channel: bool = False
    appointment: bool = False
    no_show: bool = False


def replay(model: OutletModel, customers: Sequence[TraceCustomer], index: int = 0) -> Replication:
    """Run ``model``'s counters and strategies on exactly these customers (no randomness).

    For comparing call strategies on an outlet's own tickets. The model's arrival streams,
    service distributions, no-show and green-channel shares are ignored; transfers are not
    replayed. Customers are numbered in arrival order (ties keep the given order).
    """
    codes = {b.code: i for i, b in enumerate(model.business_types)}
    order = sorted(range(len(customers)), key=lambda j: customers[j].arrival_s)
    rows = [customers[j] for j in order]
    n = len(rows)
    unknown = {c.business for c in rows} - set(codes)
    if unknown:
        raise ValueError(f"unknown business types {sorted(unknown)}")
    arrival = np.array([c.arrival_s for c in rows], dtype=np.float64)
    patience = np.array([c.patience_s for c in rows], dtype=np.float64)
    green = np.array([c.green_channel for c in rows], dtype=np.bool_)
    no_show = np.array([c.no_show for c in rows], dtype=np.bool_)
    draws = _Draws(
        n=n,
        arrival_s=arrival,
        business=np.array([codes[c.business] for c in rows], dtype=np.int64),
        tier=np.array([int(c.tier) for c in rows], dtype=np.int64),
        appointment=np.array([c.appointment for c in rows], dtype=np.bool_),
        service_s=np.array([c.service_s for c in rows], dtype=np.float64),
        no_show=no_show if no_show.any() else None,
        green_channel=green if green.any() else None,
        deadline_s=arrival + patience if np.isfinite(patience).any() else None,
        transfer_to=None,
        service2_s=None,
    )
    return _run(model, draws, index)


def run_replication(model: OutletModel, rng: np.random.Generator, index: int = 0) -> Replication:
    """Simulate one day of ``model`` with the generator ``rng``."""
    draws = _draw(model, rng)
    return _run(model, draws, index)


def _take(objects: Sequence[T], index: npt.NDArray[np.int64]) -> list[T]:
    """``[objects[i] for i in index]``, at NumPy speed."""
    table = np.empty(len(objects), dtype=object)
    for position, item in enumerate(objects):
        table[position] = item  # one by one: NumPy must not unpack sequences (deques)
    result: list[T] = table[index].tolist()
    return result


def _purge(line: QueueLine, now: float, deadline: list[float], abandoned: bytearray) -> None:
    """Drop the tickets at the heads of ``line`` whose customers have left by ``now``."""
    for lane in line.lanes:
        while lane and deadline[lane[0].id] <= now:  # type: ignore[index]
            abandoned[lane.popleft().id] = 1  # type: ignore[index]
            line.count -= 1
    if line.flagged:
        for ticket in [t for t in line.flagged if deadline[t.id] <= now]:  # type: ignore[index]
            line.flagged.remove(ticket)
            line.count -= 1
            abandoned[ticket.id] = 1  # type: ignore[index]


def _run(model: OutletModel, d: _Draws, index: int) -> Replication:
    n = d.n
    businesses = model.business_types
    plans = model.counters
    n_counters = len(plans)
    close_s = model.close_s
    assert close_s is not None

    # ---- queues and counters
    configs: list[CounterConfig] = [p.config for p in plans]
    states = [StrategyState() for _ in plans]
    serves = [frozenset(c.queues) for c in configs]
    lines: dict[str, QueueLine] = {}
    for config in configs:
        for code in config.queues:
            lines.setdefault(code, QueueLine())
    for business in businesses:
        lines.setdefault(business.queue, QueueLine())
    lines_of = [[lines[code] for code in config.queues] for config in configs]

    # ---- per-customer inputs as Python lists (fast scalar access in the loop)
    arrival = d.arrival_s.tolist()
    at = [*arrival, _INF]  # the sentinel ends the arrivals
    no_show = d.no_show
    duration = (
        np.where(no_show, model.no_show_s, d.service_s) if no_show is not None else d.service_s
    ).tolist()
    business_list = d.business.tolist()
    tiers = _take(_TIERS, d.tier)
    if len(businesses) == 1:  # one queue: no per-customer lookup of the line
        only = lines[businesses[0].queue]
        line_of = [only] * n
        lane_of = _take(only.lanes, d.tier)
        queue_of: Iterable[str] = repeat(businesses[0].queue)
    else:
        line_of = _take([lines[b.queue] for b in businesses], d.business)
        lane_of = _take(
            [lines[b.queue].lanes[t] for b in businesses for t in range(len(_TIERS))],
            d.business * len(_TIERS) + d.tier,
        )
        queue_of = _take([b.queue for b in businesses], d.business)
    flagged: list[bool] | None = None
    if d.green_channel is not None or d.appointment.any():
        either = d.appointment if d.green_channel is None else d.appointment | d.green_channel
        flagged = either.tolist()
    # WaitingTicket is a NamedTuple: built straight from the zipped tuples, in C.
    tickets = list(
        map(
            tuple.__new__,
            repeat(WaitingTicket),
            zip(
                range(n),
                queue_of,
                tiers,
                arrival,
                arrival,
                d.green_channel.tolist() if d.green_channel is not None else repeat(False),
                d.appointment.tolist() if flagged is not None else repeat(False),
                repeat(False),
            ),
        )
    )
    deadline = d.deadline_s.tolist() if d.deadline_s is not None else None
    abandoned = bytearray(n)
    transfer_to = d.transfer_to.tolist() if d.transfer_to is not None else None
    service2 = d.service2_s.tolist() if d.service2_s is not None else None
    placement = [b.transfer.placement if b.transfer else "back" for b in businesses]
    business_of = business_list

    # ---- outputs written in the loop; everything else is derived afterwards with NumPy
    called = [_NAN] * n
    counter_of = [-1] * n
    reason: list[str | None] = [None] * n
    called2 = [_NAN] * n
    counter2 = [-1] * n
    in_second = [False] * n if transfer_to is not None else []

    # ---- counter state
    status = [_OFF] * n_counters
    stopping = [False] * n_counters
    serving = [-1] * n_counters  # kept only for transfers
    second = [False] * n_counters
    idle: list[int] = []  # longest idle first
    # Each counter decides through the shared strategy module: bind(...)(now) is
    # strategies.pick(config, lines, now, state), the decision of strategies.choose.
    pickers = [bind(config, lines, state) for config, state in zip(configs, states, strict=True)]
    # Every counter serves every queue (the usual single-queue model): an arriving ticket
    # goes to the longest-idle counter without looking at the queues.
    serve_all = all(s.issuperset(lines) for s in serves)

    # Event codes in the heap, (time, code): a service end of counter k is k; a wake-up of idle
    # counter k (a transfer arrived for it) is n_counters + k; shift change j of `schedule` is
    # -1 - j (negative: first at equal times, so a counter never calls at the very end of its
    # shift); `end` (at infinity) closes the day after every other event.
    heap: list[tuple[float, int]] = []
    schedule: list[tuple[int, bool]] = []
    open_s = [0.0] * n_counters
    stays_open = [False] * n_counters
    for k, plan in enumerate(plans):
        for start, end in plan.shifts:
            open_s[k] += end - start
            schedule.append((k, True))
            heappush(heap, (start, -len(schedule)))
            if model.serve_after_close and end >= close_s:
                stays_open[k] = True  # serves whoever is still waiting, then stops
            else:
                schedule.append((k, False))
                heappush(heap, (end, -len(schedule)))
    end_code = 2 * n_counters
    heappush(heap, (_INF, end_code))

    # One loop merges the sorted arrivals (`at`, ending with infinity) with the heap of counter
    # events. Every path that frees a counter k at time `now` falls through to the call block
    # at the bottom (written once, inline: this loop runs per customer, and every statement in
    # it shows in the speed).
    has_flags = flagged is not None
    has_transfers = transfer_to is not None
    pop, push = heappop, heappush  # local names are the cheapest lookups
    now = 0.0
    k = 0
    i = 0
    while True:
        if heap[0][0] <= at[i]:
            now, k = pop(heap)
            if k >= n_counters:
                if k == end_code:
                    break
                k -= n_counters  # wake up idle counter k
                if status[k] != _IDLE:
                    continue
                idle.remove(k)
                status[k] = _BUSY
            elif k < 0:  # a shift starts or ends
                k, opening = schedule[-1 - k]
                if not opening:
                    if status[k] == _IDLE:
                        idle.remove(k)
                        status[k] = _OFF
                    elif status[k] == _BUSY:
                        stopping[k] = True
                    continue
                if stopping[k]:  # reopening before the last service of the shift ended
                    stopping[k] = False
                    continue
                if status[k] != _OFF:
                    continue
                status[k] = _BUSY
            else:  # counter k finished a service
                if has_transfers and not second[k]:
                    c = serving[k]
                    if transfer_to[c] >= 0 and not (no_show is not None and no_show[c]):  # type: ignore[index]
                        target = businesses[transfer_to[c]].queue  # type: ignore[index]
                        where = placement[business_of[c]]
                        in_second[c] = True
                        if deadline is not None:
                            deadline[c] = _INF
                        lines[target].add(
                            WaitingTicket(
                                c,
                                target,
                                tiers[c],
                                arrival[c],
                                arrival[c] if where == "original" else now,
                                front=where == "front",
                            )
                        )
                        for other in idle:
                            if target in serves[other]:
                                push(heap, (now, n_counters + other))
                                break
                if stopping[k]:
                    stopping[k] = False
                    status[k] = _OFF
                    continue
        else:  # a customer takes a ticket
            ticket = tickets[i]
            if has_flags and flagged[i]:  # type: ignore[index]
                line_of[i].add(ticket)
            else:
                lane_of[i].append(ticket)
                line_of[i].count += 1
            i += 1
            if not idle:
                continue
            if serve_all:
                k = idle.pop(0)
            else:
                queue = ticket[1]
                for k in idle:
                    if queue in serves[k]:
                        break
                else:
                    continue
                idle.remove(k)
            status[k] = _BUSY
            now = at[i - 1]

        # ---- counter k is free at `now`: it calls the strategy's choice, or goes idle if
        # nothing it serves is waiting (or all of it has left).
        if deadline is not None:
            for line in lines_of[k]:
                if line.count:
                    _purge(line, now, deadline, abandoned)
        picked = pickers[k](now)
        if picked is None:
            status[k] = _IDLE
            idle.append(k)
            continue
        ticket, why = picked
        c = ticket[0]  # type: ignore[assignment]  # the engine numbers its tickets
        lane = lane_of[c]
        if lane and lane[0] is ticket:  # the usual case: the head of its arrival lane
            lane.popleft()
            line_of[c].count -= 1
        else:  # flagged, transferred, or behind a transfer placed by original time
            lines[ticket[1]].remove(ticket)
        if has_transfers:
            serving[k] = c
            second[k] = in_second[c]
            if in_second[c]:
                called2[c] = now
                counter2[c] = k
                push(heap, (now + service2[c], k))  # type: ignore[index]
                continue
        called[c] = now
        counter_of[c] = k
        reason[c] = why
        push(heap, (now + duration[c], k))

    return Replication(
        index=index,
        model=model,
        arrival_s=d.arrival_s,
        business=d.business,
        tier=d.tier,
        appointment=d.appointment,
        drawn_service_s=d.service_s,
        drawn_green_channel=d.green_channel,
        drawn_no_show=d.no_show,
        drawn_deadline_s=d.deadline_s,
        drawn_transfer_to=d.transfer_to,
        drawn_service2_s=d.service2_s,
        first_call=called,
        first_counter=counter_of,
        first_reason=reason,
        abandoned=abandoned,
        still_waiting=tuple(
            t.id  # type: ignore[misc]
            for line in lines.values()
            if line.count
            for t in line
            if not (has_transfers and in_second[t.id])  # type: ignore[index]
        ),
        second_call=called2,
        second_counter=counter2,
        shift_s=open_s,
        stays_open=stays_open,
    )
