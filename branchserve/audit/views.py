"""The audit log page: a filterable table for auditors (``audit.view``), read-only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from branchserve.audit.api import EventFilter, events_for
from branchserve.audit.choices import AuditAction
from branchserve.org.scoping import require_permission

PER_PAGE = 50


class EventFilterForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", _("All")), *AuditAction.choices]
    )
    user = forms.CharField(label=_("User"), required=False, max_length=150)
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            raise forms.ValidationError(_("The first day is after the last day."))
        return data


@login_required
def event_list(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "audit.view")
    form = EventFilterForm(request.GET or None)
    page = None
    if not form.is_bound or form.is_valid():
        data = form.cleaned_data if form.is_bound else {}
        filters = EventFilter(
            action=data.get("action") or None,
            user=data.get("user") or None,
            since=data.get("since"),
            until=data.get("until"),
        )
        paginator = Paginator(events_for(request.user, filters), PER_PAGE)
        page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    return render(request, "audit/events.html", context)
