"""``{% load device_health %}{% heartbeat_script %}``: the heartbeat of a device page."""

from __future__ import annotations

from django import template
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html, json_script
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from branchserve.devices.actions import TOKEN_STORAGE_KEY
from branchserve.devices.health import heartbeat_interval

register = template.Library()


@register.simple_tag
def heartbeat_script() -> SafeString:
    """The ``heartbeat.js`` tag with its endpoint, interval and token key as data attributes."""
    return format_html(
        '<script src="{}" data-url="{}" data-interval="{}" data-storage-key="{}" '
        "data-heartbeat></script>",
        static("devices/heartbeat.js"),
        reverse("api:heartbeat"),
        int(heartbeat_interval().total_seconds()),
        TOKEN_STORAGE_KEY,
    )


@register.simple_tag
def device_alert_text() -> SafeString:
    """The lobby panel's words (``%(name)s`` placeholders, filled in by ``lobby.js``)."""
    text = {
        "since": _("since %(time)s"),
        "counter": _("counter %(code)s"),
    }
    return json_script(text, "device-alert-text")
