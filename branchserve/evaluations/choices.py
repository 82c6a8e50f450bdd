"""States and kinds of evaluations, with Chinese labels (through the catalogue)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EvaluationState(models.TextChoices):
    """``pending`` (initiated, waiting for the customer) → ``rated`` or ``not_rated`` (no answer
    before ``expires_at``)."""

    PENDING = "pending", _("Waiting for the customer")
    RATED = "rated", _("Rated")
    NOT_RATED = "not_rated", _("Not rated")


class InitiatedVia(models.TextChoices):
    TERMINAL = "terminal", _("Counter terminal")
    AUTO = "auto", _("Automatically on finish")


class EvaluationEventKind(models.TextChoices):
    INITIATED = "initiated", _("Initiated")
    INITIATED_AGAIN = "initiated_again", _("Initiated again")
    RATED = "rated", _("Rated")
    PRESS_IGNORED = "press_ignored", _("Extra press ignored")
    EXPIRED = "expired", _("Expired without a rating")


class IntegrityRule(models.TextChoices):
    SELECTIVE_INITIATION = "selective_initiation", _("Selective initiation")
    FAST_RATING = "fast_rating", _("Rating too fast after initiation")
    NO_CUSTOMER = "no_customer", _("Rating without a customer")
    BURST = "burst", _("Streak or burst of ratings")


class FlagVerdict(models.TextChoices):
    PENDING = "pending", _("Awaiting verdict")
    CONFIRMED = "confirmed", _("Confirmed")
    DISMISSED = "dismissed", _("Dismissed")


class RateGroup(models.TextChoices):
    """How rates are grouped (``rates.rates_by``)."""

    TELLER = "teller", _("Teller")
    COUNTER = "counter", _("Counter")
    OUTLET = "outlet", _("Outlet")
    SUB_BRANCH = "sub_branch", _("Sub-branch")
    PROVINCE = "province", _("Province")
