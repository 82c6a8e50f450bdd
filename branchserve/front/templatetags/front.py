"""Template helpers for the shell of the UI."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def minutes(value: dt.timedelta | None) -> int:
    """A duration in whole minutes (rounded up): ``{{ cooloff_timedelta|minutes }}``."""
    if value is None:
        return 0
    return -int(-value.total_seconds() // 60)


@register.filter
def from_now(value: dt.timedelta | None) -> dt.datetime | None:
    """The moment ``value`` from now: ``{{ cooloff_timedelta|from_now|time:"H:i" }}``."""
    if value is None:
        return None
    return timezone.now() + value
