"""Call strategies: which waiting ticket a counter calls next, and why.

This module is the contract shared by the live queue (``branchserve.queueing``) and the
simulator (``branchserve.sim.engine``): both call :func:`choose` unchanged, so a what-if run in
the strategy lab applies exactly the rules an outlet runs. It imports nothing outside the
standard library (no Django, no NumPy).

The contract
============

Times are seconds since the outlet opened (floats). Identifiers are English; Chinese belongs to
the UI (:data:`REASON_TEMPLATES_ZH` is offered as plain data for it).

:class:`WaitingTicket`
    One waiting ticket: ``id`` (opaque to this module), ``queue`` (the queue code, e.g. ``"A"``),
    ``tier`` (:class:`Tier`), ``issued_at``, ``effective_at`` and the priority flags
    ``green_channel`` (绿色通道: elderly and disabled customers), ``appointment`` (an appointment
    or remote check-in whose time has come) and ``front`` (transferred and placed first).
    ``effective_at`` is the time the ticket queues from: the issue time, or after a transfer the
    transfer time ("at the back") or the original issue time ("by original time"). Waits are
    measured from ``effective_at``.

:class:`QueueLine`
    The waiting tickets of one queue, kept the way :func:`choose` reads them: one FIFO lane per
    tier, ordered by ``effective_at``, plus a short ``flagged`` list for the rare tickets with a
    priority flag. ``waiting`` is a mapping from queue code to ``QueueLine``. The live queue builds
    it with :func:`build_waiting` from the rows it has just locked; the simulator keeps one and
    updates it in place. ``choose`` reads only the head of each lane and the flagged tickets, so a
    call costs the same with 3 or 3,000 tickets waiting.

:class:`CounterConfig`
    How one counter calls: the queues it serves, in order, their weights, the strategy and its
    parameters. Built once per configuration change, serialisable with ``to_dict``/``from_dict``.

:class:`StrategyState`
    Per-counter memory between calls (the weighted round-robin credits). ``choose`` updates it
    in place when it returns a choice; the caller stores ``state.to_dict()`` in the same
    transaction as the call (the live queue) or keeps the object (the simulator).

:func:`choose` ``(config, waiting, now, state) -> Choice | None``
    Returns ``None`` when nothing this counter serves is waiting, else a :class:`Choice`:
    ``ticket_id``, ``rule`` (the counter's strategy), ``reason_code`` (a stable identifier from
    :class:`Reason`), ``params`` (a small JSON-ready dict explaining the reason, e.g.
    ``{"waited_s": 1860, "waited_min": 31, "cap_s": 1800.0, "cap_min": 30}``) and ``ticket``
    (the chosen :class:`WaitingTicket`; not part of the stored record). ``choose`` never removes
    the ticket from ``waiting``: the caller does (``QueueLine.remove``), after it has committed
    the call. It is deterministic: the same arguments give the same choice.

The rules, in order
===================

Only tickets in the counter's ``queues`` are considered.

1. ``transferred_front`` — a ticket transferred "to the front" of a queue this counter serves is
   called first (earliest transfer first).
2. ``green_channel`` — then green-channel tickets (longest wait first).
3. ``aged_past_cap`` — when the counter has an ageing cap (strategy ``ageing``, or
   ``ageing_cap_s`` set on any strategy), a ticket that has waited at least the cap is called
   next, longest wait first ("finally call by longest wait"). No later arrival of any tier can
   then overtake it, so nobody starves: once past the cap a ticket is called after at most the
   tickets that were already waiting before it — with ``c`` counters, within
   ``cap + S_max * (1 + N // c)`` of its effective time, ``N`` those older tickets still waiting
   and ``S_max`` the longest service (a property test checks this under any premium traffic).
4. ``appointment`` — then appointments that have checked in (longest wait first).
5. The strategy itself:

   ``strict_priority``
       Higher tiers first (unless ``tier_priority`` is off), then the counter's queue order, then
       the longest wait. Reason ``premium_priority`` when the ticket that has waited longest has
       a lower tier than the one called, ``strict_order`` otherwise.
   ``ageing``
       ``strict_priority`` with rule 3 switched on (``ageing_cap_s`` is required).
   ``weighted_round_robin``
       Smooth weighted round robin between the counter's queues that have tickets (weights
       ``weights``, one per queue); within the queue, higher tiers first (unless
       ``tier_priority`` is off) then the longest wait. Reason ``wrr_turn``.
   ``premium_boost``
       The longest wait wins, premium tickets counting as if they had waited ``tier_boost_s[tier]``
       seconds longer, bounded by a fairness cap: once any ticket has waited
       ``fairness_cap_s`` it is called regardless of boosts (reason ``fairness_cap``). Reason
       ``premium_boost`` when a boost decided, ``longest_wait`` otherwise.

Ties are broken by the counter's queue order, then by lane order (lower tier lanes first when the
key is equal), which is deterministic.

Example::

    >>> config = CounterConfig("1", queues=("A",), strategy=Strategy.AGEING, ageing_cap_s=1800)
    >>> waiting = build_waiting([
    ...     WaitingTicket(1, "A", Tier.ORDINARY, 0.0, 0.0),
    ...     WaitingTicket(2, "A", Tier.GOLD, 600.0, 600.0),
    ... ])
    >>> choose(config, waiting, 1000.0).reason_code
    'premium_priority'
    >>> c = choose(config, waiting, 1900.0)
    >>> c.ticket_id, c.reason_code, c.params["waited_min"], c.params["cap_min"]
    (1, 'aged_past_cap', 31, 30)
    >>> REASON_TEMPLATES_ZH[c.reason_code].format(**c.params)
    '该客户已等候 31 分钟，超过 30 分钟上限，优先呼叫'

Why ``NamedTuple`` for the two per-call value types
---------------------------------------------------

:class:`WaitingTicket` and :class:`Choice` are created once per customer in the simulator
(hundreds of thousands per second). On the reference machine a frozen slotted dataclass costs
about 1.1 µs to build, a ``NamedTuple`` about 0.2 µs — at 2 µs per simulated customer in all,
the difference is the simulator's speed target (issue #5). Both are immutable, typed and
hashable; the configuration types, built rarely, are frozen slotted dataclasses.

The live queue's side of the contract
-------------------------------------

Lock the outlet's queue (e.g. its row), read the uncalled tickets of the counter's queues,
``build_waiting`` them, ``choose``, write the call with ``choice.to_dict()`` and the counter's
``state.to_dict()``, commit. The same rows, configuration, state and time give the same choice
as the simulator's (tested by replaying a simulated day call by call).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from functools import partial
from typing import Any, NamedTuple

__all__ = [
    "REASON_TEMPLATES_ZH",
    "Choice",
    "CounterConfig",
    "Picked",
    "QueueLine",
    "Reason",
    "Strategy",
    "StrategyState",
    "TicketId",
    "Tier",
    "WaitingTicket",
    "bind",
    "build_waiting",
    "choose",
    "explain",
    "pick",
]

TicketId = int | str


class Tier(IntEnum):
    """Customer tiers, in increasing precedence. ``tier.key`` is the stable string form."""

    ORDINARY = 0
    GOLD = 1
    PLATINUM = 2
    PRIVATE_BANKING = 3

    @property
    def key(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str | int) -> Tier:
        """``Tier.parse("gold")``, ``Tier.parse(1)`` and ``Tier.parse(Tier.GOLD)`` all work."""
        if isinstance(value, str):
            try:
                return cls[value.strip().upper()]
            except KeyError:
                raise ValueError(f"unknown tier {value!r}") from None
        return cls(value)


TIER_KEYS: tuple[str, ...] = tuple(t.key for t in Tier)
_TIERS: tuple[Tier, ...] = tuple(Tier)


class Strategy(StrEnum):
    STRICT_PRIORITY = "strict_priority"
    WEIGHTED_ROUND_ROBIN = "weighted_round_robin"
    AGEING = "ageing"
    PREMIUM_BOOST = "premium_boost"


class Reason(StrEnum):
    """Stable reason codes stored with every call."""

    TRANSFERRED_FRONT = "transferred_front"
    GREEN_CHANNEL = "green_channel"
    AGED_PAST_CAP = "aged_past_cap"
    APPOINTMENT = "appointment"
    PREMIUM_PRIORITY = "premium_priority"
    STRICT_ORDER = "strict_order"
    WRR_TURN = "wrr_turn"
    PREMIUM_BOOST = "premium_boost"
    LONGEST_WAIT = "longest_wait"
    FAIRNESS_CAP = "fairness_cap"


# Plain data for the UI: ``REASON_TEMPLATES_ZH[c.reason_code].format(**c.params)``. Every
# placeholder is a key that ``choose`` puts in ``params`` for that reason (tested).
REASON_TEMPLATES_ZH: dict[str, str] = {
    Reason.TRANSFERRED_FRONT: "转移客户，排在 {queue} 队列首位",
    Reason.GREEN_CHANNEL: "绿色通道客户优先呼叫，已等候 {waited_min} 分钟",
    Reason.AGED_PAST_CAP: "该客户已等候 {waited_min} 分钟，超过 {cap_min} 分钟上限，优先呼叫",
    Reason.APPOINTMENT: "预约客户已到，优先呼叫",
    Reason.PREMIUM_PRIORITY: "中高端客户优先呼叫",
    Reason.STRICT_ORDER: "按本窗口服务顺序呼叫 {queue} 队列",
    Reason.WRR_TURN: "按权重轮到 {queue} 队列",
    Reason.PREMIUM_BOOST: "中高端客户等候时间加权 {boost_min} 分钟后最久，优先呼叫",
    Reason.LONGEST_WAIT: "等候最久，已等候 {waited_min} 分钟",
    Reason.FAIRNESS_CAP: "该客户已等候 {waited_min} 分钟，达到 {cap_min} 分钟公平上限，优先呼叫",
}


class WaitingTicket(NamedTuple):
    """A ticket waiting to be called. Immutable; see the module docstring for the fields."""

    id: TicketId
    queue: str
    tier: Tier
    issued_at: float
    effective_at: float
    green_channel: bool = False
    appointment: bool = False
    front: bool = False

    @property
    def flagged(self) -> bool:
        """True for tickets kept in :attr:`QueueLine.flagged` (any priority flag)."""
        return self.front or self.green_channel or self.appointment

    def to_dict(self) -> dict[str, Any]:
        data = self._asdict()
        data["tier"] = TIER_KEYS[self.tier]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WaitingTicket:
        issued_at = float(data["issued_at"])
        return cls(
            id=data["id"],
            queue=str(data["queue"]),
            tier=Tier.parse(data.get("tier", 0)),
            issued_at=issued_at,
            effective_at=float(data.get("effective_at", issued_at)),
            green_channel=bool(data.get("green_channel", False)),
            appointment=bool(data.get("appointment", False)),
            front=bool(data.get("front", False)),
        )


class Choice(NamedTuple):
    """The ticket a counter calls and why. Store ``to_dict()`` with the call event."""

    ticket_id: TicketId
    rule: str
    reason_code: str
    params: dict[str, Any]
    ticket: WaitingTicket

    def to_dict(self) -> dict[str, Any]:
        return {
            "ticket_id": self.ticket_id,
            "rule": str(self.rule),
            "reason_code": str(self.reason_code),
            "params": dict(self.params),
        }


def _default_boosts() -> tuple[float, ...]:
    return (0.0, 300.0, 600.0, 900.0)


_STRATEGY_BY_VALUE: dict[str, Strategy] = {s.value: s for s in Strategy}
_AGEING_ = Strategy.AGEING
_STRICT_ = Strategy.STRICT_PRIORITY


@dataclass(frozen=True, slots=True)
class CounterConfig:
    """How one counter calls tickets.

    ``queues``: the queue codes it serves, in order of precedence. ``weights``: one positive
    integer per queue for weighted round robin (default all 1). ``tier_priority``: whether higher
    tiers go first in ``strict_priority``/``ageing``/``weighted_round_robin``. ``ageing_cap_s``:
    the ageing cap (required by ``ageing``, optional for the others). ``tier_boost_s``: seconds
    of credit per tier for ``premium_boost`` (index = tier). ``fairness_cap_s``: the boost's
    fairness cap (``None`` = unbounded).
    """

    counter: str
    queues: tuple[str, ...]
    strategy: Strategy = Strategy.STRICT_PRIORITY
    weights: tuple[int, ...] = ()
    tier_priority: bool = True
    ageing_cap_s: float | None = None
    tier_boost_s: tuple[float, ...] = field(default_factory=_default_boosts)
    fairness_cap_s: float | None = 1800.0

    # The one queue of a single-queue strict-priority or ageing counter (choose's fastest
    # path), else None.
    _single: str | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Normalise, so that configs built from JSON (lists, strings) behave the same. Cheap:
        # the strategy lab builds every counter of a model for each replication.
        set_ = object.__setattr__
        counter = self.counter
        queues = self.queues
        if type(queues) is not tuple or any(type(q) is not str for q in queues):
            queues = tuple(str(q) for q in queues)
            set_(self, "queues", queues)
        strategy = _STRATEGY_BY_VALUE.get(self.strategy)
        if strategy is None:
            raise ValueError(f"counter {counter}: unknown strategy {self.strategy!r}")
        set_(self, "strategy", strategy)
        weights = self.weights
        if not weights:
            weights = (1,) * len(queues)
        elif type(weights) is not tuple or any(type(w) is not int for w in weights):
            weights = tuple(int(w) for w in weights)
        set_(self, "weights", weights)
        boosts = self.tier_boost_s
        if type(boosts) is not tuple or len(boosts) != len(_TIERS):
            boosts = tuple(float(b) for b in boosts)
            boosts += (boosts[-1] if boosts else 0.0,) * (len(_TIERS) - len(boosts))
            set_(self, "tier_boost_s", boosts)
        set_(self, "tier_priority", bool(self.tier_priority))
        if not queues:
            raise ValueError(f"counter {counter}: serves no queue")
        if len(set(queues)) != len(queues):
            raise ValueError(f"counter {counter}: a queue is listed twice")
        if len(weights) != len(queues) or min(weights) < 1:
            raise ValueError(f"counter {counter}: one positive weight per queue")
        if len(boosts) != len(_TIERS) or min(boosts) < 0:
            raise ValueError(f"counter {counter}: one non-negative boost per tier")
        if strategy is _AGEING_ and self.ageing_cap_s is None:
            raise ValueError(f"counter {counter}: the ageing strategy needs ageing_cap_s")
        for name, value in (
            ("ageing_cap_s", self.ageing_cap_s),
            ("fairness_cap_s", self.fairness_cap_s),
        ):
            if value is not None:
                if not value >= 0:
                    raise ValueError(f"counter {counter}: {name} must be >= 0")
                set_(self, name, float(value))
        fast = strategy is _STRICT_ or strategy is _AGEING_
        set_(self, "_single", queues[0] if fast and len(queues) == 1 else None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "counter": self.counter,
            "queues": list(self.queues),
            "strategy": str(self.strategy),
            "weights": list(self.weights),
            "tier_priority": self.tier_priority,
            "ageing_cap_s": self.ageing_cap_s,
            "tier_boost_s": list(self.tier_boost_s),
            "fairness_cap_s": self.fairness_cap_s,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CounterConfig:
        known = {
            "counter",
            "queues",
            "strategy",
            "weights",
            "tier_priority",
            "ageing_cap_s",
            "tier_boost_s",
            "fairness_cap_s",
        }
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown counter config keys: {sorted(unknown)}")
        kwargs: dict[str, Any] = {k: v for k, v in data.items() if k != "counter"}
        if "queues" in kwargs:
            kwargs["queues"] = tuple(kwargs["queues"])
        return cls(counter=str(data["counter"]), **kwargs)


@dataclass(slots=True)
class StrategyState:
    """What a counter remembers between calls: the round-robin credit of each queue."""

    credits: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"credits": dict(self.credits)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> StrategyState:
        if not data:
            return cls()
        return cls(credits={str(k): int(v) for k, v in data.get("credits", {}).items()})


class QueueLine:
    """The waiting tickets of one queue: a FIFO lane per tier plus the flagged few.

    ``lanes[tier]`` holds the unflagged tickets of that tier ordered by ``effective_at`` (ties
    keep insertion order); ``flagged`` holds tickets with a priority flag in insertion order;
    ``count`` is the total. Use :meth:`add` and :meth:`remove`; the simulator may also
    ``popleft()`` a lane head directly provided it decrements ``count``.
    """

    __slots__ = ("count", "flagged", "lanes")

    def __init__(self, tickets: Iterable[WaitingTicket] = ()) -> None:
        self.lanes: tuple[deque[WaitingTicket], ...] = tuple(deque() for _ in _TIERS)
        self.flagged: list[WaitingTicket] = []
        self.count = 0
        for ticket in tickets:
            self.add(ticket)

    def add(self, ticket: WaitingTicket) -> None:
        self.count += 1
        if ticket.front or ticket.green_channel or ticket.appointment:
            self.flagged.append(ticket)
            return
        lane = self.lanes[ticket.tier]
        if not lane or lane[-1].effective_at <= ticket.effective_at:
            lane.append(ticket)
            return
        # Rare (a transfer placed by original time): insert after the last earlier-or-equal one.
        index = len(lane)
        while index > 0 and lane[index - 1].effective_at > ticket.effective_at:
            index -= 1
        lane.insert(index, ticket)

    def remove(self, ticket: WaitingTicket) -> None:
        """Remove a ticket (``ValueError`` if it is not here)."""
        if ticket.front or ticket.green_channel or ticket.appointment:
            self.flagged.remove(ticket)
        else:
            lane = self.lanes[ticket.tier]
            if lane and lane[0] is ticket:
                lane.popleft()
            else:
                lane.remove(ticket)
        self.count -= 1

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[WaitingTicket]:
        """All tickets: flagged first, then the lanes merged by ``effective_at``."""
        yield from self.flagged
        yield from sorted(
            (t for lane in self.lanes for t in lane), key=lambda t: (t.effective_at, -t.tier)
        )

    def __repr__(self) -> str:
        return f"<QueueLine {self.count} waiting>"


def build_waiting(tickets: Iterable[WaitingTicket]) -> dict[str, QueueLine]:
    """Group tickets by queue, each lane in call order (what the live queue does per call).

    Tickets with equal ``effective_at`` keep the order they are given in, so pass them ordered
    by ``(effective_at, id)``, as the database query would.
    """
    waiting: dict[str, QueueLine] = {}
    for ticket in sorted(tickets, key=_effective_at):
        line = waiting.get(ticket.queue)
        if line is None:
            line = waiting[ticket.queue] = QueueLine()
        line.add(ticket)
    return waiting


def _effective_at(ticket: WaitingTicket) -> float:
    return ticket.effective_at


# --------------------------------------------------------------------------------------------
# choose = pick (the decision) + explain (the reason's params)
#
# Enum members are looked up once here: ``Strategy.AGEING`` costs ~100 ns per access on
# Python 3.11, a module global ~20 ns, and a decision runs once per simulated customer.

_STRICT = Strategy.STRICT_PRIORITY
_AGEING = Strategy.AGEING
_WRR = Strategy.WEIGHTED_ROUND_ROBIN
_R_FRONT = Reason.TRANSFERRED_FRONT.value
_R_GREEN = Reason.GREEN_CHANNEL.value
_R_AGED = Reason.AGED_PAST_CAP.value
_R_APPOINTMENT = Reason.APPOINTMENT.value
_R_PREMIUM = Reason.PREMIUM_PRIORITY.value
_R_STRICT = Reason.STRICT_ORDER.value
_R_WRR = Reason.WRR_TURN.value
_R_BOOST = Reason.PREMIUM_BOOST.value
_R_LONGEST = Reason.LONGEST_WAIT.value
_R_FAIRNESS = Reason.FAIRNESS_CAP.value
# Reason codes go into Choice as plain strings (equal to the Reason members).
_new = tuple.__new__  # builds a Choice without the NamedTuple __new__ call (~40 % cheaper)
_INF = float("inf")

# A lane head as the general path sees it: (effective_at, queue position, tier, ticket). Tuple
# order is the tie-break order, and the ticket itself is never compared.
_Head = tuple[float, int, int, WaitingTicket]

Picked = tuple[WaitingTicket, str]
"""What :func:`pick` returns: the ticket to call and the reason code."""


def choose(
    config: CounterConfig,
    waiting: Mapping[str, QueueLine],
    now: float,
    state: StrategyState | None = None,
) -> Choice | None:
    """The ticket ``config``'s counter calls at ``now``, or ``None`` if it has nothing to call.

    Updates ``state`` (weighted round robin) in place when it returns a choice; a ``None``
    state behaves like a fresh one. Does not modify ``waiting``. It is :func:`pick` (the
    decision) followed by :func:`explain` (the reason's ``params``).
    """
    picked = pick(config, waiting, now, state)
    if picked is None:
        return None
    return explain(config, picked[0], picked[1], now)


def pick(
    config: CounterConfig,
    waiting: Mapping[str, QueueLine],
    now: float,
    state: StrategyState | None = None,
) -> Picked | None:
    """The decision of :func:`choose` without its explanation: ``(ticket, reason_code)``.

    The simulator calls it (through :func:`bind`) once per simulated customer, where building
    the ``params`` dict and the :class:`Choice` of every call would cost a fifth of the run.
    """
    single = config._single
    if single is not None:
        line = waiting.get(single)
        if line is None:
            return None
        return _one_queue(config, waiting, line, state)(now)
    strategy = config.strategy
    if strategy is _STRICT or strategy is _AGEING:
        return _pick_strict(config, waiting, state, now)
    return _pick_general(config, waiting, state, now)


def bind(
    config: CounterConfig,
    waiting: Mapping[str, QueueLine],
    state: StrategyState | None = None,
) -> Callable[[float], Picked | None]:
    """``bind(config, waiting, state)(now) == pick(config, waiting, now, state)``, faster.

    For a caller that keeps ``waiting`` and updates its :class:`QueueLine` objects in place
    (the simulator): the returned function reads the lines it found when bound, so a line
    replaced in the mapping afterwards is not seen (a line added for a queue that had none is).
    It runs the same code as :func:`pick`, with the dispatch done once.
    """
    single = config._single
    if single is not None:
        line = waiting.get(single)
        if line is not None:
            return _one_queue(config, waiting, line, state)
        return partial(_pick_any, config, waiting, state)
    strategy = config.strategy
    if strategy is _STRICT or strategy is _AGEING:
        return partial(_pick_strict, config, waiting, state)
    return partial(_pick_general, config, waiting, state)


def explain(config: CounterConfig, ticket: WaitingTicket, reason: str, now: float) -> Choice:
    """The :class:`Choice` for a decision of :func:`pick`, with its reason's ``params``."""
    params = _PARAMS[reason](config, ticket, now)
    return _new(Choice, (ticket.id, config.strategy, reason, params, ticket))


def _pick_any(
    config: CounterConfig,
    waiting: Mapping[str, QueueLine],
    state: StrategyState | None,
    now: float,
) -> Picked | None:
    return pick(config, waiting, now, state)


# ---- the fast paths: strict priority and ageing, one pass over the lane heads, no lists.
# They decide exactly as _pick_general (a property test checks it on random queues) and hand
# over to it as soon as a flagged ticket shows up.


def _one_queue(
    config: CounterConfig,
    waiting: Mapping[str, QueueLine],
    line: QueueLine,
    state: StrategyState | None,
) -> Callable[[float], Picked | None]:
    """The decision of a strict-priority or ageing counter serving one queue
    (``config._single``), with ``line`` that queue's line in ``waiting``."""
    cap = config.ageing_cap_s
    tier_priority = config.tier_priority
    ordinary, gold, platinum, private = line.lanes

    def pick_one_queue(now: float) -> Picked | None:
        if not line.count:
            return None
        if line.flagged:
            return _pick_general(config, waiting, state, now)
        first: WaitingTicket
        top: WaitingTicket
        if platinum or private:
            # Lanes ascend by tier: the last head seen has the highest tier, and among equal
            # effective_at the first one seen has the lowest (the general path's tie-break).
            first_at = _INF
            for lane in line.lanes:
                if lane:
                    top = lane[0]
                    if top.effective_at < first_at:
                        first = top
                        first_at = top.effective_at
        elif gold:
            top = first = gold[0]
            if ordinary and ordinary[0].effective_at <= top.effective_at:
                first = ordinary[0]
        elif ordinary:
            # The commonest case of all: only ordinary tickets are waiting.
            head = ordinary[0]
            if cap is not None and now - head.effective_at >= cap:
                return head, _R_AGED
            return head, _R_STRICT
        else:
            return None
        if cap is not None and now - first.effective_at >= cap:
            return first, _R_AGED
        if tier_priority and top is not first:
            return top, _R_PREMIUM  # a higher tier than the longest wait
        return first, _R_STRICT

    return pick_one_queue


def _pick_strict(
    config: CounterConfig,
    waiting: Mapping[str, QueueLine],
    state: StrategyState | None,
    now: float,
) -> Picked | None:
    """A strict-priority or ageing counter serving several queues."""
    get = waiting.get
    tier_priority = config.tier_priority
    best: WaitingTicket | None = None
    best_tier = best_position = oldest_tier = -1
    oldest: WaitingTicket | None = None
    oldest_at = _INF
    position = 0
    for code in config.queues:
        line = get(code)
        if line is not None and line.count:
            if line.flagged:
                return _pick_general(config, waiting, state, now)
            tier = 0
            for lane in line.lanes:
                if lane:
                    head = lane[0]
                    at = head.effective_at
                    if at < oldest_at:
                        oldest, oldest_at, oldest_tier = head, at, tier
                    if best is None:
                        best, best_tier, best_position = head, tier, position
                    elif tier_priority:
                        if tier > best_tier:
                            best, best_tier, best_position = head, tier, position
                    elif position == best_position and at < best.effective_at:
                        best, best_tier = head, tier
                tier += 1  # noqa: SIM113 (counting by hand is cheaper than enumerate here)
        position += 1  # noqa: SIM113
    if best is None or oldest is None:
        return None
    cap = config.ageing_cap_s
    if cap is not None and now - oldest_at >= cap:
        return oldest, _R_AGED
    if tier_priority and oldest_tier < best_tier:
        return best, _R_PREMIUM
    return best, _R_STRICT


# ---- the reference: every rule, every strategy


def _pick_general(
    config: CounterConfig,
    waiting: Mapping[str, QueueLine],
    state: StrategyState | None,
    now: float,
) -> Picked | None:
    """Every rule, every strategy: the reference the fast paths are tested against."""
    heads: list[_Head] = []
    flagged: list[_Head] = []
    get = waiting.get
    for position, code in enumerate(config.queues):
        line = get(code)
        if line is not None and line.count:
            if line.flagged:
                flagged.extend((t.effective_at, position, t.tier, t) for t in line.flagged)
            for tier, lane in enumerate(line.lanes):
                if lane:
                    head = lane[0]
                    heads.append((head.effective_at, position, tier, head))

    appointments: list[_Head] = []
    if flagged:
        fronts = [f for f in flagged if f[3].front]
        if fronts:
            return min(fronts)[3], _R_FRONT
        greens = [f for f in flagged if f[3].green_channel]
        if greens:
            return min(greens)[3], _R_GREEN
        appointments = [f for f in flagged if f[3].appointment]
    elif not heads:
        return None

    cap = config.ageing_cap_s
    if cap is not None:
        oldest = min(heads + appointments)
        if now - oldest[0] >= cap:
            return oldest[3], _R_AGED
    if appointments:
        return min(appointments)[3], _R_APPOINTMENT
    if not heads:
        return None
    strategy = config.strategy
    if strategy is _STRICT or strategy is _AGEING:
        return _strict(config, heads)
    if strategy is _WRR:
        return _weighted_round_robin(config, heads, state)
    return _premium_boost(config, heads, now)


def _choose_general(
    config: CounterConfig,
    waiting: Mapping[str, QueueLine],
    now: float,
    state: StrategyState | None,
) -> Choice | None:
    """:func:`choose` through the reference path only (for tests)."""
    picked = _pick_general(config, waiting, state, now)
    return None if picked is None else explain(config, picked[0], picked[1], now)


def _strict(config: CounterConfig, heads: list[_Head]) -> Picked:
    best = min(heads, key=_tier_first if config.tier_priority else _position_first)
    if config.tier_priority and min(heads)[2] < best[2]:
        # A lower tier has waited longest, and the tier passed it.
        return best[3], _R_PREMIUM
    return best[3], _R_STRICT


def _tier_first(head: _Head) -> tuple[int, int, float]:
    return -head[2], head[1], head[0]


def _position_first(head: _Head) -> tuple[int, float, int]:
    return head[1], head[0], head[2]


def _weighted_round_robin(
    config: CounterConfig, heads: list[_Head], state: StrategyState | None
) -> Picked:
    credits = (state if state is not None else StrategyState()).credits
    queues = config.queues
    weights = config.weights
    # Smooth weighted round robin (as in nginx) over the queues that have tickets; a queue with
    # nothing waiting neither gains nor loses credit.
    total = 0
    turn = -1
    turn_credit = 0
    previous = -1
    for head in heads:  # in queue order: each queue with tickets once
        position = head[1]
        if position == previous:
            continue
        previous = position
        code = queues[position]
        credit = credits.get(code, 0) + weights[position]
        credits[code] = credit
        total += weights[position]
        if turn < 0 or credit > turn_credit:
            turn, turn_credit = position, credit
    credits[queues[turn]] = turn_credit - total
    in_turn = [head for head in heads if head[1] == turn]
    best = min(in_turn, key=_tier_first) if config.tier_priority else min(in_turn)
    return best[3], _R_WRR


def _premium_boost(config: CounterConfig, heads: list[_Head], now: float) -> Picked:
    oldest = min(heads)
    cap = config.fairness_cap_s
    if cap is not None and now - oldest[0] >= cap:
        return oldest[3], _R_FAIRNESS
    boosts = config.tier_boost_s
    # Highest boosted wait; ties go to the longer actual wait, then to queue order.
    best = min(heads, key=lambda h: (h[0] - boosts[h[2]], h[0], h[1], h[2]))
    if best is oldest:
        return best[3], _R_LONGEST
    return best[3], _R_BOOST


# ---- explain: each reason's params, from the decision alone


def _queue_params(config: CounterConfig, ticket: WaitingTicket, now: float) -> dict[str, Any]:
    return {"queue": ticket.queue}


def _waited_params(config: CounterConfig, ticket: WaitingTicket, now: float) -> dict[str, Any]:
    waited = now - ticket.effective_at
    return {"waited_s": int(waited), "waited_min": int(waited // 60)}


def _capped(cap: float | None, ticket: WaitingTicket, now: float) -> dict[str, Any]:
    if cap is None:
        raise ValueError("this counter has no cap")
    waited = now - ticket.effective_at
    return {
        "waited_s": int(waited),
        "waited_min": int(waited // 60),
        "cap_s": cap,
        "cap_min": int(cap // 60),
    }


def _aged_params(config: CounterConfig, ticket: WaitingTicket, now: float) -> dict[str, Any]:
    return _capped(config.ageing_cap_s, ticket, now)


def _fairness_params(config: CounterConfig, ticket: WaitingTicket, now: float) -> dict[str, Any]:
    return _capped(config.fairness_cap_s, ticket, now)


def _appointment_params(config: CounterConfig, ticket: WaitingTicket, now: float) -> dict[str, Any]:
    return {"queue": ticket.queue, "waited_s": int(now - ticket.effective_at)}


def _premium_params(config: CounterConfig, ticket: WaitingTicket, now: float) -> dict[str, Any]:
    return {"queue": ticket.queue, "tier": TIER_KEYS[ticket.tier]}


def _wrr_params(config: CounterConfig, ticket: WaitingTicket, now: float) -> dict[str, Any]:
    return {"queue": ticket.queue, "weight": config.weights[config.queues.index(ticket.queue)]}


def _boost_params(config: CounterConfig, ticket: WaitingTicket, now: float) -> dict[str, Any]:
    boost = config.tier_boost_s[ticket.tier]
    return {
        "tier": TIER_KEYS[ticket.tier],
        "boost_s": boost,
        "boost_min": int(boost // 60),
        "waited_s": int(now - ticket.effective_at),
    }


_PARAMS: dict[str, Callable[[CounterConfig, WaitingTicket, float], dict[str, Any]]] = {
    _R_FRONT: _queue_params,
    _R_GREEN: _waited_params,
    _R_AGED: _aged_params,
    _R_APPOINTMENT: _appointment_params,
    _R_PREMIUM: _premium_params,
    _R_STRICT: _queue_params,
    _R_WRR: _wrr_params,
    _R_BOOST: _boost_params,
    _R_LONGEST: _waited_params,
    _R_FAIRNESS: _fairness_params,
}
