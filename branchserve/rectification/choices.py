from django.db import models
from django.utils.translation import pgettext_lazy


class RectificationKind(models.TextChoices):
    CUSTOMER_FOLLOW_UP = "customer_follow_up", pgettext_lazy("rectification", "Customer follow-up")
    COMPLAINT = "complaint", pgettext_lazy("rectification", "Complaint")
    INSPECTION_FINDING = "inspection_finding", pgettext_lazy("rectification", "Inspection finding")
    SURVEY = "survey", pgettext_lazy("rectification", "Survey answer")
    OTHER = "other", pgettext_lazy("rectification", "Other")


class RectificationState(models.TextChoices):
    OPEN = "open", pgettext_lazy("rectification", "Open")
    IN_PROGRESS = "in_progress", pgettext_lazy("rectification", "In progress")
    AWAITING_VERIFICATION = (
        "awaiting_verification",
        pgettext_lazy("rectification", "Awaiting verification"),
    )
    CLOSED = "closed", pgettext_lazy("rectification", "Closed")
    CANCELLED = "cancelled", pgettext_lazy("rectification", "Cancelled")


# States in which the work is still to be done (counted as open, may become overdue).
ACTIVE_STATES = frozenset(
    {
        RectificationState.OPEN,
        RectificationState.IN_PROGRESS,
        RectificationState.AWAITING_VERIFICATION,
    }
)
FINAL_STATES = frozenset({RectificationState.CLOSED, RectificationState.CANCELLED})


class EventKind(models.TextChoices):
    OPENED = "opened", pgettext_lazy("rectification", "Opened")
    STARTED = "started", pgettext_lazy("rectification", "Started")
    STEP = "step", pgettext_lazy("rectification", "Step recorded")
    EVIDENCE = "evidence", pgettext_lazy("rectification", "Evidence added")
    SUBMITTED = "submitted", pgettext_lazy("rectification", "Submitted for verification")
    VERIFIED = "verified", pgettext_lazy("rectification", "Verified and closed")
    REJECTED = "rejected", pgettext_lazy("rectification", "Verification rejected")
    CANCELLED = "cancelled", pgettext_lazy("rectification", "Cancelled")


class ContactOutcome(models.TextChoices):
    """How contacting the customer went (a step of a customer follow-up)."""

    REACHED = "reached", pgettext_lazy("rectification", "Reached")
    NOT_REACHED = "not_reached", pgettext_lazy("rectification", "Not reached")
    DECLINED = "declined", pgettext_lazy("rectification", "Declined to talk")


class StepKind(models.TextChoices):
    """Steps recorded while a rectification is in progress (kept generic: any kind may use any)."""

    CONTACT = "contact", pgettext_lazy("rectification", "Contacted the customer")
    NOTE = "note", pgettext_lazy("rectification", "Progress note")


# Steps a kind needs before it can be submitted for verification.
REQUIRED_STEPS: dict[str, tuple[str, ...]] = {
    RectificationKind.CUSTOMER_FOLLOW_UP: (StepKind.CONTACT,),
}
