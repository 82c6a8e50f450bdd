"""Delivering queue events to the WebSocket consumers of an outlet.

Each outlet has one channel-layer group (``outlet.<code>``) and one sequence: every event
delivered gets the next number of its outlet, so a client notices a missing event (a gap) and
fetches a fresh snapshot. The sequence lives where the channel layer does: in this process for
the in-process layer (demo, tests), in Redis (``INCR``) with the Redis layer (production), so
that every server process numbers one outlet's events from one counter.
"""

from __future__ import annotations

import re
import threading
from functools import cache
from typing import Any, Protocol

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

GROUP_PREFIX = "outlet."
EVENT_MESSAGE = "queue.event"  # the channel-layer message type; the consumer's ``queue_event``
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def group_name(outlet_code: str) -> str:
    """``outlet.O11``; characters a group name may not hold are spelled out (``_2f`` for /)."""
    return GROUP_PREFIX + _UNSAFE.sub(lambda m: f"_{ord(m.group()):x}", outlet_code)


class Sequence(Protocol):
    def next(self, outlet_code: str) -> int: ...

    def current(self, outlet_code: str) -> int: ...


class InProcessSequence:
    """Per-outlet counters in this process (the in-process channel layer's companion)."""

    def __init__(self) -> None:
        self._values: dict[str, int] = {}
        self._lock = threading.Lock()

    def next(self, outlet_code: str) -> int:
        with self._lock:
            value = self._values.get(outlet_code, 0) + 1
            self._values[outlet_code] = value
            return value

    def current(self, outlet_code: str) -> int:
        with self._lock:
            return self._values.get(outlet_code, 0)


class RedisSequence:
    """Per-outlet counters in Redis, shared by every server process."""

    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url)

    def _key(self, outlet_code: str) -> str:
        return f"branchserve:queue-seq:{outlet_code}"

    def next(self, outlet_code: str) -> int:
        return int(self._redis.incr(self._key(outlet_code)))

    def current(self, outlet_code: str) -> int:
        value = self._redis.get(self._key(outlet_code))
        return int(value) if value is not None else 0


@cache
def sequence() -> Sequence:
    backend = str(settings.CHANNEL_LAYERS.get("default", {}).get("BACKEND", ""))
    redis_url = getattr(settings, "REDIS_URL", "")
    if backend.startswith("channels_redis") and redis_url:
        return RedisSequence(redis_url)
    return InProcessSequence()


# Numbering and sending one event is one step per process, so this process's events reach
# the group in the order of their numbers.
_deliver_lock = threading.Lock()


def deliver(outlet_code: str, event: dict[str, Any]) -> dict[str, Any]:
    """Number ``event`` and send it to the outlet's group; returns the numbered event.

    Called after the action's transaction has committed, from synchronous code.
    """
    layer = get_channel_layer()
    with _deliver_lock:
        numbered = dict(event, seq=sequence().next(outlet_code))
        if layer is not None:
            async_to_sync(layer.group_send)(
                group_name(outlet_code), {"type": EVENT_MESSAGE, "event": numbered}
            )
    return numbered
