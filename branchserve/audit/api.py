"""Reading the audit log (``audit.view``, within the reader's subtree). Never written here.

Reading is not itself audited; an export would be (there is none yet).
"""

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import Field

from branchserve.api import session_auth
from branchserve.audit.choices import AuditAction
from branchserve.audit.models import AuditEvent
from branchserve.core.errors import ActionError
from branchserve.org.scoping import require_permission

router = Router(tags=["audit"], auth=session_auth)

MAX_PAGE = 500


class EventFilter(Schema):
    action: AuditAction | None = None
    user: str | None = Field(None, description="user name (also the name tried at a failed login)")
    since: dt.date | None = Field(None, description="first day, inclusive (local time)")
    until: dt.date | None = Field(None, description="last day, inclusive (local time)")


class EventOut(Schema):
    id: int
    at: dt.datetime
    action: AuditAction
    action_label: str
    user: str = Field(description="who acted (or the user name tried at a failed login)")
    device_id: int | None
    unit_path: str = Field(description="the unit the event belongs to; empty when none")
    object_type: str
    object_id: str
    ip_address: str | None
    detail: dict[str, Any]

    @staticmethod
    def resolve_action_label(obj: AuditEvent) -> str:
        return str(obj.get_action_display())

    @staticmethod
    def resolve_user(obj: AuditEvent) -> str:
        return obj.actor_label


def events_for(user: Any, filters: EventFilter) -> QuerySet[AuditEvent]:
    """The events ``user`` may read, filtered; 403 without ``audit.view``."""
    require_permission(user, "audit.view")
    if filters.since and filters.until and filters.since > filters.until:
        raise ActionError("invalid_range", _("The first day is after the last day."), status=422)
    qs = AuditEvent.objects.for_user(user)
    if filters.action:
        qs = qs.filter(action=filters.action)
    if filters.user:
        qs = qs.filter(actor_label=filters.user)
    if filters.since:
        qs = qs.filter(at__date__gte=filters.since)
    if filters.until:
        qs = qs.filter(at__date__lte=filters.until)
    return qs.order_by("-at", "-id")


@router.get("/audit/events", response=list[EventOut], summary="Audit events")
@paginate(LimitOffsetPagination, max_limit=MAX_PAGE)
def events(request: HttpRequest, filters: Query[EventFilter]) -> QuerySet[AuditEvent]:
    """The audit log of your subtree, newest first (auditors only)."""
    return events_for(request.user, filters)
