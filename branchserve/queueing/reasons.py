"""Why a ticket was called, as a sentence for the teller and the lobby manager.

The templates are the English forms of ``sim.strategies.REASON_TEMPLATES_ZH``; their Chinese
translations in this app's catalogue are exactly those sentences (a test checks it), so the
teller reads the strategy's own wording in Chinese and the English UI gets English.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext, gettext_noop

from branchserve.sim.strategies import Reason

REASON_TEMPLATES: dict[str, str] = {
    Reason.TRANSFERRED_FRONT: gettext_noop("Transferred customer, first in queue {queue}"),
    Reason.GREEN_CHANNEL: gettext_noop(
        "Green-channel customer called first, waited {waited_min} min"
    ),
    Reason.AGED_PAST_CAP: gettext_noop(
        "This customer has waited {waited_min} min, past the {cap_min} min cap, called first"
    ),
    Reason.APPOINTMENT: gettext_noop("Appointment customer has arrived, called first"),
    Reason.PREMIUM_PRIORITY: gettext_noop("Premium customer called first"),
    Reason.STRICT_ORDER: gettext_noop("Queue {queue} called in this counter's order"),
    Reason.WRR_TURN: gettext_noop("Queue {queue}'s turn by weight"),
    Reason.PREMIUM_BOOST: gettext_noop(
        "Premium customer's wait, boosted by {boost_min} min, is the longest, called first"
    ),
    Reason.LONGEST_WAIT: gettext_noop("Longest wait, waited {waited_min} min"),
    Reason.FAIRNESS_CAP: gettext_noop(
        "This customer has waited {waited_min} min, reaching the {cap_min} min fairness cap, "
        "called first"
    ),
}


def render_reason(reason_code: str, params: dict[str, Any]) -> str:
    """The reason in the active language; the bare code if it cannot be rendered."""
    template = REASON_TEMPLATES.get(reason_code)
    if template is None:
        return reason_code
    try:
        return gettext(template).format(**params)
    except (KeyError, IndexError, ValueError):
        return gettext(template)
