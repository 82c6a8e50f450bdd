"""The form an administrator fills in to register a device."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from branchserve.devices.choices import DeviceKind
from branchserve.org.choices import UnitKind
from branchserve.org.models import Counter, OrgUnit


class CounterChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.code} · {obj}"


class OutletChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.code} · {obj.name}"


class DeviceForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=DeviceKind.choices)
    outlet = OutletChoiceField(label=_("Outlet"), queryset=OrgUnit.objects.none())
    counter = CounterChoiceField(
        label=_("Counter"),
        queryset=Counter.objects.none(),
        required=False,
        help_text=_("For evaluation pads and counter terminals only."),
    )
    name = forms.CharField(label=_("Name"), max_length=80)

    def __init__(self, user: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only where the user may register devices.
        outlets = OrgUnit.objects.restrict(user, "devices.manage").filter(
            kind=UnitKind.OUTLET, is_active=True
        )
        self.fields["outlet"].queryset = outlets  # type: ignore[attr-defined]
        self.fields["counter"].queryset = (  # type: ignore[attr-defined]
            Counter.objects.restrict(user, "devices.manage")
            .filter(is_active=True, outlet__is_active=True)
            .select_related("outlet")
        )
