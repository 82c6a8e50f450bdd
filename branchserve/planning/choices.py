from django.db import models
from django.utils.translation import gettext_lazy as _


class DayType(models.TextChoices):
    """The day types of :data:`branchserve.planning.history.DAY_TYPES` (all working days)."""

    WEEKDAY = "weekday", _("Any working day")
    MONDAY = "monday", _("Monday")
    MID_MONTH = "mid_month", _("Mid-month (10th to 20th)")
    MONTH_END = "month_end", _("Month end (last three days)")
    HOLIDAY_EVE = "holiday_eve", _("Eve of a public holiday")
