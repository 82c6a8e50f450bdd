"""Evaluations of transactions by customers on the evaluation pad, and their configuration.

A *transaction* is one service segment finished by one teller: a ``queueing.TicketEvent`` of
kind ``finished``, or of kind ``transferred`` when the ticket was being served by that teller
(``transactions.py``). An ``Evaluation`` exists once the teller (or the outlet's automatic
setting) has initiated one for a transaction — one row per transaction, however often it was
initiated (``initiation_count``; every initiation is an ``EvaluationEvent``).

Configuration hangs off any unit of the tree; an outlet uses the rows of the nearest unit on its
path that has any (the outlet's own, else its sub-branch's, else the province's):
``RatingLevel`` and ``ReasonOption`` as sets, ``EvaluationSettings`` as one row.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from branchserve.evaluations.choices import (
    EvaluationEventKind,
    EvaluationState,
    FlagVerdict,
    InitiatedVia,
    IntegrityRule,
)
from branchserve.org.models import Counter, OrgUnit, Staff
from branchserve.org.scoping import ScopedQuerySet


class RatingLevel(models.Model):
    """One level the customer can pick (非常满意 …); ``counts_as_satisfied`` decides the
    satisfaction rate, ``needs_reason`` asks the customer for a reason."""

    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="rating_levels"
    )
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=40)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    counts_as_satisfied = models.BooleanField(_("counts as satisfied"), default=True)
    needs_reason = models.BooleanField(_("needs a reason"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    objects = ScopedQuerySet.as_manager()
    scope_path: ClassVar[str] = "unit__path"

    class Meta:
        verbose_name = _("rating level")
        verbose_name_plural = _("rating levels")
        ordering = ["unit", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "code"], name="rating_level_code_per_unit")
        ]

    def __str__(self) -> str:
        return self.name


class ReasonOption(models.Model):
    """A reason the customer may give for a level that needs one (等候时间过长 …)."""

    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="reason_options"
    )
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=40)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    objects = ScopedQuerySet.as_manager()
    scope_path: ClassVar[str] = "unit__path"

    class Meta:
        verbose_name = _("reason option")
        verbose_name_plural = _("reason options")
        ordering = ["unit", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "code"], name="reason_option_code_per_unit")
        ]

    def __str__(self) -> str:
        return self.name


class EvaluationSettings(models.Model):
    """How a unit's outlets evaluate (the nearest unit with a row wins, ``settings_for``).

    ``answer_timeout_s``: an initiated evaluation without an answer after this long is
    "not rated". ``watch_*``: tellers and outlets below these rates (with at least
    ``watch_min_transactions``) go on the daily watch list. The rest are the integrity
    detector's thresholds (``integrity.py``).
    """

    unit = models.OneToOneField(
        OrgUnit,
        verbose_name=_("unit"),
        on_delete=models.CASCADE,
        related_name="evaluation_settings",
    )
    auto_initiate_on_finish = models.BooleanField(
        _("initiate automatically on finish"), default=False
    )
    answer_timeout_s = models.PositiveIntegerField(_("answer timeout (s)"), default=60)
    follow_up_working_days = models.PositiveSmallIntegerField(
        _("follow-up deadline (working days)"), default=2
    )
    watch_initiation_rate = models.DecimalField(
        _("watch below initiation rate"), max_digits=4, decimal_places=3, default=Decimal("0.800")
    )
    watch_satisfaction_rate = models.DecimalField(
        _("watch below satisfaction rate"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.950"),
    )
    watch_min_transactions = models.PositiveIntegerField(
        _("minimum transactions for the watch list"), default=20
    )
    fast_rating_s = models.PositiveIntegerField(_("rating faster than (s) is suspect"), default=2)
    selective_gap = models.DecimalField(
        _("selective initiation gap"), max_digits=4, decimal_places=3, default=Decimal("0.250")
    )
    selective_auc = models.DecimalField(
        _("selective initiation: skipped transactions later than initiated ones (AUC)"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.750"),
    )
    long_wait_s = models.PositiveIntegerField(_("long wait (s)"), default=900)
    long_service_s = models.PositiveIntegerField(_("long service (s)"), default=900)
    min_sample = models.PositiveIntegerField(_("minimum sample"), default=30)
    burst_window_s = models.PositiveIntegerField(_("burst window (s)"), default=600)
    burst_z = models.DecimalField(
        _("burst z-score"), max_digits=4, decimal_places=2, default=Decimal("3.0")
    )

    objects = ScopedQuerySet.as_manager()
    scope_path: ClassVar[str] = "unit__path"

    class Meta:
        verbose_name = _("evaluation settings")
        verbose_name_plural = _("evaluation settings")

    def __str__(self) -> str:
        return str(self.unit)


class Evaluation(models.Model):
    """The evaluation of one transaction: initiated, then rated by the customer or not rated.

    ``finished_at``, ``wait_s`` and ``service_s`` are copied from the transaction so that
    rates and integrity checks read one table. ``satisfied`` is the level's
    ``counts_as_satisfied`` when rated (a snapshot: changing a level later does not rewrite
    history).
    """

    public_id = models.CharField(_("evaluation id"), max_length=24, unique=True, editable=False)
    ticket = models.ForeignKey(
        "queueing.Ticket",
        verbose_name=_("ticket"),
        on_delete=models.PROTECT,
        related_name="evaluations",
    )
    transaction = models.OneToOneField(
        "queueing.TicketEvent",
        verbose_name=_("transaction"),
        on_delete=models.PROTECT,
        related_name="evaluation",
    )
    outlet = models.ForeignKey(
        OrgUnit, verbose_name=_("outlet"), on_delete=models.PROTECT, related_name="evaluations"
    )
    counter = models.ForeignKey(
        Counter, verbose_name=_("counter"), on_delete=models.PROTECT, related_name="evaluations"
    )
    teller = models.ForeignKey(
        Staff, verbose_name=_("teller"), on_delete=models.PROTECT, related_name="evaluations"
    )
    finished_at = models.DateTimeField(_("transaction finished at"))
    wait_s = models.PositiveIntegerField(_("wait (s)"), null=True, blank=True)
    service_s = models.PositiveIntegerField(_("service time (s)"), null=True, blank=True)
    initiated_at = models.DateTimeField(_("initiated at"))
    initiated_via = models.CharField(
        _("initiated via"), max_length=16, choices=InitiatedVia.choices
    )
    initiated_by = models.ForeignKey(
        Staff,
        verbose_name=_("initiated by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    initiation_count = models.PositiveSmallIntegerField(_("times initiated"), default=1)
    state = models.CharField(
        _("state"), max_length=16, choices=EvaluationState.choices, default=EvaluationState.PENDING
    )
    level = models.ForeignKey(
        RatingLevel,
        verbose_name=_("level"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    satisfied = models.BooleanField(_("satisfied"), null=True, blank=True)
    reasons: models.JSONField[Any] = models.JSONField(_("reasons"), default=list, blank=True)
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True)
    pad = models.ForeignKey(
        "devices.Device",
        verbose_name=_("evaluation pad"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    expires_at = models.DateTimeField(_("expires at"))

    objects = ScopedQuerySet.as_manager()
    scope_path: ClassVar[str] = "outlet__path"
    scope_staff: ClassVar[str] = "teller"

    class Meta:
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        ordering = ["-initiated_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(initiation_count__gte=1), name="evaluation_initiated_at_least_once"
            ),
        ]
        indexes = [
            models.Index(fields=["outlet", "finished_at"], name="evaluation_outlet_time"),
            models.Index(fields=["teller", "finished_at"], name="evaluation_teller_time"),
            models.Index(fields=["counter", "state"], name="evaluation_counter_state"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.state}"

    @property
    def is_pending(self) -> bool:
        return self.state == EvaluationState.PENDING


class EvaluationEvent(models.Model):
    """Something that happened to an evaluation (append-only): who, from which device, when."""

    evaluation = models.ForeignKey(
        Evaluation, verbose_name=_("evaluation"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=EvaluationEventKind.choices)
    at = models.DateTimeField(_("at"))
    staff = models.ForeignKey(
        Staff, verbose_name=_("staff"), null=True, blank=True, on_delete=models.PROTECT
    )
    device = models.ForeignKey(
        "devices.Device",
        verbose_name=_("device"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    detail: models.JSONField[Any] = models.JSONField(_("details"), default=dict, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_path: ClassVar[str] = "evaluation__outlet__path"
    scope_staff: ClassVar[str] = "evaluation__teller"

    class Meta:
        verbose_name = _("evaluation event")
        verbose_name_plural = _("evaluation events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.evaluation_id} {self.kind}"


class IntegrityFlag(models.Model):
    """A suspicion that ratings were gamed (``integrity.py``), with evidence and a verdict."""

    rule = models.CharField(_("rule"), max_length=32, choices=IntegrityRule.choices)
    outlet = models.ForeignKey(
        OrgUnit, verbose_name=_("outlet"), on_delete=models.PROTECT, related_name="integrity_flags"
    )
    teller = models.ForeignKey(
        Staff,
        verbose_name=_("teller"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="integrity_flags",
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    score = models.FloatField(_("score"), default=0.0)
    evidence: models.JSONField[Any] = models.JSONField(_("evidence"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    verdict = models.CharField(
        _("verdict"), max_length=16, choices=FlagVerdict.choices, default=FlagVerdict.PENDING
    )
    verdict_by = models.ForeignKey(
        Staff,
        verbose_name=_("verdict by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    verdict_at = models.DateTimeField(_("verdict at"), null=True, blank=True)
    verdict_note = models.CharField(_("verdict note"), max_length=500, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_path: ClassVar[str] = "outlet__path"
    scope_staff: ClassVar[str] = "teller"

    class Meta:
        verbose_name = _("integrity flag")
        verbose_name_plural = _("integrity flags")
        ordering = ["-period_end", "rule"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "outlet", "teller", "period_start", "period_end"],
                name="one_flag_per_rule_teller_period",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_rule_display()} {self.period_start}–{self.period_end}"


# -- configuration resolvers (the nearest unit on the outlet's path wins) ----------------------

DEFAULT_LEVELS: tuple[tuple[str, str, bool, bool], ...] = (
    # code, name, counts_as_satisfied, needs_reason
    ("very_satisfied", "非常满意", True, False),
    ("satisfied", "满意", True, False),
    ("neutral", "一般", False, False),
    ("unsatisfied", "不满意", False, True),
)
DEFAULT_REASONS: tuple[tuple[str, str], ...] = (
    ("waited_too_long", "等候时间过长"),
    ("attitude", "服务态度"),
    ("skill", "业务技能"),
    ("environment", "网点环境"),
    ("other", "其他"),
)


def _path_units(outlet: OrgUnit) -> list[OrgUnit]:
    """The outlet and its ancestors, nearest first."""
    return sorted(outlet.ancestors(), key=lambda unit: len(unit.path), reverse=True)


def settings_for(outlet: OrgUnit) -> EvaluationSettings:
    """The outlet's own settings row, else its nearest ancestor's, else the defaults (unsaved)."""
    rows = {
        row.unit_id: row
        for row in EvaluationSettings.objects.filter(unit__in=[u.pk for u in _path_units(outlet)])
    }
    for unit in _path_units(outlet):
        if unit.pk in rows:
            return rows[unit.pk]
    return EvaluationSettings(unit=outlet)


def _nearest_set(model: type[RatingLevel] | type[ReasonOption], outlet: OrgUnit) -> Any:
    units = _path_units(outlet)
    rows: list[Any] = list(model.objects.filter(unit__in=[u.pk for u in units], is_active=True))
    for unit in units:
        found = [row for row in rows if row.unit_id == unit.pk]
        if found:
            return sorted(found, key=lambda row: (row.order, row.code))
    return None


def levels_for(outlet: OrgUnit) -> list[RatingLevel]:
    """The active rating levels the outlet uses, in order.

    The set of the nearest unit on the outlet's path that has any; when none has, the default
    set (非常满意 / 满意 / 一般 / 不满意) is created at the root of the path (the province).
    """
    found = _nearest_set(RatingLevel, outlet)
    if found is None:
        root = _path_units(outlet)[-1]
        for order, (code, name, satisfied, reason) in enumerate(DEFAULT_LEVELS, start=1):
            RatingLevel.objects.get_or_create(
                unit=root,
                code=code,
                defaults={
                    "name": name,
                    "order": order,
                    "counts_as_satisfied": satisfied,
                    "needs_reason": reason,
                },
            )
        found = _nearest_set(RatingLevel, outlet)
    return list(found)


def reasons_for(outlet: OrgUnit) -> list[ReasonOption]:
    """The active reasons the outlet offers, in order (defaults created at the root as for
    ``levels_for``)."""
    found = _nearest_set(ReasonOption, outlet)
    if found is None:
        root = _path_units(outlet)[-1]
        for order, (code, name) in enumerate(DEFAULT_REASONS, start=1):
            ReasonOption.objects.get_or_create(
                unit=root, code=code, defaults={"name": name, "order": order}
            )
        found = _nearest_set(ReasonOption, outlet)
    return list(found)
