"""The strategy lab page: an outlet's arrival curve, the counters to open per slot against those
it actually had open, and the call strategies compared on its own fitted day.

The page computes the fit and the recommendation (as ``branchserve plan`` does, with the same
seed); the strategy comparison, the heaviest part, is a fragment the page loads with HTMX once
it is shown. Chart data reach ``planning.js`` through ``json_script``.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branchserve.org.choices import UnitKind
from branchserve.org.models import OrgUnit
from branchserve.org.scoping import get_in_scope_or_404, require_permission
from branchserve.planning.choices import DayType
from branchserve.planning.forms import PlanForm, defaults
from branchserve.planning.lab import Analysis, PlanUnavailable, analyse, strategy_model
from branchserve.queueing.choices import CustomerTier
from branchserve.queueing.config import business_types_for
from branchserve.sim.recommend import compare_strategies, strategy_estimates
from branchserve.sim.results import Estimate
from branchserve.sim.strategies import Tier

# Simulated days per run. ``branchserve plan`` defaults to 20; the page keeps the wait short
# (the recommendation runs up to eight rounds of these, the comparison five strategies).
REPLICATIONS = 10
SEED = 0
SLOT_MIN = 30

STRATEGY_LABELS = {
    "fifo": gettext_lazy("First come, first served"),
    "strict_priority": gettext_lazy("Strict premium priority"),
    "ageing_20": gettext_lazy("Premium priority, ageing cap 20 min"),
    "ageing_30": gettext_lazy("Premium priority, ageing cap 30 min"),
    "premium_boost": gettext_lazy("Premium boost with a fairness cap"),
}


def _outlets(user: Any) -> list[OrgUnit]:
    return list(
        OrgUnit.objects.restrict(user, "planning.view")
        .filter(kind=UnitKind.OUTLET, is_active=True)
        .order_by("path")
    )


def _chosen_outlet(request: HttpRequest, outlets: list[OrgUnit]) -> OrgUnit | None:
    """The outlet asked for (404 outside the user's scope), or the user's only outlet."""
    code = request.GET.get("outlet", "").strip()
    if not code:
        return outlets[0] if len(outlets) == 1 else None
    outlet = get_in_scope_or_404(
        request.user, OrgUnit.objects.all(), code=code, kind=UnitKind.OUTLET
    )
    require_permission(request.user, "planning.view", outlet)
    return outlet


def _bound_form(request: HttpRequest, outlet: OrgUnit | None) -> PlanForm:
    today = outlet.local_today() if outlet is not None else dt.date.today()
    data = defaults(today)
    data.update({key: value for key, value in request.GET.items() if key in data and value})
    return PlanForm(data)


def _query(outlet: OrgUnit, form: PlanForm, **extra: str) -> str:
    data = form.cleaned_data
    return urlencode(
        {
            "outlet": outlet.code,
            "day_type": data["day_type"],
            "start": data["start"].isoformat(),
            "end": data["end"].isoformat(),
            "share": data["share"],
            "within": data["within"],
            **extra,
        }
    )


@login_required
def page(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "planning.view")
    outlets = _outlets(request.user)
    outlet = _chosen_outlet(request, outlets)
    form = _bound_form(request, outlet)
    context: dict[str, Any] = {"outlets": outlets, "outlet": outlet, "form": form}
    if outlet is not None and form.is_valid():
        data = form.cleaned_data
        try:
            analysis = analyse(
                outlet,
                day_type=data["day_type"],
                start=data["start"],
                end=data["end"],
                target=form.target(),
                slot_min=SLOT_MIN,
                replications=REPLICATIONS,
                seed=SEED,
            )
        except PlanUnavailable as exc:
            context["unavailable"] = exc.message
        else:
            context.update(_page_context(analysis))
            counters = ",".join(str(n) for n in analysis.plan.counters)
            context["strategies_query"] = _query(outlet, form, counters=counters)
    return render(request, "planning/page.html", context)


def _clean(value: float | None, digits: int = 2) -> float | None:
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    return round(float(value), digits)


def _page_context(analysis: Analysis) -> dict[str, Any]:
    day, plan, total = analysis.day, analysis.plan, analysis.total
    rows = plan.slot_rows(analysis.opening_min)
    labels = [row["start"] for row in rows]
    names = {code: bt.name for code, bt in business_types_for(analysis.outlet).items()}

    by_tier: dict[Tier, list[float]] = {}
    for fit in day.arrivals:
        sums = by_tier.setdefault(fit.tier, [0.0] * day.slots)
        for j, value in enumerate(fit.per_slot):
            sums[j] += value
    arrivals_chart = {
        "labels": labels,
        "tiers": [
            {"name": str(CustomerTier(int(tier)).label), "data": [_clean(v) for v in values]}
            for tier, values in sorted(by_tier.items())
        ],
        "low": [_clean(s.low) for s in total.slots],
        "high": [_clean(s.high) for s in total.slots],
        "dispersion": [_clean(s.variance / s.mean) if s.mean > 0 else None for s in total.slots],
        "text": {
            "low": _("Lower bound of the 95 per cent interval"),
            "high": _("Upper bound of the 95 per cent interval"),
            "dispersion": _("Dispersion index (variance ÷ mean)"),
            "perSlot": _("customers per half hour"),
            "index": _("index"),
        },
    }
    counters_chart = {
        "labels": labels,
        "recommended": [row["recommended_counters"] for row in rows],
        "actual": [row["actual_counters"] for row in rows],
        "erlang": [row["erlang_counters"] for row in rows],
        "wait": [row["mean_wait_min"] for row in rows],
        "actualWait": [(row.get("actual") or {}).get("mean_wait_min") for row in rows],
        "text": {
            "recommended": _("Recommended counters"),
            "actual": _("Counters actually open"),
            "erlang": _("Erlang estimate"),
            "wait": _("Expected mean wait, recommended (min)"),
            "actualWait": _("Expected mean wait, as actually staffed (min)"),
            "counters": _("counters"),
            "minutes": _("minutes"),
        },
    }
    services = [
        {
            "code": code,
            "name": names.get(code, code),
            "n": fit.n,
            "kind": fit.chosen.kind,
            "mean_min": fit.chosen.distribution.mean / 60.0,
            "sd_min": math.sqrt(fit.chosen.distribution.variance) / 60.0,
            "ks_p_value": fit.chosen.ks_p_value,
            "why": fit.why,
        }
        for code, fit in day.services.items()
    ]
    return {
        "analysis": analysis,
        "day_type_label": DayType(analysis.day_type).label,
        "rows": rows,
        "total": total,
        "services": services,
        "arrivals_chart": arrivals_chart,
        "counters_chart": counters_chart,
        "has_actual": analysis.actual is not None,
        "customers_per_day": sum(s.mean for s in total.slots),
        "dispersion_known": not math.isnan(total.dispersion),
        "patience_min": _clean(day.patience.mean_s / 60.0, 1)
        if day.patience is not None and day.patience.abandoned
        else None,
        "target_percent": round(analysis.target.share * 100),
        "target_min": round(analysis.target.within_s / 60),
        "replications": REPLICATIONS,
    }


@login_required
def strategies(request: HttpRequest) -> HttpResponse:
    """The fragment comparing call strategies on the recommended day (loaded by the page)."""
    require_permission(request.user, "planning.view")
    outlet = _chosen_outlet(request, [])
    if outlet is None:
        return HttpResponseBadRequest(_("Choose an outlet."))
    form = _bound_form(request, outlet)
    if not form.is_valid():
        return HttpResponseBadRequest(_("The planning parameters are not valid."))
    try:
        open_per_slot = [int(n) for n in request.GET.get("counters", "").split(",")]
    except ValueError:
        return HttpResponseBadRequest(_("The counters per slot are not valid."))
    data = form.cleaned_data
    target = form.target()
    context: dict[str, Any] = {}
    try:
        model = strategy_model(
            outlet,
            day_type=data["day_type"],
            start=data["start"],
            end=data["end"],
            target=target,
            open_per_slot=open_per_slot,
            slot_min=SLOT_MIN,
        )
    except PlanUnavailable as exc:
        context["unavailable"] = exc.message
        return render(request, "planning/strategies.html", context)
    outcomes = compare_strategies(model, target, replications=REPLICATIONS, seed=SEED)
    estimates = strategy_estimates(outcomes, target)
    tiers = sorted({tier for o in outcomes for tier in o.by_tier}, key=Tier.parse)
    rows: list[dict[str, Any]] = []
    for outcome in outcomes:
        figures = estimates[outcome.name]
        rows.append(
            {
                "name": outcome.name,
                "label": STRATEGY_LABELS.get(outcome.name, outcome.name),
                "tiers": [
                    {
                        "mean": _minutes(figures.get(f"wait_mean_s|{tier}")),
                        "p90": _minutes(figures.get(f"wait_p90_s|{tier}")),
                    }
                    for tier in tiers
                ],
                "level": _share(figures["service_level"]),
                "cost_mean": _minutes(figures["ordinary_extra_mean_s"]),
                "cost_p90": _minutes(figures["ordinary_extra_p90_s"]),
            }
        )
    premium = [t for t in tiers if t != Tier.ORDINARY.key]
    chart = {
        "labels": [str(row["label"]) for row in rows],
        "series": [
            {
                "name": _("%(tier)s, mean wait") % {"tier": _tier_label(tier)},
                "data": [row["tiers"][i]["mean"]["mean"] for row in rows],
            }
            for i, tier in enumerate(tiers)
        ],
        "cost": [row["cost_mean"]["mean"] for row in rows],
        "costLow": [row["cost_mean"]["low"] for row in rows],
        "costHigh": [row["cost_mean"]["high"] for row in rows],
        "text": {
            "cost": _("Fairness cost for ordinary customers (min)"),
            "minutes": _("minutes"),
        },
    }
    context.update(
        {
            "rows": rows,
            "tiers": [{"key": t, "label": _tier_label(t)} for t in tiers],
            "has_premium": bool(premium),
            "chart": chart,
            "replications": REPLICATIONS,
            "target_percent": round(target.share * 100),
            "target_min": round(target.within_s / 60),
        }
    )
    return render(request, "planning/strategies.html", context)


def _tier_label(key: str) -> str:
    return str(CustomerTier(int(Tier.parse(key))).label)


def _minutes(estimate: Estimate | None) -> dict[str, float | None]:
    if estimate is None:
        return {"mean": None, "low": None, "high": None}
    scaled = estimate.scaled(1 / 60.0)
    return {"mean": _clean(scaled.mean), "low": _clean(scaled.low), "high": _clean(scaled.high)}


def _share(estimate: Estimate) -> dict[str, float | None]:
    return {
        "mean": _clean(estimate.mean * 100, 1),
        "low": _clean(max(0.0, estimate.low) * 100, 1),
        "high": _clean(min(1.0, estimate.high) * 100, 1),
    }
