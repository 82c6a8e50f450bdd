"""The planning API: an outlet's plan from its own history, as ``branchserve plan --json``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Query, Router

from branchserve.api import session_auth
from branchserve.core.errors import ActionError
from branchserve.org.choices import UnitKind
from branchserve.org.models import OrgUnit
from branchserve.org.scoping import get_in_scope_or_404, require_permission
from branchserve.planning.lab import PlanUnavailable, plan_outlet
from branchserve.planning.schemas import PlanOut, PlanQuery
from branchserve.sim.model import Target

router = Router(tags=["planning"], auth=session_auth)


@router.get("/planning/{outlet_code}", response=PlanOut, summary="Plan an outlet")
def plan(request: HttpRequest, outlet_code: str, query: Query[PlanQuery]) -> dict[str, Any]:
    """Counters per slot and call strategies compared, from the outlet's tickets of the last
    ``days`` days (the same JSON as ``branchserve plan OUTLET --day-type TYPE --json``).
    Simulation runs in the request: allow a few seconds."""
    outlet = get_in_scope_or_404(
        request.user, OrgUnit.objects.all(), code=outlet_code, kind=UnitKind.OUTLET
    )
    require_permission(request.user, "planning.view", outlet)
    if query.slot_min not in (15, 30):
        raise ActionError("invalid_slot", _("Slots are 15 or 30 minutes long."), status=422)
    today = outlet.local_today()
    try:
        return plan_outlet(
            outlet,
            day_type=str(query.day_type),
            start=today - dt.timedelta(days=query.days),
            end=today - dt.timedelta(days=1),
            target=Target(query.target_time * 60.0, query.target),
            slot_min=query.slot_min,
            replications=query.replications,
            seed=query.seed,
        )
    except PlanUnavailable as exc:
        raise ActionError("plan_unavailable", exc.message, status=422) from None
