"""The planning page's form: day type, period and wait target (the outlet is chosen apart, so
that an outlet outside the user's scope answers 404 rather than a form error)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from branchserve.planning.choices import DayType
from branchserve.sim.model import Target

DEFAULT_WEEKS = 8
MAX_DAYS = 366


def defaults(today: dt.date) -> dict[str, Any]:
    """The last eight weeks up to yesterday, any working day, 85 % called within 15 minutes."""
    return {
        "day_type": DayType.WEEKDAY.value,
        "start": (today - dt.timedelta(weeks=DEFAULT_WEEKS)).isoformat(),
        "end": (today - dt.timedelta(days=1)).isoformat(),
        "share": 85,
        "within": 15,
    }


class PlanForm(forms.Form):
    day_type = forms.ChoiceField(label=_("Day type"), choices=DayType.choices)
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))
    share = forms.IntegerField(
        label=_("Target share (%)"),
        min_value=50,
        max_value=99,
        help_text=_("share of customers called within the target time"),
    )
    within = forms.IntegerField(label=_("Within (minutes)"), min_value=1, max_value=120)

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end:
            if start > end:
                raise forms.ValidationError(_("The period must start before it ends."))
            if (end - start).days >= MAX_DAYS:
                raise forms.ValidationError(
                    _("Choose a period of at most %(days)s days.") % {"days": MAX_DAYS}
                )
        return data

    def target(self) -> Target:
        data = self.cleaned_data
        return Target(within_s=data["within"] * 60.0, share=data["share"] / 100.0)
