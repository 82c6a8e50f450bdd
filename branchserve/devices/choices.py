from django.db import models
from django.utils.translation import gettext_lazy as _


class DeviceKind(models.TextChoices):
    KIOSK = "kiosk", _("Ticket kiosk")
    EVALUATION_PAD = "evaluation_pad", _("Evaluation pad")
    LOBBY_DISPLAY = "lobby_display", _("Lobby display")
    COUNTER_TERMINAL = "counter_terminal", _("Counter terminal")
    LOBBY_TABLET = "lobby_tablet", _("Lobby tablet")


# Kinds bound to one counter; the others are bound to an outlet.
COUNTER_KINDS = frozenset({DeviceKind.EVALUATION_PAD, DeviceKind.COUNTER_TERMINAL})


class DeviceStatus(models.TextChoices):
    UNPAIRED = "unpaired", _("Waiting for pairing")
    ACTIVE = "active", _("Active")
    REVOKED = "revoked", _("Revoked")


class HealthStatus(models.TextChoices):
    """What a device last said about itself (``ok``/``faulty``), or ``offline`` once the sweep
    found it silent while its outlet was open."""

    OK = "ok", _("Working")
    FAULTY = "faulty", _("Faulty")
    OFFLINE = "offline", _("Offline")


class FaultCode(models.TextChoices):
    PRINTER_OUT_OF_PAPER = "printer_out_of_paper", _("Printer out of paper")
    PRINTER_JAM = "printer_jam", _("Printer jam")
    SCREEN_FAULT = "screen_fault", _("Screen fault")
    NETWORK_UNSTABLE = "network_unstable", _("Network unstable")
    CARD_READER_FAULT = "card_reader_fault", _("Card reader fault")
    OTHER = "other", _("Other fault")


class HealthEventKind(models.TextChoices):
    """A change of a device's health (``DeviceStatusEvent``); heartbeats without a change leave
    no row."""

    WENT_OFFLINE = "went_offline", _("Went offline")
    CAME_BACK = "came_back", _("Came back online")
    FAULTY = "faulty", _("Reported a fault")
    FAULT_CLEARED = "fault_cleared", _("Fault cleared")


class AlertStatus(models.TextChoices):
    """Why a device is on the alert list (``health.DeviceAlert.status``)."""

    OFFLINE = "offline", _("Offline")
    FAULTY = "faulty", _("Faulty")
    NEVER_SEEN = "never_seen", _("Never connected")
