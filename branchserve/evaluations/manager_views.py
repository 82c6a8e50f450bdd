"""The managers' pages: one page per unit (outlet, sub-branch, province) with drill-down.

* an outlet: each teller's rates (counts, tooltips with the definitions, Wilson ranking),
  today's unsatisfied ratings (alerts), open and overdue follow-ups (rectification app),
  integrity flags with verdict buttons (HTMX), the watch list and the trend (ECharts);
* a sub-branch or province: the units below ranked by the Wilson lower bound of the
  satisfaction rate, each a link one level down, with the same flags, watch list and trend.

Scoped: a unit outside the user's scope is 404, a user without ``evaluations.judge`` there 403.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from branchserve.core.errors import ActionError
from branchserve.evaluations import rates
from branchserve.evaluations.choices import EvaluationState, FlagVerdict
from branchserve.evaluations.integrity import do_set_verdict
from branchserve.evaluations.models import Evaluation, IntegrityFlag
from branchserve.evaluations.rates import DEFINITIONS, percent
from branchserve.evaluations.watch import watch_list
from branchserve.org.choices import UnitKind
from branchserve.org.models import OrgUnit, Staff
from branchserve.org.scoping import get_in_scope_or_404, require_permission

JUDGE = "evaluations.judge"
TREND_DAYS = 30


def _row(name: str, key: Any, r: rates.Rates, link: str | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "key": key,
        "link": link,
        "rates": r,
        "initiation": percent(r.initiation_rate),
        "response": percent(r.response_rate),
        "satisfaction": percent(r.satisfaction_rate),
        "wilson": f"{r.wilson('satisfaction') * 100:.1f}%",
    }


def _period(request: HttpRequest, unit: OrgUnit) -> tuple[dt.date, dt.date]:
    today = unit.local_today()
    try:
        start = dt.date.fromisoformat(request.GET.get("start", ""))
    except ValueError:
        start = today.replace(day=1)
    try:
        end = dt.date.fromisoformat(request.GET.get("end", ""))
    except ValueError:
        end = today
    return (start, end) if start <= end else (end, start)


@login_required
def unit_page(request: HttpRequest, code: str) -> HttpResponse:
    user = request.user
    unit = get_in_scope_or_404(user, OrgUnit.objects.all(), code=code)
    require_permission(user, JUDGE, unit)
    start, end = _period(request, unit)
    today = unit.local_today()
    rows: list[dict[str, Any]] = []
    if unit.kind == UnitKind.OUTLET:
        by_teller = rates.rates_by("teller", units=[unit], start=start, end=end)
        names = Staff.objects.in_bulk(list(by_teller))
        for key, r, _w in rates.ranking(by_teller):
            rows.append(_row(f"{names[key].name}（{names[key].employee_no}）", key, r))
        alerts = list(
            Evaluation.objects.for_user(user)
            .filter(outlet=unit, state=EvaluationState.RATED, satisfied=False)
            .filter(rated_at__date__gte=today - dt.timedelta(days=1))
            .select_related("teller", "ticket", "level")
            .order_by("-rated_at")[:50]
        )
    else:
        children = list(OrgUnit.objects.for_user(user).filter(parent=unit))
        found: dict[int, rates.Rates] = {}
        for child in children:
            found[child.pk] = rates.total(units=[child], start=start, end=end)
        by_pk = {c.pk: c for c in children}
        for key, r, _w in rates.ranking(found):
            child = by_pk[key]
            rows.append(_row(child.name, key, r, link=child.code))
        alerts = []
    follow_ups: dict[str, int] = {}
    try:
        from branchserve.rectification.queries import open_counts, overdue_counts

        follow_ups = {
            "open": open_counts([unit.pk]).get(unit.pk, 0),
            "overdue": overdue_counts([unit.pk]).get(unit.pk, 0),
        }
    except ImportError:  # pragma: no cover - the rectification app is always installed
        pass
    flags = list(
        IntegrityFlag.objects.restrict(user, JUDGE)
        .filter(outlet__path__startswith=unit.path)
        .select_related("outlet", "teller", "verdict_by")
        .order_by("verdict", "-period_end")[:100]
    )
    trend = rates.trend(units=[unit], start=today - dt.timedelta(days=TREND_DAYS - 1), end=today)
    chart = {
        "days": [day.isoformat() for day, _r in trend],
        "initiation": [_pct(r.initiation_rate) for _d, r in trend],
        "satisfaction": [_pct(r.satisfaction_rate) for _d, r in trend],
        "labels": {"initiation": _("Initiation rate"), "satisfaction": _("Satisfaction rate")},
    }
    ancestors = OrgUnit.objects.for_user(user).filter(pk__in=unit.ancestors()).exclude(pk=unit.pk)
    context = {
        "unit": unit,
        "ancestors": ancestors.order_by("path"),
        "start": start,
        "end": end,
        "rows": rows,
        "alerts": alerts,
        "follow_ups": follow_ups,
        "flags": flags,
        "watch": watch_list([unit], today, with_trend=False),
        "chart": chart,
        "definitions": DEFINITIONS,
        "is_outlet": unit.kind == UnitKind.OUTLET,
    }
    return render(request, "evaluations/manager_unit.html", context)


def _pct(value: Any) -> float | None:
    return round(float(value) * 100, 1) if value is not None else None


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The topmost unit where the user may judge: its page."""
    unit = OrgUnit.objects.restrict(request.user, JUDGE).order_by("path").first()
    if unit is None:
        require_permission(request.user, JUDGE)
        raise ActionError("no_unit", _("No unit to show."))  # pragma: no cover
    return unit_page(request, unit.code)


@login_required
@require_POST
def verdict(request: HttpRequest, flag_id: int) -> HttpResponse:
    """HTMX: confirm or dismiss a flag; answers with the flag's row."""
    flag = get_in_scope_or_404(
        request.user, IntegrityFlag.objects.select_related("outlet", "teller"), pk=flag_id
    )
    try:
        do_set_verdict(
            flag, request.POST.get("verdict", ""), request.user, request.POST.get("note", "")
        )
    except ActionError as error:
        return HttpResponse(str(error.message), status=error.status)
    return render(
        request, "evaluations/manager_flag_row.html", {"flag": flag, "verdicts": FlagVerdict}
    )


manager_urlpatterns = [
    path("manage/", home, name="manager_home"),
    path("manage/<str:code>/", unit_page, name="manager_unit"),
    path("manage/flags/<int:flag_id>/verdict/", verdict, name="manager_verdict"),
]
