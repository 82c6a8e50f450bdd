"""The queue: configuration (per outlet, with province defaults), tickets and their events,
counters' live state and sessions, and the demo customer table.

Configuration rows (``BusinessType``, ``QueueSettings``, ``WaitTarget``) hang off any unit of
the tree. An outlet uses the rows of the nearest unit on its path that has any (the outlet's
own, else its sub-branch's, else the province's): a province sets defaults once, an outlet
overrides them by defining its own.

Live state is kept so that every operation takes one lock and a handful of statements:

* ``OutletQueue`` — one row per outlet, locked (``SELECT … FOR UPDATE``) by every operation
  that changes the outlet's queue, so operations on one outlet are serialised by the database;
* ``TicketSeries`` — the last number of a business type's series on a day (A001, A002 …),
  incremented under that lock;
* ``CounterState`` — per counter: open/paused/closed, the teller, the ticket at the counter
  and the call strategy's state (``StrategyState.to_dict()``), written in the call's
  transaction.

Everything that happens is a ``TicketEvent`` or ``CounterEvent`` row (who, when, which
device); the ticket's own columns are the current state, kept for the live queue.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from branchserve.org.models import Counter, OrgUnit, Staff
from branchserve.org.scoping import ScopedQuerySet
from branchserve.queueing.choices import (
    CallStrategy,
    CounterEventKind,
    CounterStatus,
    CustomerTier,
    DivertOutcome,
    DivertTarget,
    IssueChannel,
    PauseReason,
    TicketEventKind,
    TicketState,
)
from branchserve.sim.strategies import CounterConfig


class BusinessType(models.Model):
    """A kind of business with its own queue and ticket series (``A`` → A001, A002 …).

    ``code`` names the queue (what the call strategy's ``queues`` list); ``prefix`` is the
    letter on the ticket. ``typical_service_s`` is used for the estimated wait until the day
    has finished tickets of its own.
    """

    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="business_types"
    )
    code = models.CharField(_("queue code"), max_length=16)
    name = models.CharField(_("name"), max_length=40)
    prefix = models.CharField(_("ticket prefix"), max_length=2)
    typical_service_s = models.PositiveIntegerField(_("typical service time (s)"), default=300)
    order = models.PositiveSmallIntegerField(_("order on the kiosk"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    objects = ScopedQuerySet.as_manager()
    scope_path: ClassVar[str] = "unit__path"

    class Meta:
        verbose_name = _("business type")
        verbose_name_plural = _("business types")
        ordering = ["unit", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "code"], name="business_type_code_per_unit"),
            models.UniqueConstraint(
                fields=["unit", "prefix"], name="business_type_prefix_per_unit"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prefix} {self.name}"


class QueueSettings(models.Model):
    """How a unit's outlets run their queue (the nearest unit with a row wins).

    ``last_ticket_minutes``: no ticket is issued in the last minutes before closing (the
    outlet's ``OpeningHours``). Tickets still open at the end of the day are always closed with
    a ``closed`` event (``actions.do_close_day``), never dropped. ``default_strategy``: how a
    counter without its own ``CounterQueueConfig`` calls (all business types in order).
    """

    unit = models.OneToOneField(
        OrgUnit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="queue_settings"
    )
    last_ticket_minutes = models.PositiveSmallIntegerField(
        _("stop issuing minutes before closing"), default=30
    )
    max_recalls = models.PositiveSmallIntegerField(_("recalls before no-show"), default=2)
    green_channel = models.BooleanField(_("green channel (elderly and disabled)"), default=True)
    default_strategy = models.CharField(
        _("default call strategy"),
        max_length=32,
        choices=CallStrategy.choices,
        default=CallStrategy.AGEING,
    )
    default_ageing_cap_s = models.PositiveIntegerField(
        _("default ageing cap (s)"), null=True, blank=True, default=1800
    )

    objects = ScopedQuerySet.as_manager()
    scope_path: ClassVar[str] = "unit__path"

    class Meta:
        verbose_name = _("queue settings")
        verbose_name_plural = _("queue settings")

    def __str__(self) -> str:
        return str(self.unit)

    def clean(self) -> None:
        if self.default_strategy == CallStrategy.AGEING and self.default_ageing_cap_s is None:
            raise ValidationError(
                {"default_ageing_cap_s": _("The ageing strategy needs an ageing cap.")}
            )


class WaitTarget(models.Model):
    """A wait-time target: ``share`` of customers wait at most ``wait_s`` (85 % within 15 min).

    Empty ``business_type_code`` or ``tier`` means "all"; the most specific row applies.
    """

    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="wait_targets"
    )
    business_type_code = models.CharField(_("queue code"), max_length=16, blank=True)
    tier = models.PositiveSmallIntegerField(
        _("customer tier"), choices=CustomerTier.choices, null=True, blank=True
    )
    wait_s = models.PositiveIntegerField(_("longest wait (s)"), default=900)
    share = models.DecimalField(_("share within"), max_digits=4, decimal_places=3, default=0.85)

    objects = ScopedQuerySet.as_manager()
    scope_path: ClassVar[str] = "unit__path"

    class Meta:
        verbose_name = _("wait-time target")
        verbose_name_plural = _("wait-time targets")
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "business_type_code", "tier"], name="one_wait_target_per_key"
            ),
            models.CheckConstraint(
                condition=Q(share__gt=0) & Q(share__lte=1), name="wait_target_share_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.share:.0%} ≤ {self.wait_s // 60} min"


class CounterQueueConfig(models.Model):
    """The queues a counter serves and how it calls: ``sim.strategies.CounterConfig`` as JSON.

    ``config`` holds ``CounterConfig.to_dict()`` without ``counter``: ``queues`` (business type
    codes in order), ``strategy``, ``weights``, ``tier_priority``, ``ageing_cap_s``,
    ``tier_boost_s``, ``fairness_cap_s``. ``clean`` validates it through
    ``CounterConfig.from_dict``, the very constructor the call uses.
    """

    counter = models.OneToOneField(
        Counter, verbose_name=_("counter"), on_delete=models.CASCADE, related_name="queue_config"
    )
    config = models.JSONField(_("call configuration"), default=dict)

    objects = ScopedQuerySet.as_manager()
    scope_path: ClassVar[str] = "counter__outlet__path"

    class Meta:
        verbose_name = _("counter queue configuration")
        verbose_name_plural = _("counter queue configurations")

    def __str__(self) -> str:
        return str(self.counter)

    def counter_config(self) -> CounterConfig:
        return CounterConfig.from_dict({**self.config, "counter": self.counter.code})

    def clean(self) -> None:
        if not isinstance(self.config, dict):
            raise ValidationError({"config": _("The configuration must be a JSON object.")})
        try:
            config = CounterConfig.from_dict({**self.config, "counter": "x"})
        except (ValueError, TypeError, KeyError) as error:
            raise ValidationError({"config": str(error)}) from None
        if self.counter_id:
            from branchserve.queueing.config import business_types_for

            known = set(business_types_for(self.counter.outlet))
            unknown = sorted(set(config.queues) - known)
            if unknown:
                raise ValidationError(
                    {"config": _("Unknown queue codes: %(codes)s") % {"codes": ", ".join(unknown)}}
                )


class OutletQueue(models.Model):
    """The row every queue operation of an outlet locks first (``SELECT … FOR UPDATE``).

    ``day`` is the business day the queue is on; the first operation of a new day closes what
    the previous days left open (``actions.lock_outlet``).
    """

    outlet = models.OneToOneField(
        OrgUnit, primary_key=True, on_delete=models.CASCADE, related_name="queue"
    )
    day = models.DateField()

    class Meta:
        verbose_name = _("outlet queue")
        verbose_name_plural = _("outlet queues")

    def __str__(self) -> str:
        return f"{self.outlet_id} {self.day}"


class TicketSeries(models.Model):
    """The last ticket number of one business type at one outlet on one day."""

    outlet = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="+")
    business_type = models.ForeignKey(BusinessType, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["outlet", "business_type", "day"], name="one_series_per_type_and_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.business_type_id} {self.day} {self.last_number}"


class Ticket(models.Model):
    """A customer's ticket. ``public_id`` (random, 20 characters) is what the API shows.

    Times: ``issued_at``; ``effective_at`` is when it queues from (the issue time, or after a
    transfer the transfer time or the original time); ``called_at``, ``started_at`` and
    ``ended_at`` of the current (last) visit to a counter. ``estimated_wait_s`` is the estimate
    given at issue, kept so that its error can be measured against the actual wait.

    Indexes: only those the queue and the reports read by. A ticket is written four times in
    its life (issue, call, start, finish), and each write adds an entry to every index (the
    state is indexed, so PostgreSQL cannot update in place), so the foreign keys have none of
    their own: every read goes through the outlet, which leads ``ticket_live`` and
    ``ticket_number_per_day``. Only deleting a counter, a business type or a staff member
    (refused while tickets refer to them) scans the table. ``public_id`` is unique through a
    constraint, which unlike ``unique=True`` adds no second (``LIKE``) index.
    """

    public_id = models.CharField(_("ticket id"), max_length=24, editable=False)
    outlet = models.ForeignKey(
        OrgUnit,
        verbose_name=_("outlet"),
        on_delete=models.PROTECT,
        related_name="tickets",
        db_index=False,
    )
    business_type = models.ForeignKey(
        BusinessType,
        verbose_name=_("business type"),
        on_delete=models.PROTECT,
        related_name="tickets",
        db_index=False,
    )
    queue = models.CharField(_("queue code"), max_length=16)
    day = models.DateField(_("business day"))
    seq = models.PositiveIntegerField(_("sequence number"))
    number = models.CharField(_("ticket number"), max_length=12)
    tier = models.PositiveSmallIntegerField(
        _("customer tier"), choices=CustomerTier.choices, default=CustomerTier.ORDINARY
    )
    green_channel = models.BooleanField(_("green channel"), default=False)
    appointment = models.BooleanField(_("appointment"), default=False)
    front = models.BooleanField(_("placed first"), default=False)
    channel = models.CharField(_("issued through"), max_length=16, choices=IssueChannel.choices)
    state = models.CharField(
        _("state"), max_length=16, choices=TicketState.choices, default=TicketState.WAITING
    )
    target_counter = models.ForeignKey(
        Counter,
        verbose_name=_("for counter"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    counter = models.ForeignKey(
        Counter,
        verbose_name=_("counter"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
        db_index=False,
    )
    teller = models.ForeignKey(
        Staff,
        verbose_name=_("teller"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
        db_index=False,
    )
    issued_at = models.DateTimeField(_("issued at"))
    effective_at = models.DateTimeField(_("queues from"))
    called_at = models.DateTimeField(_("called at"), null=True, blank=True)
    started_at = models.DateTimeField(_("service started at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    recalls = models.PositiveSmallIntegerField(_("recalls"), default=0)
    estimated_wait_s = models.PositiveIntegerField(_("estimated wait (s)"), null=True, blank=True)
    waiting_ahead = models.PositiveIntegerField(_("waiting ahead at issue"), default=0)
    customer_masked = models.CharField(_("customer (masked)"), max_length=32, blank=True)
    idempotency_key = models.CharField(max_length=64, blank=True, editable=False)
    divert_target = models.CharField(
        _("diverted to"), max_length=16, choices=DivertTarget.choices, blank=True
    )
    divert_outcome = models.CharField(
        _("diversion outcome"), max_length=16, choices=DivertOutcome.choices, blank=True
    )

    objects = ScopedQuerySet.as_manager()
    scope_path: ClassVar[str] = "outlet__path"

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-issued_at"]
        constraints = [
            models.UniqueConstraint(fields=["public_id"], name="ticket_public_id_unique"),
            models.UniqueConstraint(
                fields=["outlet", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="ticket_idempotency_key_per_outlet",
            ),
            # A transferred ticket keeps its number in its new queue.
            models.UniqueConstraint(
                fields=["outlet", "day", "number"], name="ticket_number_per_day"
            ),
        ]
        indexes = [
            models.Index(fields=["outlet", "state", "day", "effective_at"], name="ticket_live"),
        ]

    def __str__(self) -> str:
        return self.number


class TicketEvent(models.Model):
    """Something that happened to a ticket: who (staff), from which device, at which counter.

    ``data`` holds the details: for ``called`` the strategy's ``rule``, ``reason_code`` and
    ``params`` (``Choice.to_dict()``); for ``transferred`` where from and to; for ``diverted``
    the target and outcome; for ``closed`` the state it was left in.

    Read by ticket or by outlet, kind and time (``ticket_event_kind_at``); the other foreign
    keys have no index of their own, as on ``Ticket``: a ticket gets four events.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    outlet = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+", db_index=False)
    kind = models.CharField(_("kind"), max_length=16, choices=TicketEventKind.choices)
    at = models.DateTimeField(_("at"))
    staff = models.ForeignKey(
        Staff,
        verbose_name=_("staff"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,
    )
    device = models.ForeignKey(
        "devices.Device",
        verbose_name=_("device"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,
    )
    counter = models.ForeignKey(
        Counter,
        verbose_name=_("counter"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_index=False,
    )
    data: models.JSONField[Any] = models.JSONField(_("details"), default=dict, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_path: ClassVar[str] = "outlet__path"

    class Meta:
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["outlet", "kind", "at"], name="ticket_event_kind_at")]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind}"


class CounterSession(models.Model):
    """One teller's session at a counter: from opening to closing it."""

    counter = models.ForeignKey(
        Counter, verbose_name=_("counter"), on_delete=models.PROTECT, related_name="sessions"
    )
    outlet = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    teller = models.ForeignKey(
        Staff, verbose_name=_("teller"), on_delete=models.PROTECT, related_name="sessions"
    )
    device = models.ForeignKey(
        "devices.Device",
        verbose_name=_("terminal"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    opened_at = models.DateTimeField(_("opened at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_path: ClassVar[str] = "outlet__path"

    class Meta:
        verbose_name = _("counter session")
        verbose_name_plural = _("counter sessions")
        ordering = ["-opened_at"]

    def __str__(self) -> str:
        return f"{self.counter} · {self.teller}"


class CounterState(models.Model):
    """A counter's live state: status, teller, the ticket at it, the strategy's memory.

    Read by counter or outlet only. Without indexes on the other foreign keys, the update each
    call makes (the ticket at the counter, the strategy's memory) is done in place (a HOT
    update), without new index entries.
    """

    counter = models.OneToOneField(
        Counter, primary_key=True, on_delete=models.CASCADE, related_name="queue_state"
    )
    outlet = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(
        _("status"), max_length=16, choices=CounterStatus.choices, default=CounterStatus.CLOSED
    )
    pause_reason = models.CharField(
        _("pause reason"), max_length=16, choices=PauseReason.choices, blank=True
    )
    session = models.ForeignKey(
        CounterSession,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    teller = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    current_ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    strategy_state: models.JSONField[Any] = models.JSONField(default=dict, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_path: ClassVar[str] = "outlet__path"

    class Meta:
        verbose_name = _("counter state")
        verbose_name_plural = _("counter states")

    def __str__(self) -> str:
        return f"{self.counter_id} {self.status}"


class CounterEvent(models.Model):
    """A counter opened, paused (with the reason), resumed or closed."""

    counter = models.ForeignKey(Counter, on_delete=models.PROTECT, related_name="queue_events")
    outlet = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="+")
    session = models.ForeignKey(
        CounterSession, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=CounterEventKind.choices)
    reason = models.CharField(_("reason"), max_length=16, choices=PauseReason.choices, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    at = models.DateTimeField(_("at"))
    staff = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.PROTECT)
    device = models.ForeignKey("devices.Device", null=True, blank=True, on_delete=models.PROTECT)

    objects = ScopedQuerySet.as_manager()
    scope_path: ClassVar[str] = "outlet__path"

    class Meta:
        verbose_name = _("counter event")
        verbose_name_plural = _("counter events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.counter_id} {self.kind}"


class DemoCustomer(models.Model):
    """Stands in for core banking in the demo: a card or phone number's customer tier.

    The number is never stored in clear: only its masked form and a keyed hash
    (``customers.number_hash``) to find it again.
    """

    number_hash = models.CharField(max_length=64, unique=True, editable=False)
    masked = models.CharField(_("number (masked)"), max_length=32, editable=False)
    tier = models.PositiveSmallIntegerField(
        _("customer tier"), choices=CustomerTier.choices, default=CustomerTier.ORDINARY
    )
    name = models.CharField(_("name (masked)"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("demo customer")
        verbose_name_plural = _("demo customers")
        ordering = ["masked"]

    def __str__(self) -> str:
        return self.masked
