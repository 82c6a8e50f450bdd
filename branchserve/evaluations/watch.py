"""The daily watch list: tellers and outlets below their outlet's watch thresholds.

For a day ``on``: every teller and outlet under the given units whose initiation rate or
satisfaction rate of the last ``days`` days (ending ``on``, default 1: that day) is below the
outlet's ``watch_initiation_rate`` / ``watch_satisfaction_rate``, with at least
``watch_min_transactions`` transactions (satisfaction: at least that many ratings). Each entry
carries its trend: the daily rates of the last ``trend_days`` days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction

from branchserve.evaluations import rates
from branchserve.evaluations.integrity import outlets_of
from branchserve.evaluations.models import settings_for
from branchserve.evaluations.rates import Rates
from branchserve.org.models import OrgUnit, Staff

TREND_DAYS = 14


@dataclass
class WatchEntry:
    kind: str  # "teller" or "outlet"
    outlet: OrgUnit
    teller: Staff | None
    rates: Rates
    reasons: list[str]  # "initiation", "satisfaction"
    initiation_threshold: Fraction
    satisfaction_threshold: Fraction
    trend: list[tuple[dt.date, Rates]] = field(default_factory=list)


def _below(r: Rates, minimum: int, initiation: Fraction, satisfaction: Fraction) -> list[str]:
    reasons = []
    initiation_rate, satisfaction_rate = r.initiation_rate, r.satisfaction_rate
    if r.transactions >= minimum and initiation_rate is not None and initiation_rate < initiation:
        reasons.append("initiation")
    if r.rated >= minimum and satisfaction_rate is not None and satisfaction_rate < satisfaction:
        reasons.append("satisfaction")
    return reasons


def watch_list(
    units: Iterable[OrgUnit] | None,
    on: dt.date,
    *,
    days: int = 1,
    trend_days: int = TREND_DAYS,
    with_trend: bool = True,
) -> list[WatchEntry]:
    """The entries, outlets first then tellers, each group worst initiation rate first."""
    start = on - dt.timedelta(days=days - 1)
    trend_start = on - dt.timedelta(days=trend_days - 1)
    entries: list[WatchEntry] = []
    for outlet in outlets_of(units):
        settings = settings_for(outlet)
        initiation = Fraction(settings.watch_initiation_rate)
        satisfaction = Fraction(settings.watch_satisfaction_rate)
        minimum = settings.watch_min_transactions
        outlet_rates = rates.total(units=[outlet], start=start, end=on)
        reasons = _below(outlet_rates, minimum, initiation, satisfaction)
        if reasons:
            entries.append(
                WatchEntry("outlet", outlet, None, outlet_rates, reasons, initiation, satisfaction)
            )
        by_teller = rates.rates_by("teller", units=[outlet], start=start, end=on)
        staff = Staff.objects.in_bulk(list(by_teller))
        for teller_id, teller_rates in by_teller.items():
            reasons = _below(teller_rates, minimum, initiation, satisfaction)
            if reasons:
                entries.append(
                    WatchEntry(
                        "teller",
                        outlet,
                        staff[teller_id],
                        teller_rates,
                        reasons,
                        initiation,
                        satisfaction,
                    )
                )
    if with_trend:
        for entry in entries:
            entry.trend = rates.trend(
                units=[entry.outlet],
                start=trend_start,
                end=on,
                tellers=[entry.teller] if entry.teller else None,
            )
    entries.sort(
        key=lambda e: (
            e.kind != "outlet",
            e.rates.initiation_rate if e.rates.initiation_rate is not None else 1,
            e.outlet.path,
        )
    )
    return entries
