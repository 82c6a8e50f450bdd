from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from branchserve.org.choices import ALLOWED_PARENTS, ROLE_UNIT_KINDS, Role, UnitKind
from branchserve.org.scoping import ScopedQuerySet


class OrgUnit(models.Model):
    """A node of the organisation tree: province, business department, sub-branch or outlet.

    ``path`` is the materialised path of codes (``/GD/SB03/O0312/``), so a subtree is one
    ``startswith`` query; it is kept by ``save()``.
    """

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=32, choices=UnitKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(_("path"), max_length=255, db_index=True, editable=False)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    address = models.CharField(_("address"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = ScopedQuerySet.as_manager()
    scope_path: ClassVar[str] = "path"

    class Meta:
        verbose_name = _("organisation unit")
        verbose_name_plural = _("organisation units")
        ordering = ["path"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    def clean(self) -> None:
        try:
            ZoneInfo(self.time_zone)
        except (ValueError, ZoneInfoNotFoundError):
            raise ValidationError({"time_zone": _("Unknown time zone.")}) from None
        parent_kind = self.parent.kind if self.parent else None
        if self.kind in ALLOWED_PARENTS and parent_kind not in ALLOWED_PARENTS[self.kind]:
            raise ValidationError(
                {
                    "parent": _("A %(kind)s cannot sit under this unit.")
                    % {"kind": self.get_kind_display()}
                }
            )
        if self.parent and self.pk and self.parent.path.startswith(self.path or "\0"):
            raise ValidationError({"parent": _("A unit cannot sit under itself.")})

    def compute_path(self) -> str:
        return f"{self.parent.path if self.parent else '/'}{self.code}/"

    def save(self, *args: Any, **kwargs: Any) -> None:
        old_path = self.path
        self.path = self.compute_path()
        super().save(*args, **kwargs)
        if old_path and old_path != self.path:
            # Move the subtree along with its root.
            for child in OrgUnit.objects.filter(path__startswith=old_path).exclude(pk=self.pk):
                child.path = self.path + child.path[len(old_path) :]
                models.Model.save(child, update_fields=["path"])

    @property
    def is_outlet(self) -> bool:
        return self.kind == UnitKind.OUTLET

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def ancestors(self) -> models.QuerySet[OrgUnit]:
        codes = [c for c in self.path.strip("/").split("/") if c]
        return OrgUnit.objects.filter(code__in=codes).order_by("path")

    def subtree(self) -> models.QuerySet[OrgUnit]:
        return OrgUnit.objects.filter(path__startswith=self.path)

    def local_today(self) -> dt.date:
        return timezone.now().astimezone(self.zone).date()


class OpeningHours(models.Model):
    """An outlet's hours on one weekday; a weekday without a row is closed."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    outlet = models.ForeignKey(
        OrgUnit,
        verbose_name=_("outlet"),
        on_delete=models.CASCADE,
        related_name="opening_hours",
        limit_choices_to={"kind": UnitKind.OUTLET},
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens_at = models.TimeField(_("opens at"))
    closes_at = models.TimeField(_("closes at"))

    objects = ScopedQuerySet.as_manager()
    scope_path: ClassVar[str] = "outlet__path"

    class Meta:
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        ordering = ["outlet", "weekday"]
        constraints = [
            models.UniqueConstraint(fields=["outlet", "weekday"], name="one_hours_row_per_weekday"),
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")), name="opening_hours_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens_at:%H:%M}–{self.closes_at:%H:%M}"


class Counter(models.Model):
    """A service window (窗口) of an outlet."""

    outlet = models.ForeignKey(
        OrgUnit,
        verbose_name=_("outlet"),
        on_delete=models.PROTECT,
        related_name="counters",
        limit_choices_to={"kind": UnitKind.OUTLET},
    )
    code = models.CharField(_("code"), max_length=40, unique=True)
    number = models.PositiveSmallIntegerField(_("counter number"))
    name = models.CharField(_("name"), max_length=60, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = ScopedQuerySet.as_manager()
    scope_path: ClassVar[str] = "outlet__path"

    class Meta:
        verbose_name = _("counter")
        verbose_name_plural = _("counters")
        ordering = ["outlet", "number"]
        constraints = [
            models.UniqueConstraint(fields=["outlet", "number"], name="counter_number_per_outlet")
        ]

    def __str__(self) -> str:
        return f"{self.outlet.name} {self.number}号窗口"


class Staff(models.Model):
    """An employee. Logs in with the employee number; what they may see comes from assignments."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("login"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="staff",
    )
    employee_no = models.CharField(_("employee number"), max_length=20, unique=True)
    name = models.CharField(_("full name"), max_length=40)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = ScopedQuerySet.as_manager()
    scope_path: ClassVar[str] = "assignments__unit__path"
    scope_staff: ClassVar[str] = "pk"

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        ordering = ["employee_no"]

    def __str__(self) -> str:
        return f"{self.name}（{self.employee_no}）"

    def current_assignments(self, on: dt.date | None = None) -> models.QuerySet[Assignment]:
        return self.assignments.current(on).select_related("unit")


class AssignmentQuerySet(ScopedQuerySet["Assignment"]):
    def current(self, on: dt.date | None = None) -> AssignmentQuerySet:
        on = on or timezone.localdate()
        return self.filter(Q(starts_on__lte=on), Q(ends_on__isnull=True) | Q(ends_on__gte=on))


class Assignment(models.Model):
    """A staff member's role at a unit from ``starts_on`` to ``ends_on`` (inclusive; open if empty).

    Work is recorded against the unit where it was done, so moving a teller to another outlet
    ends one assignment and starts another; their history stays with the old outlet.
    """

    staff = models.ForeignKey(
        Staff, verbose_name=_("staff member"), on_delete=models.CASCADE, related_name="assignments"
    )
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="assignments"
    )
    role = models.CharField(_("role"), max_length=40, choices=Role.choices)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)

    objects = AssignmentQuerySet.as_manager()
    scope_path: ClassVar[str] = "unit__path"
    scope_staff: ClassVar[str] = "staff"

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["staff", "-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="assignment_dates_order",
            )
        ]

    def __str__(self) -> str:
        return f"{self.staff} · {self.get_role_display()} · {self.unit.name}"

    def clean(self) -> None:
        if (
            self.unit_id
            and self.role in ROLE_UNIT_KINDS
            and (self.unit.kind not in ROLE_UNIT_KINDS[self.role])
        ):
            raise ValidationError(
                {
                    "unit": _("A %(role)s cannot be assigned to a %(kind)s.")
                    % {"role": self.get_role_display(), "kind": self.unit.get_kind_display()}
                }
            )
        if self.ends_on and self.starts_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("The end date is before the start date.")})
