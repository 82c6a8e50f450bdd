"""Rating integrity (anti-gaming): four rules, each flag with evidence a manager can check.

Every rule runs per teller and period at one outlet, with the outlet's thresholds
(``EvaluationSettings``), and writes ``IntegrityFlag`` rows keyed by (rule, outlet, teller,
period_start, period_end): a re-run updates the score and evidence of a flag and never touches
its verdict; a pending flag whose rule no longer fires is removed, a judged one is kept.

* **selective initiation** (per ISO week, Monday–Sunday): whether the transactions a teller
  did not put to the customer were the ones that went badly. Each transaction's *lateness* is
  the larger of its wait ÷ ``long_wait_s`` and its service ÷ ``long_service_s``. Fires on
  either test: (a) the rank test — the transactions without an evaluation ran later than those
  with one: a one-sided Mann–Whitney test gives p < ``RANK_ALPHA`` and the probability that a
  skipped transaction ran later than an initiated one (the AUC) is at least ``selective_auc``,
  with at least ``RANK_MIN_SKIPPED`` skipped and ``min_sample`` initiated transactions; or
  (b) the rate test — the initiation rate after a long wait or service (lateness ≥ 1) is at
  least ``selective_gap`` below the rate after the others, both groups at least ``min_sample``
  and a one-sided two-proportion z-test gives p < ``ALPHA``. The rank test needs no threshold
  between "long" and "ordinary" (a teller's own idea of a bad transaction is not the bank's),
  and works on the few long transactions of a week; the rate test is the plainer evidence.
* **fast rating** (per day): ratings given less than ``fast_rating_s`` seconds after the
  evaluation was initiated — too fast for a customer to read the pad. Fires on at least
  ``FAST_MIN_COUNT`` such ratings that are at least ``FAST_MIN_SHARE`` of the day's ratings.
* **no customer** (per day): ratings of transactions whose ticket was a no-show, or whose
  service lasted at most ``ZERO_SERVICE_S`` seconds. Fires on ``NO_CUSTOMER_MIN`` such ratings.
* **streaks and bursts** (per day): the longest run of consecutive ratings at the top level,
  and the most ratings within any ``burst_window_s`` window, each as a robust z-score (median,
  scaled MAD) against the distribution of the same figure over the outlet's teller-days of the
  last ``REFERENCE_DAYS`` days. Fires when the window's z reaches ``burst_z`` and all its
  ratings are at one level. The streak is evidence only: with honest top-level shares of
  75–85 % long runs happen by chance (on the demo it flagged one honest teller in six).
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from branchserve.audit.actions import record
from branchserve.audit.choices import AuditAction
from branchserve.core.errors import ActionError
from branchserve.evaluations.choices import EvaluationState, FlagVerdict, IntegrityRule
from branchserve.evaluations.models import (
    Evaluation,
    EvaluationSettings,
    IntegrityFlag,
    settings_for,
)
from branchserve.evaluations.rates import local_bounds, transaction_q
from branchserve.org.choices import UnitKind
from branchserve.org.models import OrgUnit, Staff
from branchserve.org.scoping import require_permission
from branchserve.queueing.choices import TicketEventKind
from branchserve.queueing.models import TicketEvent

# Fixed parts of the rules (the rest are the outlet's EvaluationSettings).
ALPHA = 0.01  # significance of the selective-initiation rate test (one-sided)
# The rank test runs on every teller-week, so it asks for more: about one honest teller-week in
# a thousand passes it by chance before the AUC is even looked at.
RANK_ALPHA = 0.001
RANK_MIN_SKIPPED = 8
FAST_MIN_COUNT = 3
FAST_MIN_SHARE = 0.10
ZERO_SERVICE_S = 3
NO_CUSTOMER_MIN = 1
REFERENCE_DAYS = 28
MIN_REFERENCE = 10  # teller-days needed for a burst/streak z-score
MIN_SIGMA = 1.0  # floor of the robust spread (counts are whole numbers)
EVIDENCE_ROWS = 50  # evaluations listed in a flag's evidence at most

DAILY_RULES = (IntegrityRule.FAST_RATING, IntegrityRule.NO_CUSTOMER, IntegrityRule.BURST)


# -- statistics --------------------------------------------------------------------------------


def normal_sf(z: float) -> float:
    """P(Z ≥ z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2))


def two_proportion_test(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float]:
    """(z, one-sided p) of H1: p1 > p2, pooled two-proportion z-test."""
    if n1 == 0 or n2 == 0:
        return 0.0, 1.0
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 0.0, 1.0
    z = (x1 / n1 - x2 / n2) / se
    return z, normal_sf(z)


def robust_z(value: float, reference: list[float]) -> tuple[float, float, float]:
    """(z, median, sigma): ``value`` against ``reference``: its median, and the larger of its
    scaled MAD and its standard deviation (long runs have a heavy right tail)."""
    median = statistics.median(reference)
    mad = statistics.median(abs(x - median) for x in reference)
    spread = statistics.pstdev(reference) if len(reference) > 1 else 0.0
    sigma = max(1.4826 * mad, spread, MIN_SIGMA)
    return (value - median) / sigma, median, sigma


def longest_run(levels: list[int | None], top: int | None) -> tuple[int, int]:
    """(length, index where it starts) of the longest run of ``top`` in ``levels``."""
    best, best_at, run, run_at = 0, 0, 0, 0
    for i, level in enumerate(levels):
        if level == top and top is not None:
            if run == 0:
                run_at = i
            run += 1
            if run > best:
                best, best_at = run, run_at
        else:
            run = 0
    return best, best_at


def densest_window(times: list[dt.datetime], window_s: int) -> tuple[int, int]:
    """(count, index of the first) of the most ``times`` (sorted) within ``window_s`` seconds."""
    best, best_at, lo = 0, 0, 0
    for hi, at in enumerate(times):
        while (at - times[lo]).total_seconds() >= window_s:
            lo += 1
        if hi - lo + 1 > best:
            best, best_at = hi - lo + 1, lo
    return best, best_at


# -- periods ---------------------------------------------------------------------------------


def days(start: dt.date, end: dt.date) -> Iterator[dt.date]:
    day = start
    while day <= end:
        yield day
        day += dt.timedelta(days=1)


def weeks(start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    """The ISO weeks (Monday–Sunday) that overlap ``start``–``end``."""
    monday = start - dt.timedelta(days=start.weekday())
    result = []
    while monday <= end:
        result.append((monday, monday + dt.timedelta(days=6)))
        monday += dt.timedelta(days=7)
    return result


def _iso(at: dt.datetime | None, outlet: OrgUnit) -> str | None:
    return at.astimezone(outlet.zone).isoformat(timespec="seconds") if at else None


# -- the rules ---------------------------------------------------------------------------------

Found = dict[int, tuple[float, dict[str, Any]]]  # teller pk → (score, evidence)


@dataclass(frozen=True)
class Segment:
    """One transaction with the times the selective-initiation rule needs."""

    event_id: int
    teller_id: int
    wait_s: int | None
    service_s: int | None
    initiated: bool


def segments(outlet: OrgUnit, start: dt.date, end: dt.date) -> list[Segment]:
    """The outlet's transactions of the period with their wait and service times.

    Wait: from when the ticket queued for this segment (issued, or transferred back to waiting)
    to the call before the service; service: from the start to the finish or transfer.
    Evaluated transactions use the times copied onto their evaluation.
    """
    lo, hi = local_bounds(outlet.zone, start, end)
    tx = list(
        TicketEvent.objects.filter(transaction_q(), outlet=outlet, at__gte=lo, at__lt=hi)
        .filter(staff__isnull=False)
        .values_list("pk", "ticket_id", "staff_id")
    )
    if not tx:
        return []
    evaluated = dict(
        Evaluation.objects.filter(transaction_id__in=[row[0] for row in tx]).values_list(
            "transaction_id", "pk"
        )
    )
    times: dict[int, tuple[int | None, int | None]] = dict(
        (row[0], (row[1], row[2]))
        for row in Evaluation.objects.filter(pk__in=evaluated.values()).values_list(
            "transaction_id", "wait_s", "service_s"
        )
    )
    missing = {ticket_id for pk, ticket_id, _s in tx if pk not in times}
    if missing:
        times.update(_segment_times(missing))
    return [
        Segment(
            event_id=pk,
            teller_id=staff_id,
            wait_s=times.get(pk, (None, None))[0],
            service_s=times.get(pk, (None, None))[1],
            initiated=pk in evaluated,
        )
        for pk, _ticket, staff_id in tx
    ]


def _segment_times(ticket_ids: Iterable[int]) -> dict[int, tuple[int | None, int | None]]:
    """transaction event pk → (wait_s, service_s), from the tickets' events and issue times."""
    from branchserve.queueing.models import Ticket

    issued = dict(Ticket.objects.filter(pk__in=ticket_ids).values_list("pk", "issued_at"))
    events: dict[int, list[tuple[dt.datetime, int, str]]] = defaultdict(list)
    for ticket_id, at, pk, kind in (
        TicketEvent.objects.filter(ticket_id__in=issued)
        .order_by("ticket_id", "at", "pk")
        .values_list("ticket_id", "at", "pk", "kind")
    ):
        events[ticket_id].append((at, pk, kind))
    result: dict[int, tuple[int | None, int | None]] = {}
    for ticket_id, rows in events.items():
        queued: dt.datetime | None = issued[ticket_id]
        called: dt.datetime | None = None
        started: dt.datetime | None = None
        for at, pk, kind in rows:
            if kind == TicketEventKind.CALLED and called is None:
                called = at
            elif kind == TicketEventKind.STARTED:
                started = at
            elif kind in (TicketEventKind.FINISHED, TicketEventKind.TRANSFERRED):
                wait = int((called - queued).total_seconds()) if called and queued else None
                service = int((at - started).total_seconds()) if started else None
                result[pk] = (wait, service)
                queued, called, started = at, None, None
    return result


def lateness(segment: Segment, settings: EvaluationSettings) -> float:
    """The larger of the transaction's wait ÷ ``long_wait_s`` and service ÷ ``long_service_s``."""
    wait = (segment.wait_s or 0) / max(settings.long_wait_s, 1)
    service = (segment.service_s or 0) / max(settings.long_service_s, 1)
    return max(wait, service)


def rank_test(skipped: list[float], initiated: list[float]) -> tuple[float, float]:
    """One-sided Mann–Whitney test that ``skipped`` ran later than ``initiated``: (AUC, p)."""
    from scipy.stats import mannwhitneyu

    result = mannwhitneyu(skipped, initiated, alternative="greater")
    return float(result.statistic) / (len(skipped) * len(initiated)), float(result.pvalue)


def check_selective_initiation(
    outlet: OrgUnit, start: dt.date, end: dt.date, settings: EvaluationSettings
) -> Found:
    gap = float(settings.selective_gap)
    min_auc = float(settings.selective_auc)
    by_teller: dict[int, list[Segment]] = defaultdict(list)
    for segment in segments(outlet, start, end):
        by_teller[segment.teller_id].append(segment)
    found: Found = {}
    for teller_id, rows in by_teller.items():
        late = [lateness(s, settings) for s in rows]
        long = [s for s, value in zip(rows, late, strict=True) if value >= 1]
        other = [s for s, value in zip(rows, late, strict=True) if value < 1]
        n_long, n_other = len(long), len(other)
        x_long = sum(s.initiated for s in long)
        x_other = sum(s.initiated for s in other)
        rate_long = x_long / n_long if n_long else None
        rate_other = x_other / n_other if n_other else None
        skipped = [v for s, v in zip(rows, late, strict=True) if not s.initiated]
        initiated = [v for s, v in zip(rows, late, strict=True) if s.initiated]
        by_rank = by_rate = False
        auc = p_rank = z = p = None
        if len(skipped) >= RANK_MIN_SKIPPED and len(initiated) >= settings.min_sample:
            auc, p_rank = rank_test(skipped, initiated)
            by_rank = p_rank < RANK_ALPHA and auc >= min_auc
        if n_long >= settings.min_sample and n_other >= settings.min_sample:
            z, p = two_proportion_test(x_other, n_other, x_long, n_long)
            assert rate_long is not None and rate_other is not None
            by_rate = rate_other - rate_long >= gap and p < ALPHA
        if not (by_rank or by_rate):
            continue
        score = auc if by_rank and auc is not None else (rate_other or 0) - (rate_long or 0)
        found[teller_id] = (
            round(score, 4),
            {
                "long_wait_s": settings.long_wait_s,
                "long_service_s": settings.long_service_s,
                "long": {"transactions": n_long, "initiated": x_long, "rate": rate_long},
                "other": {"transactions": n_other, "initiated": x_other, "rate": rate_other},
                "gap": (rate_other - rate_long)
                if rate_long is not None and rate_other is not None
                else None,
                "threshold_gap": gap,
                "z": z,
                "p_value": p,
                "alpha": ALPHA,
                "by_rate": by_rate,
                "rank": {
                    "skipped": len(skipped),
                    "initiated": len(initiated),
                    "median_lateness_skipped": statistics.median(skipped) if skipped else None,
                    "median_lateness_initiated": statistics.median(initiated)
                    if initiated
                    else None,
                    "auc": auc,
                    "threshold_auc": min_auc,
                    "p_value": p_rank,
                    "alpha": RANK_ALPHA,
                },
                "by_rank": by_rank,
            },
        )
    return found


def _rated(outlet: OrgUnit, start: dt.date, end: dt.date) -> list[Evaluation]:
    lo, hi = local_bounds(outlet.zone, start, end)
    return list(
        Evaluation.objects.filter(
            outlet=outlet, state=EvaluationState.RATED, rated_at__gte=lo, rated_at__lt=hi
        )
        .select_related("ticket", "level")
        .order_by("teller_id", "rated_at", "pk")
    )


def _row(evaluation: Evaluation, outlet: OrgUnit, **extra: Any) -> dict[str, Any]:
    return {
        "evaluation": evaluation.public_id,
        "ticket": evaluation.ticket.number,
        "initiated_at": _iso(evaluation.initiated_at, outlet),
        "rated_at": _iso(evaluation.rated_at, outlet),
        "level": evaluation.level.code if evaluation.level else None,
        **extra,
    }


def check_fast_rating(
    outlet: OrgUnit, day: dt.date, settings: EvaluationSettings, rated: list[Evaluation]
) -> Found:
    by_teller: dict[int, list[Evaluation]] = defaultdict(list)
    for evaluation in rated:
        by_teller[evaluation.teller_id].append(evaluation)
    found: Found = {}
    for teller_id, rows in by_teller.items():
        fast = [
            (e, (e.rated_at - e.initiated_at).total_seconds())
            for e in rows
            if e.rated_at is not None
            and (e.rated_at - e.initiated_at).total_seconds() < settings.fast_rating_s
        ]
        share = len(fast) / len(rows)
        if len(fast) >= FAST_MIN_COUNT and share >= FAST_MIN_SHARE:
            found[teller_id] = (
                round(share, 4),
                {
                    "threshold_s": settings.fast_rating_s,
                    "rated": len(rows),
                    "fast": len(fast),
                    "share": share,
                    "evaluations": [
                        _row(e, outlet, seconds=round(s, 1)) for e, s in fast[:EVIDENCE_ROWS]
                    ],
                },
            )
    return found


def check_no_customer(
    outlet: OrgUnit, day: dt.date, settings: EvaluationSettings, rated: list[Evaluation]
) -> Found:
    ticket_ids = {e.ticket_id for e in rated}
    no_show = set(
        TicketEvent.objects.filter(
            ticket_id__in=ticket_ids, kind=TicketEventKind.NO_SHOW
        ).values_list("ticket_id", flat=True)
    )
    by_teller: dict[int, list[dict[str, Any]]] = defaultdict(list)
    counts: dict[int, int] = defaultdict(int)
    for e in rated:
        counts[e.teller_id] += 1
        if e.ticket_id in no_show:
            by_teller[e.teller_id].append(_row(e, outlet, why="no_show", service_s=e.service_s))
        elif e.service_s is not None and e.service_s <= ZERO_SERVICE_S:
            by_teller[e.teller_id].append(
                _row(e, outlet, why="zero_service", service_s=e.service_s)
            )
    return {
        teller_id: (
            float(len(rows)),
            {
                "zero_service_s": ZERO_SERVICE_S,
                "rated": counts[teller_id],
                "no_customer": len(rows),
                "no_show": sum(1 for r in rows if r["why"] == "no_show"),
                "zero_service": sum(1 for r in rows if r["why"] == "zero_service"),
                "evaluations": rows[:EVIDENCE_ROWS],
            },
        )
        for teller_id, rows in by_teller.items()
        if len(rows) >= NO_CUSTOMER_MIN
    }


@dataclass
class TellerDay:
    teller_id: int
    day: dt.date
    rows: list[Evaluation] = field(default_factory=list)
    run: int = 0
    run_at: int = 0
    window: int = 0
    window_at: int = 0


def teller_days(
    outlet: OrgUnit, start: dt.date, end: dt.date, window_s: int
) -> dict[tuple[int, dt.date], TellerDay]:
    """The outlet's rated evaluations from ``start`` to ``end`` by teller and local day, with
    each teller-day's longest top-level run and densest window."""
    rated = _rated(outlet, start, end)
    top = min((e.level.order for e in rated if e.level is not None), default=None)
    result: dict[tuple[int, dt.date], TellerDay] = {}
    for e in rated:
        assert e.rated_at is not None
        key = (e.teller_id, e.rated_at.astimezone(outlet.zone).date())
        result.setdefault(key, TellerDay(*key)).rows.append(e)
    for td in result.values():
        td.run, td.run_at = longest_run([e.level.order if e.level else None for e in td.rows], top)
        td.window, td.window_at = densest_window(
            [e.rated_at for e in td.rows if e.rated_at is not None], window_s
        )
    return result


def check_burst(
    outlet: OrgUnit,
    day: dt.date,
    settings: EvaluationSettings,
    all_days: dict[tuple[int, dt.date], TellerDay],
) -> Found:
    reference = [
        td for (_t, d), td in all_days.items() if day - dt.timedelta(REFERENCE_DAYS) < d <= day
    ]
    if len(reference) < MIN_REFERENCE:
        return {}
    runs = [float(td.run) for td in reference]
    windows = [float(td.window) for td in reference]
    threshold = float(settings.burst_z)
    found: Found = {}
    for td in reference:
        if td.day != day:
            continue
        z_run, run_median, run_sigma = robust_z(td.run, runs)
        z_window, window_median, window_sigma = robust_z(td.window, windows)
        run_rows = td.rows[td.run_at : td.run_at + td.run]
        window_rows = td.rows[td.window_at : td.window_at + td.window]
        # A burst counts when its ratings are all alike (one level): busy honest hours are
        # dense too, but their customers do not all press the same key.
        uniform = len({e.level_id for e in window_rows}) == 1
        if not (uniform and z_window >= threshold):
            continue
        found[td.teller_id] = (
            round(max(z_run, z_window), 3),
            {
                "threshold_z": threshold,
                "reference_days": REFERENCE_DAYS,
                "reference_teller_days": len(reference),
                "rated": len(td.rows),
                "streak": {
                    "length": td.run,
                    "z": z_run,
                    "outlet_median": run_median,
                    "outlet_sigma": run_sigma,
                    "from": _iso(run_rows[0].rated_at, outlet) if run_rows else None,
                    "to": _iso(run_rows[-1].rated_at, outlet) if run_rows else None,
                },
                "burst": {
                    "window_s": settings.burst_window_s,
                    "ratings": td.window,
                    "one_level": uniform,
                    "z": z_window,
                    "outlet_median": window_median,
                    "outlet_sigma": window_sigma,
                    "from": _iso(window_rows[0].rated_at, outlet) if window_rows else None,
                    "to": _iso(window_rows[-1].rated_at, outlet) if window_rows else None,
                },
                "evaluations": [
                    _row(e, outlet)
                    for e in (run_rows if z_run >= z_window else window_rows)[:EVIDENCE_ROWS]
                ],
            },
        )
    return found


# -- running and saving ----------------------------------------------------------------------


@dataclass
class IntegrityRun:
    """What one run did: flags written (new or updated) and stale pending ones removed."""

    created: int = 0
    updated: int = 0
    removed: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)


def save_flags(
    rule: str,
    outlet: OrgUnit,
    period_start: dt.date,
    period_end: dt.date,
    found: Found,
    run: IntegrityRun,
) -> None:
    """Write the flags of one rule, outlet and period; keep verdicts; drop stale pending ones."""
    for teller_id, (score, evidence) in found.items():
        _flag, created = IntegrityFlag.objects.update_or_create(
            rule=rule,
            outlet=outlet,
            teller_id=teller_id,
            period_start=period_start,
            period_end=period_end,
            defaults={"score": score, "evidence": evidence},
        )
        run.created += created
        run.updated += not created
        run.by_rule[rule] = run.by_rule.get(rule, 0) + 1
    stale = IntegrityFlag.objects.filter(
        rule=rule,
        outlet=outlet,
        period_start=period_start,
        period_end=period_end,
        verdict=FlagVerdict.PENDING,
    ).exclude(teller_id__in=list(found))
    run.removed += stale.delete()[0]


def outlets_of(units: Iterable[OrgUnit] | None) -> list[OrgUnit]:
    qs = OrgUnit.objects.filter(kind=UnitKind.OUTLET, is_active=True).order_by("path")
    if units is None:
        return list(qs)
    condition = Q(pk__in=[])
    for unit in units:
        condition |= Q(path__startswith=unit.path)
    return list(qs.filter(condition))


def run_integrity(
    start: dt.date,
    end: dt.date,
    *,
    units: Iterable[OrgUnit] | None = None,
    rules: Iterable[str] | None = None,
) -> IntegrityRun:
    """Run the rules on the outlets under ``units`` (all by default): the daily rules on every
    day from ``start`` to ``end``, selective initiation on every ISO week that overlaps them."""
    selected = set(rules) if rules is not None else set(IntegrityRule.values)
    run = IntegrityRun()
    for outlet in outlets_of(units):
        settings = settings_for(outlet)
        with transaction.atomic():
            if IntegrityRule.SELECTIVE_INITIATION in selected:
                for monday, sunday in weeks(start, end):
                    found = check_selective_initiation(outlet, monday, sunday, settings)
                    save_flags(
                        IntegrityRule.SELECTIVE_INITIATION, outlet, monday, sunday, found, run
                    )
            if not selected & set(DAILY_RULES):
                continue
            history = (
                teller_days(
                    outlet,
                    start - dt.timedelta(days=REFERENCE_DAYS - 1),
                    end,
                    settings.burst_window_s,
                )
                if IntegrityRule.BURST in selected
                else {}
            )
            for day in days(start, end):
                rated = _rated(outlet, day, day)
                if IntegrityRule.FAST_RATING in selected:
                    found = check_fast_rating(outlet, day, settings, rated)
                    save_flags(IntegrityRule.FAST_RATING, outlet, day, day, found, run)
                if IntegrityRule.NO_CUSTOMER in selected:
                    found = check_no_customer(outlet, day, settings, rated)
                    save_flags(IntegrityRule.NO_CUSTOMER, outlet, day, day, found, run)
                if IntegrityRule.BURST in selected:
                    found = check_burst(outlet, day, settings, history)
                    save_flags(IntegrityRule.BURST, outlet, day, day, found, run)
    return run


# -- verdicts --------------------------------------------------------------------------------


def check_set_verdict(flag: IntegrityFlag, verdict: str, user: Any) -> None:
    """403 unless the user may judge flags at the flag's outlet; 422 for an unknown verdict."""
    require_permission(user, "evaluations.judge", flag)
    if verdict not in (FlagVerdict.CONFIRMED, FlagVerdict.DISMISSED):
        raise ActionError(
            "invalid_verdict", _("The verdict must be confirmed or dismissed."), status=422
        )


def do_set_verdict(
    flag: IntegrityFlag,
    verdict: str,
    actor: Any,
    note: str = "",
    *,
    now: dt.datetime | None = None,
) -> IntegrityFlag:
    """Record a manager's verdict (confirmed or dismissed) with a note, and audit it.

    ``actor`` is the deciding ``User``; the flag keeps who (their ``Staff``), when and why.
    """
    check_set_verdict(flag, verdict, actor)
    staff: Staff | None = getattr(actor, "staff", None)
    previous = flag.verdict
    with transaction.atomic():
        flag.verdict = verdict
        flag.verdict_by = staff
        flag.verdict_at = now or timezone.now()
        flag.verdict_note = note.strip()[:500]
        flag.save(update_fields=["verdict", "verdict_by", "verdict_at", "verdict_note"])
        record(
            AuditAction.ADMIN_CHANGE,
            user=actor,
            obj=flag,
            change="integrity_verdict",
            rule=flag.rule,
            teller=flag.teller_id,
            period=[flag.period_start.isoformat(), flag.period_end.isoformat()],
            from_verdict=previous,
            to_verdict=verdict,
            note=flag.verdict_note,
        )
    return flag
