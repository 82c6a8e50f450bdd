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
