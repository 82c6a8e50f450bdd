"""The queue's demo data: configuration, demo customers, ticket history and a live day.

Registered as the ``queueing`` demo generator (after ``org``); documented in ``docs/demo.md``.

1. **Configuration** — business types at the province (A 个人现金, B 个人非现金, C 对公业务,
   D 外汇业务, V 理财业务), savings offices (储蓄所) overriding them with A, B and V only;
   queue settings and wait targets at the province, savings offices with their own settings;
   counters' call configurations (corporate and VIP windows, counters serving several queues
   with weights, the rest on the default).
2. **Demo customers** for the premium lookup (``customers.DemoCustomerDirectory``), with a
   few well-known numbers (``WELL_KNOWN_CUSTOMERS``).
3. **History** — every day of the demo's history on which an outlet is open (its
   ``OpeningHours`` has the weekday and the day is no public holiday) is simulated with the
   simulator's engine (``branchserve.sim.engine``), whose counters decide through the shared
   call strategies: arrivals by business type and tier per 15 minutes (morning and afternoon
   peaks, a lunch dip; mid-month surge, month end, Mondays, weekends, days after holidays; the
   outlet's size), lognormal service times per business type, no-shows, the green channel,
   appointments, abandonment, transfers, counters opening at peaks and pausing for meals. Each
   simulated customer becomes a ``Ticket`` with its ``TicketEvent`` rows, tellers and counters
   come from the org demo, and each teller's day a ``CounterSession`` with its
   ``CounterEvent`` rows.
4. **The live day** — ``today`` is simulated the same way and cut at "now" (the real time when
   ``today`` is the real date, else ``LIVE_TIME``): tickets issued so far, some waiting, some
   at counters, counters open or paused, with their ``CounterState``, ``OutletQueue`` and
   ``TicketSeries`` rows so that the kiosk goes on numbering where the demo stopped.

Everything is drawn from random streams seeded by ``(seed, "queueing", outlet code, day)``:
the same ``--seed`` gives the same rows (but for primary keys), whatever other apps generate.
Tickets, events and sessions (hundreds of thousands of rows) are written with ``executemany``
and explicit primary keys: the ORM's ``bulk_create`` costs ten times as much per row.
Realtime events are not published.
"""

from __future__ import annotations

import base64
import calendar as pycalendar
import datetime as dt
import json
import math
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt
from django.core.management.color import no_style
from django.db import connection, models
from django.db.models import Max, Q
from django.utils import timezone

from branchserve.core.calendar import holiday_name, is_working_day
from branchserve.core.demo import DemoContext, demo_generator, stable_seed
from branchserve.org.choices import Role, UnitKind
from branchserve.org.models import Assignment, Counter, OpeningHours, OrgUnit
from branchserve.queueing.choices import (
    CallStrategy,
    CounterEventKind,
    CounterStatus,
    CustomerTier,
    DivertOutcome,
    DivertTarget,
    IssueChannel,
    PauseReason,
    Placement,
    TicketEventKind,
    TicketState,
)
from branchserve.queueing.customers import mask, number_hash
from branchserve.queueing.models import (
    BusinessType,
    CounterEvent,
    CounterQueueConfig,
    CounterSession,
    CounterState,
    DemoCustomer,
    OutletQueue,
    QueueSettings,
    Ticket,
    TicketEvent,
    TicketSeries,
    WaitTarget,
)
from branchserve.sim.distributions import LogNormal
from branchserve.sim.engine import run_replication
from branchserve.sim.model import ArrivalStream, CounterPlan, OutletModel, Transfer
from branchserve.sim.model import BusinessType as SimBusiness
from branchserve.sim.results import ABANDONED, Replication
from branchserve.sim.strategies import CounterConfig, Tier, WaitingTicket, explain

APP = "queueing"
# The live day's time of day when --today is not the real date (the morning peak).
LIVE_TIME = dt.time(10, 30)
SLOT_S = 900.0  # arrivals are drawn per 15 minutes
OVERTIME_S = 45 * 60.0  # counters serve at most this long after closing; the rest is closed
NO_SHOW_PROB = 0.04
NO_SHOW_RECALL_S = 30.0  # a no-show is recalled twice, 30 s apart, then marked
GREEN_CHANNEL_PROB = 0.03
PREMIUM_SHARE = 0.15
# Within premium customers: gold, platinum, private banking.
PREMIUM_TIERS = ((Tier.GOLD, 0.65), (Tier.PLATINUM, 0.27), (Tier.PRIVATE_BANKING, 0.08))
PATIENCE = LogNormal(50 * 60.0, 25 * 60.0)
DIVERT_SHARE = 0.35  # of customers leaving the A/B queues: sent on by the lobby manager
BATCH_ROWS = 20_000


@dataclass(frozen=True)
class BusinessSpec:
    code: str
    name: str
    service_min: float
    service_sd_min: float
    premium_weight: float  # how much likelier than a cash customer to be premium
    order: int


BUSINESSES: dict[str, BusinessSpec] = {
    spec.code: spec
    for spec in (
        BusinessSpec("A", "个人现金", 4.0, 2.5, 1.0, 1),
        BusinessSpec("B", "个人非现金", 7.0, 4.5, 1.5, 2),
        BusinessSpec("C", "对公业务", 10.0, 6.0, 0.0, 3),
        BusinessSpec("D", "外汇业务", 8.0, 5.0, 2.0, 4),
        BusinessSpec("V", "理财业务", 15.0, 8.0, 6.0, 5),
    )
}
SAVINGS_BUSINESSES = ("A", "B", "V")
# After service, a share of customers is sent to another queue, placed first there.
TRANSFERS = {"A": ("B", 0.02), "B": ("V", 0.03)}
APPOINTMENT_SHARE = {"V": 0.10}


@dataclass(frozen=True)
class StyleSpec:
    daily: float  # tickets on an ordinary weekday
    mix: dict[str, float]


STYLES = {
    "main": StyleSpec(320, {"A": 0.36, "B": 0.32, "C": 0.12, "D": 0.05, "V": 0.15}),
    "office": StyleSpec(180, {"A": 0.40, "B": 0.34, "C": 0.08, "D": 0.03, "V": 0.15}),
    "savings": StyleSpec(110, {"A": 0.50, "B": 0.38, "V": 0.12}),
}

AGEING = {"strategy": CallStrategy.AGEING.value, "ageing_cap_s": 1800}
VIP_CONFIG = {
    "queues": ["V", "B", "A"],
    "strategy": CallStrategy.PREMIUM_BOOST.value,
    "tier_boost_s": [0, 300, 600, 900],
    "fairness_cap_s": 1800,
}

# Demo customers anyone can type at the kiosk (documented in docs/demo.md).
WELL_KNOWN_CUSTOMERS = (
    ("6222020000000001", Tier.GOLD, "王*"),
    ("6222020000000002", Tier.PLATINUM, "李**"),
    ("6222020000000003", Tier.PRIVATE_BANKING, "张*"),
    ("13800138000", Tier.GOLD, "刘*"),
    ("13900139000", Tier.ORDINARY, "陈**"),
)
DEMO_CUSTOMERS = {Tier.GOLD: 160, Tier.PLATINUM: 60, Tier.PRIVATE_BANKING: 20, Tier.ORDINARY: 40}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"


# -- the demo's result -----------------------------------------------------------------------


@dataclass
class QueueDemo:
    """What the queueing generator made (everything is also in the database)."""

    business_types: int = 0
    customers: int = 0
    days: int = 0  # outlet-days simulated, the live day included
    tickets: int = 0
    events: int = 0
    sessions: int = 0
    live_waiting: int = 0


# -- configuration ---------------------------------------------------------------------------


def outlet_style(outlet: OrgUnit) -> str:
    if outlet.name.endswith("营业室"):
        return "main"
    if outlet.name.endswith("储蓄所"):
        return "savings"
    return "office"


def counter_role(counter: Counter) -> str:
    """``corporate``, ``vip`` or ``regular``, from the org demo's window names."""
    if "对公" in counter.name:
        return "corporate"
    if "贵宾" in counter.name:
        return "vip"
    return "regular"


def counter_configs(style: str, counters: Sequence[Counter]) -> dict[int, dict[str, Any]]:
    """The counters with their own call configuration (by counter pk); the others use the
    outlet's default (every business type, ageing)."""
    configs: dict[int, dict[str, Any]] = {}
    if style == "savings":
        return configs
    regular = [c for c in counters if counter_role(c) == "regular"]
    for counter in counters:
        role = counter_role(counter)
        if role == "vip":
            configs[counter.pk] = dict(VIP_CONFIG)
        elif role == "corporate":
            configs[counter.pk] = {"queues": ["C", "D"], **AGEING}
    if style == "main":
        for i, counter in enumerate(regular):
            if i < 2:
                configs[counter.pk] = {
                    "queues": ["A", "B"],
                    "strategy": CallStrategy.WEIGHTED_ROUND_ROBIN.value,
                    "weights": [3, 1],
                    "ageing_cap_s": 1800,
                }
            elif i == len(regular) - 1:
                configs[counter.pk] = {"queues": ["D", "A", "B"], **AGEING}
            else:
                configs[counter.pk] = {"queues": ["B", "A", "V"], **AGEING}
    else:
        if regular:  # the office's last numbered window takes corporate customers
            configs[regular[-1].pk] = {
                "queues": ["C", "B"],
                "strategy": CallStrategy.WEIGHTED_ROUND_ROBIN.value,
                "weights": [2, 1],
                "ageing_cap_s": 1800,
            }
        for counter in regular[:2]:
            if counter is not regular[-1]:
                configs[counter.pk] = {
                    "queues": ["A", "B", "D"],
                    "strategy": CallStrategy.WEIGHTED_ROUND_ROBIN.value,
                    "weights": [3, 2, 1],
                    "ageing_cap_s": 1800,
                }
    return configs


CountersByOutlet = dict[int, list[Counter]]  # active counters by outlet pk, by number


@dataclass
class OutletSetup:
    """One outlet as the simulation needs it."""

    outlet: OrgUnit
    style: str
    types: dict[str, BusinessType]  # by queue code, kiosk order
    counters: list[Counter]
    configs: list[CounterConfig]  # per counter, as the live queue would build them
    hours: dict[int, tuple[dt.time, dt.time]]
    last_ticket_minutes: int
    size: float  # outlet size factor


def seed_configuration(
    ctx: DemoContext, province: OrgUnit, outlets: list[OrgUnit], counters: CountersByOutlet
) -> int:
    """Business types, settings, wait targets and counter configurations; returns how many
    business types were created. Rows already there (by unit and code) are kept."""
    existing = set(BusinessType.objects.values_list("unit_id", "code"))
    types = [
        BusinessType(
            unit=province,
            code=spec.code,
            name=spec.name,
            prefix=spec.code,
            typical_service_s=round(spec.service_min * 60),
            order=spec.order,
        )
        for spec in BUSINESSES.values()
        if (province.pk, spec.code) not in existing
    ]
    savings = [o for o in outlets if outlet_style(o) == "savings"]
    types += [
        BusinessType(
            unit=outlet,
            code=code,
            name=BUSINESSES[code].name,
            prefix=code,
            typical_service_s=round(BUSINESSES[code].service_min * 60),
            order=BUSINESSES[code].order,
        )
        for outlet in savings
        for code in SAVINGS_BUSINESSES
        if (outlet.pk, code) not in existing
    ]
    ctx.bulk_create(BusinessType, types, "business types")

    with_settings = set(QueueSettings.objects.values_list("unit_id", flat=True))
    settings = [
        QueueSettings(unit=unit, **values)
        for unit, values in [
            (province, {}),
            *[(o, {"last_ticket_minutes": 15, "default_ageing_cap_s": 1200}) for o in savings],
        ]
        if unit.pk not in with_settings
    ]
    ctx.bulk_create(QueueSettings, settings, "queue settings")

    if not WaitTarget.objects.filter(unit=province).exists():
        targets = [
            WaitTarget(unit=province, wait_s=900, share=0.85),
            WaitTarget(unit=province, tier=CustomerTier.GOLD, wait_s=600, share=0.90),
            WaitTarget(unit=province, tier=CustomerTier.PLATINUM, wait_s=300, share=0.90),
            WaitTarget(unit=province, tier=CustomerTier.PRIVATE_BANKING, wait_s=300, share=0.95),
            WaitTarget(unit=province, business_type_code="V", wait_s=1200, share=0.85),
            WaitTarget(unit=province, business_type_code="C", wait_s=1800, share=0.90),
        ]
        ctx.bulk_create(WaitTarget, targets, "wait-time targets")

    configured = set(CounterQueueConfig.objects.values_list("counter_id", flat=True))
    rows = []
    for outlet in outlets:
        for pk, config in counter_configs(outlet_style(outlet), counters[outlet.pk]).items():
            if pk not in configured:
                rows.append(CounterQueueConfig(counter_id=pk, config=config))
    ctx.bulk_create(CounterQueueConfig, rows, "counter configurations")
    return len(types)


def outlet_setups(
    base_seed: int, outlets: list[OrgUnit], counters_of: CountersByOutlet
) -> list[OutletSetup]:
    """Each outlet's resolved configuration (as ``queueing.config`` resolves it, in a few
    queries for the whole province)."""
    types_by_unit: dict[int, dict[str, BusinessType]] = {}
    for business_type in BusinessType.objects.filter(is_active=True).order_by("order", "code"):
        types_by_unit.setdefault(business_type.unit_id, {})[business_type.code] = business_type
    settings_by_unit = {s.unit_id: s for s in QueueSettings.objects.all()}
    own = {c.counter_id: c for c in CounterQueueConfig.objects.filter(counter__outlet__in=outlets)}
    hours: dict[int, dict[int, tuple[dt.time, dt.time]]] = {}
    for h in OpeningHours.objects.filter(outlet__in=outlets):
        hours.setdefault(h.outlet_id, {})[h.weekday] = (h.opens_at, h.closes_at)
    units = {u.pk: u for u in OrgUnit.objects.all()}
    setups = []
    for outlet in outlets:
        chain = [outlet.pk]
        parent = outlet.parent_id
        while parent is not None:
            chain.append(parent)
            parent = units[parent].parent_id
        types = next((types_by_unit[u] for u in chain if u in types_by_unit), {})
        settings = next((settings_by_unit[u] for u in chain if u in settings_by_unit), None)
        settings = settings or QueueSettings()
        counters = counters_of[outlet.pk]
        configs = []
        for counter in counters:
            own_row = own.get(counter.pk)
            if own_row is not None:
                configs.append(CounterConfig.from_dict({**own_row.config, "counter": counter.code}))
            else:
                configs.append(
                    CounterConfig(
                        counter=counter.code,
                        queues=tuple(types) or ("-",),
                        strategy=settings.default_strategy,  # type: ignore[arg-type]
                        ageing_cap_s=settings.default_ageing_cap_s,
                    )
                )
        rng = outlet_rng(base_seed, outlet, None)
        setups.append(
            OutletSetup(
                outlet=outlet,
                style=outlet_style(outlet),
                types=types,
                counters=counters,
                configs=configs,
                hours=hours.get(outlet.pk, {}),
                last_ticket_minutes=settings.last_ticket_minutes,
                size=float(np.exp(rng.normal(0.0, 0.22))),
            )
        )
    return setups


def outlet_rng(
    base_seed: int, outlet: OrgUnit, day: dt.date | None, stream: int = 0
) -> np.random.Generator:
    """A random stream of one outlet (``day`` None) or of one outlet-day (``stream`` 0: the
    day's plan, 1: its simulation and rows)."""
    ordinal = day.toordinal() if day is not None else 0
    entropy = [base_seed, zlib.crc32(outlet.code.encode()), ordinal, stream]
    return np.random.default_rng(np.random.SeedSequence(entropy))


# -- demo customers --------------------------------------------------------------------------


def seed_customers(ctx: DemoContext) -> dict[int, list[str]]:
    """Demo customers (masked and hashed); returns the masked numbers by tier, for tickets."""
    rng = ctx.random
    rows: list[tuple[str, Tier, str]] = list(WELL_KNOWN_CUSTOMERS)
    for tier, count in DEMO_CUSTOMERS.items():
        for _ in range(count):
            if rng.random() < 0.5:
                number = "6222" + "".join(str(rng.randrange(10)) for _ in range(12))
            else:
                number = rng.choice(("138", "139", "136", "150", "186")) + "".join(
                    str(rng.randrange(10)) for _ in range(8)
                )
            name = rng.choice(SURNAMES) + "*" * rng.choice((1, 2))
            rows.append((number, tier, name))
    known = set(DemoCustomer.objects.values_list("number_hash", flat=True))
    customers: dict[str, DemoCustomer] = {}
    for number, tier, name in rows:
        digest = number_hash(number)
        if digest not in known and digest not in customers:
            customers[digest] = DemoCustomer(
                number_hash=digest, masked=mask(number), tier=int(tier), name=name
            )
    ctx.bulk_create(DemoCustomer, list(customers.values()), "demo customers")
    by_tier: dict[int, list[str]] = {}
    for masked, level in DemoCustomer.objects.order_by("masked", "pk").values_list(
        "masked", "tier"
    ):
        by_tier.setdefault(level, []).append(masked)
    return by_tier


# -- the arrival model -----------------------------------------------------------------------


def _gauss(x: float, centre: float, width: float) -> float:
    return math.exp(-0.5 * ((x - centre) / width) ** 2)


def intraday_weight(hour: float, business: str, weekend: bool) -> float:
    """Relative arrival rate at ``hour`` (local clock, e.g. 10.5): peaks around 9:30–11:00
    and 14:30–16:00, a dip at lunch; corporate customers come mostly in the afternoon."""
    if weekend:
        return 0.7 + 0.5 * _gauss(hour, 10.75, 0.9) + 0.4 * _gauss(hour, 14.75, 0.9)
    morning, afternoon = (0.5, 1.2) if business == "C" else (0.95, 0.8)
    weight = 0.55 + morning * _gauss(hour, 10.25, 0.6) + afternoon * _gauss(hour, 15.25, 0.55)
    if hour < 9.25:  # the customers waiting at the door when the outlet opens
        weight += 0.35
    return weight


def day_factor(day: dt.date, weekday_open: bool) -> float:
    """How busy ``day`` is compared with an ordinary Tuesday: 月初平稳，月中激增，月末回落
    (steady at the start, surging mid-month — salary and pension days — easing at the end,
    a bump on the last days); Mondays and days after holidays busier, weekends quieter; the
    first and fourth quarters busier."""
    last = pycalendar.monthrange(day.year, day.month)[1]
    dom = day.day
    if dom > last - 3:
        month = 1.05
    elif dom <= 9:
        month = 0.95
    elif dom <= 15:
        month = 1.45 if dom in (10, 15) else 1.35
    elif dom <= 20:
        month = 1.15
    else:
        month = 0.85
    weekday = (1.12, 1.0, 1.0, 1.0, 1.06, 0.8, 0.65)[day.weekday()]
    if day.weekday() >= 5 and weekday_open:
        weekday = 1.0  # a weekend make-up working day
    factor = month * weekday * (1.05 if day.month in (1, 2, 3, 10, 11, 12) else 0.95)
    if holiday_name(day - dt.timedelta(days=1)) is not None:
        factor *= 1.2
    elif holiday_name(day + dt.timedelta(days=1)) is not None:
        factor *= 1.1
    return factor


def is_open(setup: OutletSetup, day: dt.date) -> bool:
    """No tickets on public holidays; on other days the outlet's opening hours decide."""
    return day.weekday() in setup.hours and holiday_name(day) is None


def _hours(t: dt.time) -> float:
    return t.hour + t.minute / 60 + t.second / 3600


@dataclass
class DayPlan:
    """One outlet-day: the model to simulate and what it needs to be written back."""

    setup: OutletSetup
    day: dt.date
    opens: dt.datetime  # aware, local
    close_s: float  # closing time, seconds after opening
    model: OutletModel
    codes: list[str]  # business code per model business index


def plan_day(
    setup: OutletSetup, day: dt.date, rng: np.random.Generator, staffed: Sequence[bool]
) -> DayPlan:
    """The outlet-day's model: arrivals, service times, counters' shifts (``staffed``: whether
    a teller sits at each counter that day)."""
    opens_at, closes_at = setup.hours[day.weekday()]
    zone = setup.outlet.zone
    opens = dt.datetime.combine(day, opens_at, tzinfo=zone)
    open_h = _hours(opens_at)
    close_s = (_hours(closes_at) - open_h) * 3600
    working = is_working_day(day)
    weekend = not working
    issue_s = max(SLOT_S, close_s - setup.last_ticket_minutes * 60)
    slots = max(1, int(issue_s // SLOT_S))

    style = STYLES[setup.style]
    mix = {code: share for code, share in style.mix.items() if code in setup.types}
    if weekend:  # no corporate or foreign-exchange business at weekends
        mix = {code: share for code, share in mix.items() if code not in ("C", "D")}
    last = pycalendar.monthrange(day.year, day.month)[1]
    if "C" in mix and day.day > last - 3:
        mix["C"] *= 1.5
    # Shares of the outlet's full mix: what is left out at weekends is not made up by others.
    total_share = sum(share for code, share in style.mix.items() if code in setup.types)
    factor = day_factor(day, working) * float(np.exp(rng.normal(0.0, 0.08)))
    expected = style.daily * setup.size * factor
    premium_norm = sum(s * BUSINESSES[c].premium_weight for c, s in mix.items()) / sum(mix.values())

    codes = list(mix)
    businesses = []
    for code in codes:
        spec = BUSINESSES[code]
        transfer = None
        if code in TRANSFERS and TRANSFERS[code][0] in mix:
            to, prob = TRANSFERS[code]
            transfer = Transfer(to, prob, Placement.FRONT.value)
        service = LogNormal(spec.service_min * 60, spec.service_sd_min * 60)
        businesses.append(SimBusiness(code, code, service, transfer))

    arrivals = []
    for code in codes:
        weights = [
            intraday_weight(open_h + (s + 0.5) * SLOT_S / 3600, code, weekend) for s in range(slots)
        ]
        scale = expected * mix[code] / total_share / sum(weights)
        premium = min(0.85, PREMIUM_SHARE * BUSINESSES[code].premium_weight / premium_norm)
        booked = APPOINTMENT_SHARE.get(code, 0.0)
        for appointment, share in ((False, 1 - booked), (True, booked)):
            if share <= 0:
                continue
            for tier, tier_share in ((Tier.ORDINARY, 1 - premium), *_premium_split(premium)):
                if tier_share <= 0:
                    continue
                per_slot = tuple(w * scale * share * tier_share for w in weights)
                arrivals.append(ArrivalStream(code, tier, per_slot, appointment))

    plans = staffing(setup, codes, close_s, open_h, working, factor, staffed)
    model = OutletModel(
        name=f"{setup.outlet.code} {day}",
        slot_s=SLOT_S,
        business_types=tuple(businesses),
        arrivals=tuple(arrivals),
        counters=tuple(plans),
        patience=PATIENCE,
        no_show_prob=NO_SHOW_PROB,
        no_show_s=3 * NO_SHOW_RECALL_S,
        green_channel_prob=GREEN_CHANNEL_PROB,
        close_s=close_s + OVERTIME_S,
        serve_after_close=False,
    )
    return DayPlan(setup, day, opens, close_s, model, codes)


def _premium_split(premium: float) -> list[tuple[Tier, float]]:
    return [(tier, premium * share) for tier, share in PREMIUM_TIERS]


def staffing(
    setup: OutletSetup,
    codes: list[str],
    close_s: float,
    open_h: float,
    working: bool,
    factor: float,
    staffed: Sequence[bool],
) -> list[CounterPlan]:
    """Counters' shifts: the corporate and VIP windows all day on working days; enough
    ordinary counters all day to cover every queue, the others at the peaks only (all of them
    on busy days); fewer at weekends. Counters open all day take turns for meals."""

    def at(hour: float) -> float:
        return min(max((hour - open_h) * 3600, 0.0), close_s)

    end = close_s + OVERTIME_S
    active = set(codes)
    roles = [counter_role(c) for c in setup.counters]
    regular = [k for k, role in enumerate(roles) if role == "regular" and staffed[k]]
    special = [k for k, role in enumerate(roles) if role != "regular" and staffed[k]]
    if not working:
        special = [k for k in special if roles[k] == "vip"]
        keep = max(3, math.ceil(len(regular) * 0.7))
    elif factor >= 1.2:
        keep = len(regular)
    else:
        keep = max(2, len(regular) - 2)
    all_day = set(special) | set(regular)
    peak_only: set[int] = set()
    # Send counters to the peaks from the last one down, while every queue stays covered.
    for k in reversed(regular):
        if len(all_day & set(regular)) <= keep:
            break
        rest = all_day - {k}
        if active <= {q for j in rest for q in setup.configs[j].queues}:
            all_day = rest
            peak_only.add(k)
    peaks = [(at(9.5), at(11.5)), (at(14.0), at(16.5))]
    plans = []
    meal_turn = 0
    for k, config in enumerate(setup.configs):
        shifts: list[tuple[float, float]] = []
        if k in all_day:
            lunch = (at(12.0), at(12.75)) if roles[k] != "regular" else None
            if lunch is None:
                lunch = (at(11.5), at(12.5)) if meal_turn % 2 == 0 else (at(12.5), at(13.5))
                meal_turn += 1
            if 0 < lunch[0] < lunch[1] < close_s:
                shifts = [(0.0, lunch[0]), (lunch[1], end)]
            else:
                shifts = [(0.0, end)]
        elif k in peak_only and working:
            shifts = [(a, b) for a, b in peaks if b > a]
        plans.append(CounterPlan(config, tuple(shifts)))
    return plans


# -- from a simulated day to rows ------------------------------------------------------------

# A ticket's story: (seconds after opening, kind, counter index or -1, data)
Event = tuple[float, str, int, dict[str, Any]]


@dataclass
class People:
    tellers: list[int]  # staff pk per counter index (0: none)
    lobby: int | None


@dataclass
class Sink:
    """Rows waiting to be inserted, with their explicit primary keys."""

    tickets: FastInsert
    events: FastInsert
    sessions: FastInsert
    counter_events: FastInsert
    sqlite: bool = False
    series: list[TicketSeries] = field(default_factory=list)
    states: list[CounterState] = field(default_factory=list)

    def flush(self, force: bool = False) -> None:
        """Insert what is waiting once there is a batch (rows before the rows pointing at them)."""
        writers = (self.tickets, self.sessions, self.events, self.counter_events)
        if force or any(len(writer.rows) >= BATCH_ROWS for writer in writers):
            for writer in writers:
                writer.flush()


class FastInsert:
    """``INSERT`` through the DB-API's ``executemany`` with primary keys numbered here (from
    the table's largest + 1), values already adapted for the database."""

    def __init__(self, model: type[models.Model], fields: Sequence[str]) -> None:
        meta = model._meta
        quote = connection.ops.quote_name
        columns = [str(meta.pk.column)] + [
            str(meta.get_field(name).column)  # type: ignore[union-attr]
            for name in fields
        ]
        self.model = model
        self.sql = (
            f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(c) for c in columns)}) "
            f"VALUES ({', '.join(['%s'] * len(columns))})"
        )
        self.next_id = int(model._default_manager.aggregate(top=Max("pk"))["top"] or 0) + 1
        self.rows: list[tuple[Any, ...]] = []
        self.written = 0

    def add(self, *values: Any) -> int:
        pk = self.next_id
        self.next_id += 1
        self.rows.append((pk, *values))
        return pk

    def flush(self) -> None:
        if self.rows:
            with connection.cursor() as cursor:
                cursor.executemany(self.sql, self.rows)
            self.written += len(self.rows)
            self.rows = []


class Clock:
    """Seconds after an outlet-day's opening → the database's datetime value, fast."""

    def __init__(self, opens: dt.datetime, sqlite: bool) -> None:
        self.base = opens.astimezone(dt.UTC).replace(tzinfo=None)
        self.sqlite = sqlite

    def __call__(self, seconds: float | None) -> Any:
        if seconds is None:
            return None
        value = self.base + dt.timedelta(seconds=seconds)
        return str(value) if self.sqlite else value.replace(tzinfo=dt.UTC)


_encode_json = json.JSONEncoder(ensure_ascii=False).encode


def db_json(data: dict[str, Any], sqlite: bool) -> Any:
    """A JSONField value as the database takes it (what ``JSONField.get_db_prep_value`` does)."""
    if sqlite:
        return _encode_json(data) if data else "{}"
    return connection.ops.adapt_json_value(data, None)


def estimates(
    plan: DayPlan, rep: Replication, left_s: npt.NDArray[np.float64]
) -> tuple[list[int], list[int], list[int], list[int]]:
    """What the estimator (``queueing.estimate``) would have told each customer at issue:
    (estimated wait, waiting ahead in the own queue, open counters serving it, mean service),
    from the simulated day's queues and counters at the moment of issue."""
    model = plan.model
    arrival = rep.arrival_s
    n = arrival.size
    codes = plan.codes
    business = rep.business
    # Waiting per queue at each arrival: issued before minus left the queue before.
    waiting: dict[str, npt.NDArray[np.int64]] = {}
    for b, code in enumerate(codes):
        mine = business == b
        issued = np.sort(arrival[mine])
        left = np.sort(left_s[mine])
        waiting[code] = np.searchsorted(issued, arrival, "left") - np.searchsorted(
            left, arrival, "right"
        )
    # Counters open and busy at each arrival.
    n_counters = len(model.counters)
    open_at = np.zeros((n_counters, n), dtype=np.bool_)
    busy_at = np.zeros((n_counters, n), dtype=np.bool_)
    ends = rep.called_s + rep.service_s
    for k, counter_plan in enumerate(model.counters):
        for start, end in counter_plan.shifts:
            open_at[k] |= (arrival >= start) & (arrival < end)
        mine = rep.counter == k
        starts, stops = np.sort(rep.called_s[mine]), np.sort(ends[mine])
        busy_at[k] = (
            np.searchsorted(starts, arrival, "right") - np.searchsorted(stops, arrival, "right")
        ) > 0
    # Mean of the last 20 services of the type finished before each arrival, else typical.
    finished = (rep.counter >= 0) & ~rep.no_show
    mean = np.zeros(n)
    for b, code in enumerate(codes):
        mine = finished & (business == b)
        order = np.argsort(ends[mine])
        end_sorted = ends[mine][order]
        cumulative = np.concatenate(([0.0], np.cumsum(rep.drawn_service_s[mine][order])))
        upto = np.searchsorted(end_sorted, arrival, "right")
        since = np.maximum(upto - 20, 0)
        count = upto - since
        typical = float(plan.setup.types[code].typical_service_s)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_b = np.where(count > 0, (cumulative[upto] - cumulative[since]) / count, typical)
        mean = np.where(business == b, mean_b, mean)
    result_wait = np.zeros(n)
    ahead = np.zeros(n, dtype=np.int64)
    servers_out = np.zeros(n, dtype=np.int64)
    for b, code in enumerate(codes):
        mine = business == b
        serving = [k for k, c in enumerate(model.counters) if code in c.config.queues]
        servers = open_at[serving].sum(axis=0)
        idle = (open_at[serving] & ~busy_at[serving]).sum(axis=0)
        competing = np.zeros(n, dtype=np.int64)
        for other in codes:
            serves = [k for k in serving if other in model.counters[k].config.queues]
            counted = open_at[serves].any(axis=0) if serves else np.zeros(n, dtype=np.bool_)
            if other == code:
                counted = np.ones(n, dtype=np.bool_)
            competing += np.where(counted, waiting[other], 0)
        wait = np.where(
            competing < idle, 0.0, (competing - idle + 1) * mean / np.maximum(servers, 1)
        )
        result_wait = np.where(mine, wait, result_wait)
        ahead = np.where(mine, waiting[code], ahead)
        servers_out = np.where(mine, servers, servers_out)
    return (
        np.rint(result_wait).astype(np.int64).tolist(),
        np.maximum(ahead, 0).tolist(),
        servers_out.tolist(),
        np.rint(mean).astype(np.int64).tolist(),
    )


def stories(
    plan: DayPlan, rep: Replication, rng: np.random.Generator
) -> tuple[list[list[Event]], list[list[tuple[float, float]]]]:
    """Each customer's events and each counter's (call, end) intervals."""
    model = plan.model
    configs = [c.config for c in model.counters]
    codes = plan.codes
    n = rep.customers
    day_end = float(rep.end_s) + 60.0
    arrival = rep.arrival_s.tolist()
    business = rep.business.tolist()
    tier = rep.tier.tolist()
    appointment = rep.appointment.tolist()
    green = rep.green_channel.tolist()
    no_show = rep.no_show.tolist()
    called = rep.called_s.tolist()
    counter = rep.counter.tolist()
    reason = rep.reason
    service = rep.drawn_service_s.tolist()
    outcome = rep.outcome.tolist()
    deadline = rep.drawn_deadline_s.tolist() if rep.drawn_deadline_s is not None else [math.inf] * n
    moved = rep.transferred_to.tolist()
    called2 = rep.called_again_s.tolist()
    counter2 = rep.counter_again.tolist()
    service2 = rep.drawn_service2_s.tolist() if rep.drawn_service2_s is not None else [0.0] * n
    walk = rng.uniform(8.0, 45.0, (2, n)).tolist()
    slow = (rng.random(n) < 0.04).tolist()  # recalled once before coming to the counter
    leave = rng.random((2, n)).tolist()
    busy: list[list[tuple[float, float]]] = [[] for _ in configs]

    def call(k: int, c: float, ticket: WaitingTicket, why: str) -> Event:
        """The call as ``actions.do_call_next`` records it: the strategy's rule, reason and
        params (``explain`` gives the params of the engine's decision) and the wait."""
        choice = explain(configs[k], ticket, why, c)
        data = {
            "rule": str(choice.rule),
            "reason_code": str(choice.reason_code),
            "params": choice.params,
            "waited_s": int(c - ticket.effective_at),
        }
        return (c, TicketEventKind.CALLED, k, data)

    def visit(
        events: list[Event],
        k: int,
        c: float,
        duration: float,
        ticket: WaitingTicket,
        why: str,
        i: int,
        j: int,
    ) -> float:
        """Called, maybe recalled once, started; returns the start."""
        events.append(call(k, c, ticket, why))
        start = c + min(walk[j][i], 0.25 * duration)
        if slow[i] and j == 0 and duration > 2 * NO_SHOW_RECALL_S:
            events.append((c + NO_SHOW_RECALL_S, TicketEventKind.RECALLED, k, {"recall": 1}))
            start = max(start, c + NO_SHOW_RECALL_S + min(walk[1][i], 0.25 * duration))
        events.append((start, TicketEventKind.STARTED, k, {}))
        busy[k].append((c, c + duration))
        return start

    result: list[list[Event]] = []
    for i in range(n):
        a = arrival[i]
        code = codes[business[i]]
        events: list[Event] = [(a, TicketEventKind.ISSUED, -1, {})]
        k = counter[i]
        if k >= 0:
            c = called[i]
            ticket = WaitingTicket(i, code, Tier(tier[i]), a, a, green[i], appointment[i], False)
            if no_show[i]:
                events.append(call(k, c, ticket, str(reason[i])))
                for r in (1, 2):
                    events.append(
                        (c + r * NO_SHOW_RECALL_S, TicketEventKind.RECALLED, k, {"recall": r})
                    )
                events.append(
                    (c + 3 * NO_SHOW_RECALL_S, TicketEventKind.NO_SHOW, k, {"recalls": 2})
                )
                busy[k].append((c, c + 3 * NO_SHOW_RECALL_S))
            else:
                start = visit(events, k, c, service[i], ticket, str(reason[i]), i, 0)
                end = c + service[i]
                to = moved[i]
                if to >= 0:
                    target = codes[to]
                    events.append(
                        (
                            end,
                            TicketEventKind.TRANSFERRED,
                            k,
                            {
                                "from_queue": code,
                                "from_state": TicketState.SERVING.value,
                                "to_queue": target,
                                "to_counter": None,
                                "placement": Placement.FRONT.value,
                            },
                        )
                    )
                    k2 = counter2[i]
                    if k2 >= 0:
                        c2 = called2[i]
                        again = WaitingTicket(i, target, Tier(tier[i]), a, end, False, False, True)
                        start2 = visit(
                            events, k2, c2, service2[i], again, "transferred_front", i, 1
                        )
                        end2 = c2 + service2[i]
                        events.append(
                            (end2, TicketEventKind.FINISHED, k2, {"service_s": int(end2 - start2)})
                        )
                    else:
                        events.append(
                            (
                                day_end,
                                TicketEventKind.CLOSED,
                                -1,
                                {"from_state": TicketState.WAITING.value},
                            )
                        )
                else:
                    events.append(
                        (end, TicketEventKind.FINISHED, k, {"service_s": int(end - start)})
                    )
        elif outcome[i] == ABANDONED:
            gone = deadline[i]
            if code in ("A", "B") and leave[0][i] < DIVERT_SHARE:
                at = a + (0.3 + 0.6 * leave[1][i]) * (gone - a)
                target = DivertTarget.SELF_SERVICE if code == "A" else DivertTarget.E_BANKING
                events.append(
                    (
                        at,
                        TicketEventKind.DIVERTED,
                        -1,
                        {
                            "target": target.value,
                            "outcome": DivertOutcome.SERVED.value,
                            "other_outlet": None,
                            "note": "",
                        },
                    )
                )
            else:
                events.append((gone, TicketEventKind.CANCELLED, -1, {"note": ""}))
        else:
            events.append(
                (day_end, TicketEventKind.CLOSED, -1, {"from_state": TicketState.WAITING.value})
            )
        result.append(events)
    return result, busy


@dataclass
class Folded:
    """A ticket's columns after its events up to some moment (``actions`` semantics)."""

    state: str = TicketState.WAITING
    queue: str = ""
    effective_at: float = 0.0
    front: bool = False
    counter: int = -1
    called_at: float | None = None
    started_at: float | None = None
    ended_at: float | None = None
    recalls: int = 0
    divert_target: str = ""
    divert_outcome: str = ""


def fold(queue: str, events: Iterable[Event]) -> Folded:
    f = Folded(queue=queue)
    for t, kind, k, data in events:
        if kind == TicketEventKind.ISSUED:
            f.effective_at = t
        elif kind == TicketEventKind.CALLED:
            f.state, f.counter, f.called_at, f.started_at, f.recalls = (
                TicketState.CALLED,
                k,
                t,
                None,
                0,
            )
        elif kind == TicketEventKind.RECALLED:
            f.recalls = data["recall"]
        elif kind == TicketEventKind.STARTED:
            f.state, f.started_at = TicketState.SERVING, t
        elif kind == TicketEventKind.TRANSFERRED:
            f.state, f.queue, f.effective_at, f.front = (
                TicketState.WAITING,
                data["to_queue"],
                t,
                True,
            )
            f.counter, f.called_at, f.started_at, f.recalls = -1, None, None, 0
        else:
            f.state, f.ended_at = _FINAL[kind], t
            if kind == TicketEventKind.DIVERTED:
                f.divert_target, f.divert_outcome = data["target"], data["outcome"]
    return f


_FINAL: dict[str, TicketState] = {
    TicketEventKind.NO_SHOW: TicketState.NO_SHOW,
    TicketEventKind.FINISHED: TicketState.FINISHED,
    TicketEventKind.DIVERTED: TicketState.DIVERTED,
    TicketEventKind.CANCELLED: TicketState.CANCELLED,
    TicketEventKind.CLOSED: TicketState.CLOSED,
}
COUNTER_KINDS = {
    TicketEventKind.CALLED,
    TicketEventKind.RECALLED,
    TicketEventKind.STARTED,
    TicketEventKind.NO_SHOW,
    TicketEventKind.FINISHED,
    TicketEventKind.TRANSFERRED,
}
LOBBY_KINDS = {TicketEventKind.DIVERTED, TicketEventKind.CANCELLED}


def counter_timeline(
    plan: DayPlan, k: int, busy: list[tuple[float, float]], rng: np.random.Generator
) -> list[tuple[float, str, str]]:
    """A counter's day as (time, counter event kind, pause reason): opened before its first
    shift, paused between shifts (once its last service of the shift is over), closed after
    its last service."""
    shifts = plan.model.counters[k].shifts
    if not shifts:
        return []
    busy = sorted(busy)
    first = shifts[0][0]
    opened = first - float(rng.uniform(60, 300)) if first == 0.0 else first
    timeline = [(opened, CounterEventKind.OPENED.value, "")]
    for (_, end), (start, _) in pairwise(shifts):
        pause = max([end, *(b for a, b in busy if a < end)])
        if pause < start:
            clock = _hours(plan.opens.timetz()) + pause / 3600
            reason = PauseReason.MEAL if 11.0 <= clock <= 14.0 else PauseReason.BACK_OFFICE
            timeline.append((pause, CounterEventKind.PAUSED.value, reason.value))
            timeline.append((start, CounterEventKind.RESUMED.value, ""))
    last_shift = shifts[-1][1]
    last_busy = max((b for _, b in busy), default=0.0)
    closed = max(min(last_shift, plan.close_s), last_busy) + float(rng.uniform(30, 240))
    timeline.append((closed, CounterEventKind.CLOSED.value, ""))
    return timeline


def write_day(
    plan: DayPlan,
    sink: Sink,
    people: People,
    customers: dict[int, list[str]],
    now_s: float | None,
    base_seed: int,
) -> tuple[int, int]:
    """Simulate ``plan`` and queue its rows in ``sink``; with ``now_s`` (the live day) only
    what happened up to then. Returns (tickets, still waiting)."""
    setup = plan.setup
    outlet = setup.outlet
    rng = outlet_rng(base_seed, outlet, plan.day, 1)
    rep = run_replication(plan.model, rng)
    n = rep.customers
    sqlite = sink.sqlite
    clock = Clock(plan.opens, sqlite)
    story, busy = stories(plan, rep, rng)
    left = np.array(
        [
            next((t for t, kind, *_ in events[1:] if kind != TicketEventKind.RECALLED), math.inf)
            for events in story
        ]
    )
    wait_est, ahead, servers, means = estimates(plan, rep, left)
    public = base64.urlsafe_b64encode(rng.bytes(15 * max(n, 1))).decode()
    channel_roll = rng.random(n).tolist()
    customer_roll = rng.random(n).tolist()
    ordinary_masks = rng.integers(0, 10_000, n).tolist()
    tier = rep.tier.tolist()
    appointment = rep.appointment.tolist()
    green = rep.green_channel.tolist()
    limit = math.inf if now_s is None else now_s
    counters = setup.counters
    counter_pks = [c.pk for c in counters]
    day_value = str(plan.day) if sqlite else plan.day
    outlet_pk = outlet.pk
    seq: dict[str, int] = {}
    types = setup.types
    waiting_now = 0
    at_counter: dict[int, int] = {}
    written = 0
    for i in range(n):
        events = [e for e in story[i] if e[0] <= limit]
        if not events:
            continue
        first_queue = plan.codes[int(rep.business[i])]
        folded = fold(first_queue, events)
        seq[first_queue] = seq.get(first_queue, 0) + 1
        number = f"{types[first_queue].prefix}{seq[first_queue]:03d}"
        if appointment[i]:
            channel = IssueChannel.APPOINTMENT.value
        else:
            channel = (
                IssueChannel.LOBBY_TABLET if channel_roll[i] < 0.1 else IssueChannel.KIOSK
            ).value
        t = tier[i]
        if t > 0:
            pool = customers.get(t) or [""]
            masked = pool[int(customer_roll[i] * len(pool))]
        elif customer_roll[i] < 0.25:
            masked = f"1{38 + ordinary_masks[i] % 3}****{ordinary_masks[i]:04d}"
        else:
            masked = ""
        k = folded.counter
        counter_pk = counter_pks[k] if k >= 0 else None
        teller = (people.tellers[k] or None) if k >= 0 else None
        if folded.state == TicketState.WAITING:
            waiting_now += 1
        ticket_pk = sink.tickets.add(
            public[20 * i : 20 * i + 20],
            outlet_pk,
            types[folded.queue].pk,
            folded.queue,
            day_value,
            seq[first_queue],
            number,
            t,
            green[i],
            appointment[i],
            folded.front,
            channel,
            str(folded.state),
            None,
            counter_pk,
            teller,
            clock(events[0][0]),
            clock(folded.effective_at),
            clock(folded.called_at),
            clock(folded.started_at),
            clock(folded.ended_at),
            folded.recalls,
            wait_est[i],
            ahead[i],
            masked,
            "",
            folded.divert_target,
            folded.divert_outcome,
        )
        if folded.state in (TicketState.CALLED, TicketState.SERVING) and k >= 0:
            at_counter[k] = ticket_pk
        for when, kind, ek, data in events:
            if kind == TicketEventKind.ISSUED:
                data = {
                    "channel": channel,
                    "estimated_wait_s": wait_est[i],
                    "waiting_ahead": ahead[i],
                    "open_counters": servers[i],
                    "mean_service_s": means[i],
                }
                staff = people.lobby if channel == IssueChannel.LOBBY_TABLET else None
            elif kind in COUNTER_KINDS:
                staff = people.tellers[ek] or None
            elif kind in LOBBY_KINDS:
                staff = people.lobby
            else:
                staff = None
            sink.events.add(
                ticket_pk,
                outlet_pk,
                str(kind),
                clock(when),
                staff,
                None,
                counter_pks[ek] if ek >= 0 else None,
                db_json(data, sqlite),
            )
        written += 1

    for code, last in seq.items():
        sink.series.append(
            TicketSeries(outlet=outlet, business_type=types[code], day=plan.day, last_number=last)
        )
    for k, counter in enumerate(counters):
        timeline = [e for e in counter_timeline(plan, k, busy[k], rng) if e[0] <= limit]
        teller = people.tellers[k]
        if not timeline or not teller:
            if now_s is not None:
                sink.states.append(CounterState(counter=counter, outlet=outlet))
            continue
        closed = timeline[-1][0] if timeline[-1][1] == CounterEventKind.CLOSED else None
        session = sink.sessions.add(
            counter.pk, outlet_pk, teller, None, clock(timeline[0][0]), clock(closed)
        )
        for when, kind, reason in timeline:
            sink.counter_events.add(
                counter.pk, outlet_pk, session, kind, reason, "", clock(when), teller, None
            )
        if now_s is not None:
            status = {
                CounterEventKind.OPENED: CounterStatus.OPEN,
                CounterEventKind.RESUMED: CounterStatus.OPEN,
                CounterEventKind.PAUSED: CounterStatus.PAUSED,
                CounterEventKind.CLOSED: CounterStatus.CLOSED,
            }[CounterEventKind(timeline[-1][1])]
            is_closed = status == CounterStatus.CLOSED
            sink.states.append(
                CounterState(
                    counter=counter,
                    outlet=outlet,
                    status=status,
                    pause_reason=timeline[-1][2] if status == CounterStatus.PAUSED else "",
                    session_id=None if is_closed else session,
                    teller_id=None if is_closed else teller,
                    current_ticket_id=at_counter.get(k) if not is_closed else None,
                )
            )
    return written, waiting_now


# -- people ----------------------------------------------------------------------------------


def people_by_day(
    outlets: list[OrgUnit], first: dt.date, last: dt.date
) -> Callable[[OrgUnit, dt.date, int], People]:
    """Who works where on a day: tellers by employee number at counters by number (so the
    well-known teller of the first outlet sits at counter 1), the first lobby manager."""
    rows = list(
        Assignment.objects.filter(
            unit__in=outlets, role__in=[Role.TELLER, Role.LOBBY_MANAGER], starts_on__lte=last
        )
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=first))
        .values_list("unit_id", "role", "staff_id", "staff__employee_no", "starts_on", "ends_on")
        .order_by("staff__employee_no")
    )

    def on(outlet: OrgUnit, day: dt.date, counters: int) -> People:
        here = [
            (role, staff)
            for unit, role, staff, _no, starts, ends in rows
            if unit == outlet.pk and starts <= day and (ends is None or ends >= day)
        ]
        tellers = [staff for role, staff in here if role == Role.TELLER][:counters]
        lobby = next((staff for role, staff in here if role == Role.LOBBY_MANAGER), None)
        return People(tellers + [0] * (counters - len(tellers)), lobby)

    return on


def live_now(ctx: DemoContext, outlet: OrgUnit) -> dt.datetime:
    """The live day's "now": the real time when ``today`` is the real date, else
    ``LIVE_TIME`` on ``today``."""
    real = timezone.now()
    if real.astimezone(outlet.zone).date() == ctx.today:
        return real
    return dt.datetime.combine(ctx.today, LIVE_TIME, tzinfo=outlet.zone)


# -- the generator ---------------------------------------------------------------------------


def _seeded() -> bool:
    return Ticket.objects.exists() or BusinessType.objects.exists()


@demo_generator(APP, order=20, seeded=_seeded)
def generate(ctx: DemoContext) -> QueueDemo:
    result = QueueDemo()
    province = (
        OrgUnit.objects.filter(kind=UnitKind.PROVINCE, parent__isnull=True).order_by("pk").first()
    )
    if province is None:
        return result
    outlets = list(OrgUnit.objects.filter(kind=UnitKind.OUTLET).order_by("code"))
    counters: CountersByOutlet = {outlet.pk: [] for outlet in outlets}
    for counter in Counter.objects.filter(outlet__in=outlets, is_active=True).order_by("number"):
        counters[counter.outlet_id].append(counter)
    result.business_types = seed_configuration(ctx, province, outlets, counters)
    by_tier = seed_customers(ctx)
    result.customers = sum(len(v) for v in by_tier.values())
    base_seed = stable_seed(ctx.seed, APP)
    setups = [s for s in outlet_setups(base_seed, outlets, counters) if s.counters and s.types]
    days = [*ctx.history(), ctx.today]
    staff_on = people_by_day(outlets, days[0], days[-1])
    sink = Sink(
        tickets=FastInsert(Ticket, TICKET_FIELDS),
        events=FastInsert(TicketEvent, EVENT_FIELDS),
        sessions=FastInsert(CounterSession, SESSION_FIELDS),
        counter_events=FastInsert(CounterEvent, COUNTER_EVENT_FIELDS),
        sqlite=connection.vendor == "sqlite",
    )
    for done, setup in enumerate(setups):
        now = live_now(ctx, setup.outlet)
        for day in days:
            live = day == ctx.today
            if not is_open(setup, day):
                if live:
                    sink.states += [
                        CounterState(counter=c, outlet=setup.outlet) for c in setup.counters
                    ]
                continue
            people = staff_on(setup.outlet, day, len(setup.counters))
            rng = outlet_rng(base_seed, setup.outlet, day)
            plan = plan_day(setup, day, rng, [bool(teller) for teller in people.tellers])
            now_s = (now - plan.opens).total_seconds() if live else None
            tickets, waiting = write_day(plan, sink, people, by_tier, now_s, base_seed)
            result.days += 1
            result.tickets += tickets
            if live:
                result.live_waiting += waiting
            sink.flush()
        ctx.progress(done + 1, len(setups), "outlet days (tickets, events)")
    sink.flush(force=True)
    reset_sequences([Ticket, TicketEvent, CounterSession, CounterEvent])
    ctx.bulk_create(TicketSeries, sink.series, "ticket series")
    # Rows of the live queue that exist already (the queue was used before seeding) are kept.
    with_state = set(CounterState.objects.values_list("counter_id", flat=True))
    states = [state for state in sink.states if state.counter_id not in with_state]
    ctx.bulk_create(CounterState, states, "counter states")
    with_queue = set(OutletQueue.objects.values_list("outlet_id", flat=True))
    queues = [OutletQueue(outlet=s.outlet, day=ctx.today) for s in setups]
    ctx.bulk_create(
        OutletQueue, [q for q in queues if q.outlet_id not in with_queue], "outlet queues"
    )
    result.events = sink.events.written
    result.sessions = sink.sessions.written
    return result


def reset_sequences(tables: list[type[models.Model]]) -> None:
    """After inserting explicit primary keys, PostgreSQL's sequences must follow."""
    statements = connection.ops.sequence_reset_sql(no_style(), tables)
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


TICKET_FIELDS = (
    "public_id",
    "outlet",
    "business_type",
    "queue",
    "day",
    "seq",
    "number",
    "tier",
    "green_channel",
    "appointment",
    "front",
    "channel",
    "state",
    "target_counter",
    "counter",
    "teller",
    "issued_at",
    "effective_at",
    "called_at",
    "started_at",
    "ended_at",
    "recalls",
    "estimated_wait_s",
    "waiting_ahead",
    "customer_masked",
    "idempotency_key",
    "divert_target",
    "divert_outcome",
)
EVENT_FIELDS = ("ticket", "outlet", "kind", "at", "staff", "device", "counter", "data")
SESSION_FIELDS = ("counter", "outlet", "teller", "device", "opened_at", "closed_at")
COUNTER_EVENT_FIELDS = (
    "counter",
    "outlet",
    "session",
    "kind",
    "reason",
    "note",
    "at",
    "staff",
    "device",
)
