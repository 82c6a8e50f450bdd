"""The queue's configuration in the admin (business types, settings, targets, counters'
strategies, demo customers), and read-only views of tickets and counter sessions.

Like the organisation's admin (``org.admin.ScopedAdminMixin``): ``queueing.view`` to look and
``queueing.configure`` to change, at the units of the user's assignments and below; lists and
related choices are limited to the user's scope. Tickets and sessions change only through the
queue's actions, so the admin shows them read-only. Demo customers are not scoped (they stand
in for core banking): Django model permissions.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from branchserve.org.admin import ScopedAdminMixin
from branchserve.queueing.customers import mask, normalise, number_hash
from branchserve.queueing.models import (
    BusinessType,
    CounterQueueConfig,
    CounterSession,
    DemoCustomer,
    QueueSettings,
    Ticket,
    TicketEvent,
    WaitTarget,
)


class QueueAdminMixin(ScopedAdminMixin):
    view_permission = "queueing.view"
    manage_permission = "queueing.configure"


class ReadOnlyMixin(QueueAdminMixin):
    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(BusinessType)
class BusinessTypeAdmin(QueueAdminMixin, admin.ModelAdmin):
    list_display = ["unit", "prefix", "code", "name", "typical_service_s", "order", "is_active"]
    list_filter = ["is_active", "unit__kind"]
    search_fields = ["code", "name", "unit__code", "unit__name"]
    autocomplete_fields = ["unit"]


@admin.register(QueueSettings)
class QueueSettingsAdmin(QueueAdminMixin, admin.ModelAdmin):
    list_display = [
        "unit",
        "default_strategy",
        "default_ageing_cap_s",
        "last_ticket_minutes",
        "max_recalls",
        "green_channel",
    ]
    autocomplete_fields = ["unit"]


@admin.register(WaitTarget)
class WaitTargetAdmin(QueueAdminMixin, admin.ModelAdmin):
    list_display = ["unit", "business_type_code", "tier", "wait_s", "share"]
    autocomplete_fields = ["unit"]


@admin.register(CounterQueueConfig)
class CounterQueueConfigAdmin(QueueAdminMixin, admin.ModelAdmin):
    list_display = ["counter", "config"]
    search_fields = ["counter__code", "counter__outlet__name"]
    autocomplete_fields = ["counter"]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        form.base_fields["config"].help_text = _(
            'For example {"queues": ["A", "B"], "strategy": "ageing", "ageing_cap_s": 1800}. '
            "Strategies: strict_priority, weighted_round_robin (with weights), ageing (with "
            "ageing_cap_s), premium_boost (tier_boost_s, fairness_cap_s)."
        )
        return form


class DemoCustomerForm(forms.ModelForm):
    """Takes the number once, stores only its masked form and keyed hash."""

    number = forms.CharField(
        label=_("card or phone number"),
        max_length=32,
        required=False,
        help_text=_("Stored only masked and as a keyed hash."),
    )

    class Meta:
        model = DemoCustomer
        fields = ["tier", "name"]

    def clean_number(self) -> str:
        number = normalise(self.cleaned_data.get("number", ""))
        if not number and self.instance.pk is None:
            raise forms.ValidationError(_("Enter the card or phone number."))
        if number and len(number) < 8:
            raise forms.ValidationError(_("Too short for a card or phone number."))
        if (
            number
            and DemoCustomer.objects.filter(number_hash=number_hash(number))
            .exclude(pk=self.instance.pk)
            .exists()
        ):
            raise forms.ValidationError(_("This number is already a demo customer."))
        return number

    def save(self, commit: bool = True) -> DemoCustomer:
        number = self.cleaned_data.get("number")
        if number:
            self.instance.number_hash = number_hash(number)
            self.instance.masked = mask(number)
        return super().save(commit)


@admin.register(DemoCustomer)
class DemoCustomerAdmin(admin.ModelAdmin):
    form = DemoCustomerForm
    list_display = ["masked", "tier", "name"]
    list_filter = ["tier"]
    readonly_fields = ["masked"]


class TicketEventInline(ReadOnlyMixin, admin.TabularInline):
    model = TicketEvent
    fields = readonly_fields = ("at", "kind", "counter", "staff", "device", "data")
    extra = 0


@admin.register(Ticket)
class TicketAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Tickets are changed only through the queue's actions; the admin shows them."""

    list_display = ["number", "outlet", "day", "queue", "tier", "state", "issued_at", "counter"]
    list_filter = ["state", "day", "channel", "tier"]
    search_fields = ["number", "public_id", "outlet__code"]
    list_select_related = ["outlet", "counter"]
    date_hierarchy = "issued_at"
    inlines = [TicketEventInline]


@admin.register(CounterSession)
class CounterSessionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["counter", "teller", "opened_at", "closed_at"]
    list_select_related = ["counter__outlet", "teller"]
    search_fields = ["counter__code", "teller__name", "teller__employee_no"]
