"""The demo's evaluations: ratings of the demo history's transactions, by tellers of different
habits and customers whose satisfaction depends on their wait.

Habits are drawn from behaviour ranges set independently of the integrity rules' thresholds:

* honest tellers (most): initiate 85–99 % of their transactions, whatever the wait;
* selective initiators (a few): initiate as often after ordinary transactions, but only
  15–50 % after a wait or a service longer than their own limit (10–20 min);
* one self-rater: on some days presses the pad himself for a stretch of transactions (top
  level, within 0.3–1.5 s), and rates some of his no-show tickets.

``branchserve demo --honest`` plants no cheats. Which tellers cheat is returned, and written
to ``VAR_DIR/demo_integrity_truth.json`` (``planted_cheaters()``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings as django_settings

from branchserve.core.demo import DemoContext, demo_generator
from branchserve.evaluations.choices import EvaluationEventKind, EvaluationState, InitiatedVia
from branchserve.evaluations.integrity import _segment_times
from branchserve.evaluations.models import (
    Evaluation,
    EvaluationEvent,
    levels_for,
    reasons_for,
    settings_for,
)
from branchserve.evaluations.rates import transaction_q
from branchserve.org.models import OrgUnit, Staff
from branchserve.queueing.choices import TicketEventKind
from branchserve.queueing.models import TicketEvent

APP = "evaluations"
TRUTH_FILE = "demo_integrity_truth.json"
HONEST, SELECTIVE, SELF_RATER = "honest", "selective", "self_rater"
# Which integrity rules should catch each planted habit.
RULES_OF = {
    SELECTIVE: {"selective_initiation"},
    SELF_RATER: {"fast_rating", "no_customer", "burst"},
}
COMMENTS = {
    "unsatisfied": [
        "等了太久，窗口开得太少。",
        "柜员态度冷淡，问了两遍才回答。",
        "业务不熟练，办了很久。",
        "大厅太吵，座位不够。",
    ],
    "very_satisfied": ["服务热情，解释清楚，谢谢！", "办理很快，非常专业。", "态度很好。"],
    "neutral": ["一般吧。", "还可以，就是有点慢。"],
}


@dataclass
class Habit:
    kind: str
    initiate: float
    long_initiate: float = 0.0
    long_wait_s: int = 0
    long_service_s: int = 0
    self_days: float = 0.0
    no_show_rate: float = 0.0
    quality: float = 0.0


@dataclass
class EvaluationsDemo:
    evaluations: int = 0
    honest: bool = False
    cheaters: dict[str, list[str]] = field(default_factory=dict)  # kind → employee numbers


def truth_path() -> Path:
    return Path(django_settings.VAR_DIR) / TRUTH_FILE


def planted_cheaters() -> dict[str, list[str]]:
    """The planted cheaters of the last demo seeded here: habit → employee numbers."""
    try:
        data = json.loads(truth_path().read_text())
    except (OSError, ValueError):
        return {}
    return dict(data.get("cheaters", {}))


def draw_habits(ctx: DemoContext, tellers: list[int]) -> dict[int, Habit]:
    rng = ctx.random
    habits = {
        t: Habit(HONEST, rng.uniform(0.85, 0.99), quality=rng.uniform(-0.08, 0.08)) for t in tellers
    }
    if ctx.options.get("honest") or len(tellers) < 4:
        return habits
    chosen = rng.sample(tellers, max(2, round(0.06 * len(tellers))) + 1)
    for t in chosen[1:]:
        habits[t] = Habit(
            SELECTIVE,
            rng.uniform(0.85, 0.98),
            long_initiate=rng.uniform(0.15, 0.5),
            long_wait_s=rng.randint(10, 20) * 60,
            long_service_s=rng.randint(10, 20) * 60,
            quality=habits[t].quality,
        )
    habits[chosen[0]] = Habit(
        SELF_RATER,
        rng.uniform(0.9, 0.99),
        self_days=rng.uniform(0.4, 0.8),
        no_show_rate=rng.uniform(0.4, 0.9),
        quality=habits[chosen[0]].quality,
    )
    return habits


def _seeded() -> bool:
    return Evaluation.objects.exists()


@demo_generator(APP, order=30, seeded=_seeded)
def generate(ctx: DemoContext) -> EvaluationsDemo:
    rng = ctx.random
    lo = dt.datetime.combine(ctx.first_day, dt.time(), tzinfo=dt.UTC) - dt.timedelta(days=1)
    hi = dt.datetime.combine(ctx.today, dt.time(), tzinfo=dt.UTC) + dt.timedelta(days=1)
    tx_rows = list(
        TicketEvent.objects.filter(transaction_q(), at__gte=lo, at__lt=hi, staff__isnull=False)
        .filter(counter__isnull=False)
        .order_by("at", "pk")
        .values_list("pk", "ticket_id", "staff_id", "counter_id", "outlet_id", "at")
    )
    tellers = sorted({row[2] for row in tx_rows})
    habits = draw_habits(ctx, tellers)
    outlets = {o.pk: o for o in OrgUnit.objects.filter(pk__in={row[4] for row in tx_rows})}
    levels = {pk: {lv.code: lv for lv in levels_for(o)} for pk, o in outlets.items()}
    reasons = {pk: [r.code for r in reasons_for(o)] for pk, o in outlets.items()}
    timeouts = {pk: settings_for(o).answer_timeout_s for pk, o in outlets.items()}
    ctx.progress(0, len(tx_rows), "segment times")
    times = _segment_times({row[1] for row in tx_rows})
    response = {pk: rng.uniform(0.85, 0.97) for pk in outlets}

    # The self-rater's stretches: (teller, local day) → (from, to) local hours.
    stretches: dict[tuple[int, dt.date], tuple[float, float]] = {}
    for t, habit in habits.items():
        if habit.kind == SELF_RATER:
            for day in ctx.history():
                if rng.random() < habit.self_days:
                    begin = rng.uniform(9.5, 14.5)
                    stretches[t, day] = (begin, begin + rng.uniform(1.5, 3.0))

    evaluations: list[Evaluation] = []
    events: list[tuple[int, str, dt.datetime, dict[str, Any]]] = []  # (index, kind, at, detail)

    def add(
        tx_id: int,
        ticket_id: int,
        teller: int,
        counter: int,
        outlet_id: int,
        at: dt.datetime,
        wait_s: int | None,
        service_s: int | None,
        self_rated: bool,
    ) -> None:
        habit = habits[teller]
        initiated = at + dt.timedelta(seconds=rng.uniform(2, 15))
        outlet_levels = levels[outlet_id]
        index = len(evaluations)
        count = 2 if rng.random() < 0.01 else 1
        evaluation = Evaluation(
            public_id=f"{rng.getrandbits(80):020x}",
            ticket_id=ticket_id,
            transaction_id=tx_id,
            outlet_id=outlet_id,
            counter_id=counter,
            teller_id=teller,
            finished_at=at,
            wait_s=wait_s,
            service_s=service_s,
            initiated_at=initiated,
            initiated_via=InitiatedVia.TERMINAL,
            initiated_by_id=teller,
            initiation_count=count,
            expires_at=initiated + dt.timedelta(seconds=timeouts[outlet_id]),
        )
        events.append((index, EvaluationEventKind.INITIATED, initiated, {"via": "terminal"}))
        if count == 2:
            again = initiated + dt.timedelta(seconds=rng.uniform(1, 5))
            events.append((index, EvaluationEventKind.INITIATED_AGAIN, again, {"count": 2}))
        code: str | None
        if self_rated:
            code = "very_satisfied"
            delay = rng.uniform(0.3, 1.5)
        elif rng.random() < response[outlet_id]:
            minutes = (wait_s or 0) / 60
            top = max(0.3, 0.78 + habit.quality - 0.012 * minutes)
            unsatisfied = min(0.15, 0.005 + 0.004 * minutes)
            x = rng.random()
            code = (
                "very_satisfied"
                if x < top
                else "unsatisfied"
                if x < top + unsatisfied
                else "neutral"
                if x < top + unsatisfied + 0.05
                else "satisfied"
            )
            delay = min(1.2 + rng.lognormvariate(1.6, 0.7), timeouts[outlet_id] - 1)
        else:
            code = None
            delay = 0
        level = outlet_levels.get(code) if code else None
        if level is None:
            evaluation.state = EvaluationState.NOT_RATED
            events.append((index, EvaluationEventKind.EXPIRED, evaluation.expires_at, {}))
        else:
            evaluation.state = EvaluationState.RATED
            evaluation.level = level
            evaluation.satisfied = level.counts_as_satisfied
            evaluation.rated_at = initiated + dt.timedelta(seconds=delay)
            if level.needs_reason and reasons[outlet_id]:
                waited = (wait_s or 0) > 900 and "waited_too_long" in reasons[outlet_id]
                evaluation.reasons = (
                    ["waited_too_long"] if waited else [rng.choice(reasons[outlet_id])]
                )
            if code in COMMENTS and rng.random() < (0.5 if code == "unsatisfied" else 0.08):
                evaluation.comment = rng.choice(COMMENTS[code])
            events.append((index, EvaluationEventKind.RATED, evaluation.rated_at, {"level": code}))
        evaluations.append(evaluation)

    for n, (tx_id, ticket_id, teller, counter, outlet_id, at) in enumerate(tx_rows):
        habit = habits[teller]
        local = at.astimezone(outlets[outlet_id].zone)
        wait_s, service_s = times.get(tx_id, (None, None))
        stretch = stretches.get((teller, local.date()))
        self_rated = bool(stretch and stretch[0] <= local.hour + local.minute / 60 < stretch[1])
        p = habit.initiate
        if habit.kind == SELECTIVE and (
            (wait_s or 0) >= habit.long_wait_s or (service_s or 0) >= habit.long_service_s
        ):
            p = habit.long_initiate
        if self_rated or rng.random() < p:
            add(tx_id, ticket_id, teller, counter, outlet_id, at, wait_s, service_s, self_rated)
        if n % 5000 == 0:
            ctx.progress(n, len(tx_rows), "evaluations")

    # The self-rater rates some of his no-show tickets.
    raters = [t for t, h in habits.items() if h.kind == SELF_RATER]
    for tx_id, ticket_id, teller, counter, outlet_id, at in (
        TicketEvent.objects.filter(
            kind=TicketEventKind.NO_SHOW, staff_id__in=raters, at__gte=lo, at__lt=hi
        )
        .filter(counter__isnull=False)
        .order_by("at", "pk")
        .values_list("pk", "ticket_id", "staff_id", "counter_id", "outlet_id", "at")
    ):
        if rng.random() < habits[teller].no_show_rate:
            add(tx_id, ticket_id, teller, counter, outlet_id, at, None, 0, True)

    created = ctx.bulk_create(Evaluation, evaluations)
    rows = [
        EvaluationEvent(
            evaluation_id=created[index].pk,
            kind=kind,
            at=at,
            staff_id=created[index].teller_id if kind.startswith("initiated") else None,
            detail=detail,
        )
        for index, kind, at, detail in events
    ]
    ctx.bulk_create(EvaluationEvent, rows)

    numbers = dict(Staff.objects.filter(pk__in=tellers).values_list("pk", "employee_no"))
    cheaters: dict[str, list[str]] = defaultdict(list)
    for t, habit in habits.items():
        if habit.kind != HONEST:
            cheaters[habit.kind].append(numbers[t])
    result = EvaluationsDemo(
        evaluations=len(created),
        honest=bool(ctx.options.get("honest")),
        cheaters={kind: sorted(nos) for kind, nos in cheaters.items()},
    )
    with contextlib.suppress(OSError):
        truth_path().write_text(
            json.dumps(
                {"seed": ctx.seed, "honest": result.honest, "cheaters": result.cheaters},
                ensure_ascii=False,
            )
        )
    return result
