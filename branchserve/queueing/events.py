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

import asyncio
import logging
import os
import threading
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


class _Sender:
    """Sends to a channel layer that lives on the network (Redis) from one long-lived event
    loop in a background thread, so that a request neither starts an event loop nor opens a
    connection per event (``async_to_sync`` would do both, several milliseconds each time).

    Events are numbered in the request's thread, in commit order, and sent in that order.
    """

    def __init__(self, shared: Any) -> None:
        from channels.layers import DEFAULT_CHANNEL_LAYER, channel_layers

        # A layer object of its own: channels_redis keeps per-event-loop state (locks,
        # connections, the receive buffer), and the server's consumers use the shared one on
        # the server's loop; sharing it across two loops stalls their reads.
        self.shared = shared
        self.layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
        self.lock = threading.Lock()
        self.loop = asyncio.new_event_loop()
        thread = threading.Thread(target=self.loop.run_forever, name="queue-events", daemon=True)
        thread.start()

    def deliver(self, outlet_code: str, event: dict[str, Any]) -> dict[str, Any]:
        from branchserve.realtime.layer import EVENT_MESSAGE, group_name, sequence

        with self.lock:  # numbering and queueing in one step: sent in the numbers' order
            numbered = dict(event, seq=sequence().next(outlet_code))
            message = {"type": EVENT_MESSAGE, "event": numbered}
            asyncio.run_coroutine_threadsafe(
                self._send(group_name(outlet_code), message), self.loop
            )
        return numbered

    async def _send(self, group: str, message: dict[str, Any]) -> None:
        try:
            await self.layer.group_send(group, message)
        except Exception:  # a display's trouble must not undo a call
            logger.exception("queue event delivery failed: %s", message["event"].get("type"))


_senders: dict[int, _Sender] = {}
_senders_lock = threading.Lock()


def _forget_senders() -> None:
    """A forked child (a server's worker, the test live server) has no sender thread, and
    may have copied the lock while held: start afresh."""
    global _senders_lock
    _senders.clear()
    _senders_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_senders)


def _deliver(outlet_code: str, event: dict[str, Any]) -> dict[str, Any]:
    from channels.layers import get_channel_layer

    from branchserve.realtime.layer import deliver

    layer = get_channel_layer()
    if layer is None or not type(layer).__module__.startswith("channels_redis"):
        return deliver(outlet_code, event)  # in-process layer: delivered at once
    with _senders_lock:
        sender = _senders.get(id(layer))
        if sender is None or sender.shared is not layer:
            sender = _senders[id(layer)] = _Sender(layer)
    return sender.deliver(outlet_code, event)


def publish(outlet_code: str, event: dict[str, Any]) -> None:
    """Number ``event``, send it to the outlet's WebSockets and subscribers (after commit)."""
    try:
        event = _deliver(outlet_code, event)
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
