"""溯源整改: one rectification object for every source (unsatisfied rating, complaint, inspection
finding, survey answer …): root cause → task with owner and working-day deadline → evidence →
independent verification. See ``docs/rectification.md``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from branchserve.core.calendar import working_days_between
from branchserve.org.scoping import ScopedQuerySet
from branchserve.rectification.choices import (
    FINAL_STATES,
    EventKind,
    RectificationKind,
    RectificationState,
)


class Rectification(models.Model):
    """A piece of work to put something right, owned by one person at one unit.

    ``source`` is the record that caused it (any model; ``source_id`` is text so any primary
    key fits). ``due_on`` is counted in working days from the day it was opened, in the unit's
    time zone.
    """

    public_id = models.CharField(_("public id"), max_length=32, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=32, choices=RectificationKind.choices)
    state = models.CharField(
        _("state"),
        max_length=32,
        choices=RectificationState.choices,
        default=RectificationState.OPEN,
        db_index=True,
    )
    unit = models.ForeignKey(
        "org.OrgUnit",
        verbose_name=_("responsible unit"),
        on_delete=models.PROTECT,
        related_name="rectifications",
    )
    title = models.CharField(_("title"), max_length=200)
    detail = models.TextField(_("detail"), blank=True)
    source_type = models.ForeignKey(
        ContentType,
        verbose_name=_("source type"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    source_id = models.CharField(_("source id"), max_length=64, blank=True, db_index=True)
    source = GenericForeignKey("source_type", "source_id")
    owner = models.ForeignKey(
        "org.Staff",
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rectifications_owned",
    )
    opened_by = models.ForeignKey(
        "org.Staff",
        verbose_name=_("opened by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    due_on = models.DateField(_("due on"))
    root_cause = models.TextField(_("root cause"), blank=True)
    result = models.TextField(_("result"), blank=True)
    steps = models.JSONField(_("steps"), default=list, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    verified_by = models.ForeignKey(
        "org.Staff",
        verbose_name=_("verified by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    verification_note = models.TextField(_("verification note"), blank=True)
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_path: ClassVar[str] = "unit__path"
    # Tellers see the rectifications they own, not their whole outlet's.
    scope_staff: ClassVar[str] = "owner"

    class Meta:
        verbose_name = _("rectification")
        verbose_name_plural = _("rectifications")
        ordering = ["due_on", "-opened_at"]
        indexes = [
            models.Index(fields=["source_type", "source_id", "kind"], name="rect_source"),
            models.Index(fields=["unit", "state"], name="rect_unit_state"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.title}"

    def get_absolute_url(self) -> str:
        return reverse("rectification:detail", args=[self.public_id])

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    def local_today(self, now: dt.datetime | None = None) -> dt.date:
        return (now or timezone.now()).astimezone(self.unit.zone).date()

    def is_overdue(self, now: dt.datetime | None = None) -> bool:
        return not self.is_final and self.local_today(now) > self.due_on

    @property
    def overdue(self) -> bool:
        """Past its due day (in the unit's time zone) and neither closed nor cancelled."""
        return self.is_overdue()

    def working_days_left(self, now: dt.datetime | None = None) -> int:
        """Working days from today to the due day (0 on the due day, negative when overdue)."""
        return working_days_between(self.local_today(now), self.due_on)

    def source_url(self) -> str | None:
        source = self.source
        getter = getattr(source, "get_absolute_url", None)
        if getter is None:
            return None
        try:
            return str(getter())
        except Exception:
            return None

    def source_label(self) -> str:
        source = self.source
        return str(source) if source is not None else ""


class RectificationEvidence(models.Model):
    """A piece of evidence: a note, a file (photo, scan, PDF), or both."""

    rectification = models.ForeignKey(
        Rectification,
        verbose_name=_("rectification"),
        on_delete=models.CASCADE,
        related_name="evidence",
    )
    text = models.TextField(_("text"), blank=True)
    file = models.FileField(_("file"), upload_to="rectification/%Y/%m/", max_length=255, blank=True)
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    added_by = models.ForeignKey(
        "org.Staff",
        verbose_name=_("added by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    added_at = models.DateTimeField(_("added at"), default=timezone.now)

    objects = ScopedQuerySet.as_manager()
    scope_path: ClassVar[str] = "rectification__unit__path"

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        ordering = ["added_at", "pk"]

    def __str__(self) -> str:
        return self.file_name or self.text[:40]


class RectificationEvent(models.Model):
    """Append-only log of everything that happened to a rectification."""

    rectification = models.ForeignKey(
        Rectification,
        verbose_name=_("rectification"),
        on_delete=models.CASCADE,
        related_name="events",
    )
    kind = models.CharField(_("kind"), max_length=32, choices=EventKind.choices)
    from_state = models.CharField(
        _("from state"), max_length=32, choices=RectificationState.choices, blank=True
    )
    to_state = models.CharField(
        _("to state"), max_length=32, choices=RectificationState.choices, blank=True
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    staff = models.ForeignKey(
        "org.Staff",
        verbose_name=_("staff member"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.TextField(_("note"), blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    objects = ScopedQuerySet.as_manager()
    scope_path: ClassVar[str] = "rectification__unit__path"

    class Meta:
        verbose_name = _("rectification event")
        verbose_name_plural = _("rectification events")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} @ {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("rectification events are append-only")
        super().save(*args, **kwargs)
