"""Statuses and kinds of the queue, with Chinese labels (through the catalogue)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from branchserve.sim.strategies import Strategy as SimStrategy
from branchserve.sim.strategies import Tier


class TicketState(models.TextChoices):
    """Where a ticket is in its life cycle.

    ``waiting → called → serving → finished``; a called ticket may be recalled (stays
    ``called``), marked ``no_show``, or transferred (back to ``waiting``); a waiting ticket may be
    diverted, cancelled or transferred; whatever is still open at the end of the day is
    ``closed``.
    """

    WAITING = "waiting", _("Waiting")
    CALLED = "called", _("Called")
    SERVING = "serving", _("Being served")
    FINISHED = "finished", _("Finished")
    NO_SHOW = "no_show", _("No-show")
    DIVERTED = "diverted", _("Diverted")
    CANCELLED = "cancelled", _("Cancelled")
    CLOSED = "closed", _("Closed at end of day")


# States in which a ticket is still "open" (closed at the end of the day if left so).
OPEN_STATES = (TicketState.WAITING, TicketState.CALLED, TicketState.SERVING)


class TicketEventKind(models.TextChoices):
    ISSUED = "issued", _("Issued")
    CALLED = "called", _("Called")
    RECALLED = "recalled", _("Recalled")
    STARTED = "started", _("Service started")
    NO_SHOW = "no_show", _("No-show")
    TRANSFERRED = "transferred", _("Transferred")
    DIVERTED = "diverted", _("Diverted")
    FINISHED = "finished", _("Finished")
    CANCELLED = "cancelled", _("Cancelled")
    CLOSED = "closed", _("Closed at end of day")


class IssueChannel(models.TextChoices):
    KIOSK = "kiosk", _("Kiosk")
    LOBBY_TABLET = "lobby_tablet", _("Lobby tablet")
    STAFF = "staff", _("Staff")
    APPOINTMENT = "appointment", _("Appointment")
    REMOTE = "remote", _("Remote check-in")


class CustomerTier(models.IntegerChoices):
    """The simulator's ``Tier`` (same values), with labels."""

    ORDINARY = Tier.ORDINARY.value, _("Ordinary")
    GOLD = Tier.GOLD.value, _("Gold")
    PLATINUM = Tier.PLATINUM.value, _("Platinum")
    PRIVATE_BANKING = Tier.PRIVATE_BANKING.value, _("Private banking")


class CallStrategy(models.TextChoices):
    """The simulator's ``Strategy`` (same values), with labels."""

    STRICT_PRIORITY = SimStrategy.STRICT_PRIORITY.value, _("Strict priority")
    WEIGHTED_ROUND_ROBIN = SimStrategy.WEIGHTED_ROUND_ROBIN.value, _("Weighted round robin")
    AGEING = SimStrategy.AGEING.value, _("Ageing (longest wait past a cap first)")
    PREMIUM_BOOST = SimStrategy.PREMIUM_BOOST.value, _("Premium boost with a fairness cap")


class Placement(models.TextChoices):
    """Where a transferred ticket joins its new queue."""

    FRONT = "front", _("First in the queue")
    ORIGINAL_TIME = "original_time", _("By original issue time")
    BACK = "back", _("At the back")


class DivertTarget(models.TextChoices):
    SELF_SERVICE = "self_service", _("Self-service machines")
    E_BANKING = "e_banking", _("E-banking")
    OTHER_OUTLET = "other_outlet", _("Another outlet")


class DivertOutcome(models.TextChoices):
    SERVED = "served", _("Served there")
    SENT = "sent", _("Customer went there")
    UNKNOWN = "unknown", _("Not known")


class CounterStatus(models.TextChoices):
    CLOSED = "closed", _("Closed")
    OPEN = "open", _("Open")
    PAUSED = "paused", _("Paused")


class CounterEventKind(models.TextChoices):
    OPENED = "opened", _("Opened")
    PAUSED = "paused", _("Paused")
    RESUMED = "resumed", _("Resumed")
    CLOSED = "closed", _("Closed")


class PauseReason(models.TextChoices):
    BREAK = "break", _("Short break")
    MEAL = "meal", _("Meal")
    MEETING = "meeting", _("Meeting or training")
    BACK_OFFICE = "back_office", _("Back-office work")
    FAULT = "fault", _("Equipment fault")
    OTHER = "other", _("Other")
