"""Where the queue announces what changed: published after commit, to the real-time layer.

Every action that changes a queue calls ``publish_on_commit(outlet, event)`` inside its
transaction. The event is completed there (``live.complete_event``: the ticket as clients see
it, the time, the reason of a call, read in the action's own transaction) and goes out only if
and when the transaction commits (``transaction.on_commit``): a rolled-back action announces
nothing and a display never shows a call that did not happen.

Going out means: numbered with the outlet's next sequence number and sent to the outlet's
channel-layer group (``branchserve.realtime.layer.deliver``), which the WebSocket consumers of
``branchserve/realtime/`` forward to displays, terminals and tablets; then handed to every
handler added with ``subscribe(handler)`` (``(outlet_code, event)``; used by tests). A
delivery or handler that fails is logged and affects neither the others nor the action.

Events are small JSON-ready dicts with a ``type`` (``ticket.issued``, ``ticket.called``,
``ticket.recalled``, ``ticket.started``, ``ticket.no_show``, ``ticket.transferred``,
``ticket.diverted``, ``ticket.finished``, ``ticket.cancelled``, ``queue.day_closed``,
``counter.opened``, ``counter.paused``, ``counter.resumed``, ``counter.closed``), the
``outlet`` code, ``seq`` and the details; their schemas are in ``branchserve.realtime.events``.
No customer number appears in an event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db import transaction

from branchserve.org.models import OrgUnit

if TYPE_CHECKING:
    from branchserve.queueing.models import TicketEvent

logger = logging.getLogger(__name__)

Handler = Callable[[str, dict[str, Any]], None]
_handlers: list[Handler] = []


def subscribe(handler: Handler) -> None:
    if handler not in _handlers:
        _handlers.append(handler)


def unsubscribe(handler: Handler) -> None:
    if handler in _handlers:
        _handlers.remove(handler)


def publish(outlet_code: str, event: dict[str, Any]) -> None:
    """Number ``event``, send it to the outlet's WebSockets and subscribers (after commit)."""
    from branchserve.realtime.layer import deliver

    try:
        event = deliver(outlet_code, event)
    except Exception:  # a display's trouble must not undo a call
        logger.exception("queue event delivery failed: %s", event.get("type"))
    for handler in list(_handlers):
        try:
            handler(outlet_code, event)
        except Exception:
            logger.exception("queue event handler failed: %s", event.get("type"))


def publish_on_commit(
    outlet: OrgUnit, event: dict[str, Any], row: TicketEvent | None = None
) -> None:
    """Publish ``event`` for ``outlet`` once the current transaction commits.

    A ticket event's action passes the ``TicketEvent`` ``row`` it wrote (with its ticket and
    counter), which saves reading it back.
    """
    from branchserve.queueing.live import complete_event

    completed = complete_event(outlet, event, row)
    code = outlet.code
    transaction.on_commit(lambda: publish(code, completed))
