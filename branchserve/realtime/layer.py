"""Delivering queue events to the WebSocket consumers of an outlet.

Each outlet has one channel-layer group (``outlet.<code>``) and one sequence: every event
delivered gets the next number of its outlet, so a client notices a missing event (a gap) and
fetches a fresh snapshot. The sequence lives where the channel layer does: in this process for
the in-process layer (demo, tests), in Redis (``INCR``) with the Redis layer (production), so
that every server process numbers one outlet's events from one counter.

With Redis the layer is channels_redis' pub/sub layer: a group message is one ``PUBLISH``, and
a display that misses one notices the gap in the numbers and resynchronises. Events are
published from the request's own thread, right after the commit, in one Redis round trip and
no event loop: a small Lua script takes the outlet's next number (``INCR``) and ``PUBLISH``es
the message, serialised by the layer itself, to the channel its consumers subscribe to. The
number is the last thing in the message, so the script appends it (MessagePack, as the layer
writes it); numbering and publishing in one step also means every process's events of an
outlet reach Redis in the order of their numbers. Any other layer gets ``group_send``.
"""

from __future__ import annotations

import hashlib
import re
import threading
from functools import cache
from typing import Any, Protocol

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

from branchserve.core.cache import DirectConnection

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


# A Redis that does not answer delays an action by at most this much; the event is then lost
# (logged), and displays resynchronise on the next one.
REDIS_TIMEOUT_S = 0.5


_NUMBER_AND_PUBLISH = """
local number = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', KEYS[2], ARGV[1] .. cmsgpack.pack(number))
return number
"""


class RedisSequence:
    """Per-outlet counters in Redis, shared by every server process.

    The numbering script runs on a ``DirectConnection`` of its own (``core/cache.py``),
    without redis-py's client layers: it runs after every queue action, and those layers cost
    about as much as the round trip itself.
    """

    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(
            url, socket_connect_timeout=REDIS_TIMEOUT_S, socket_timeout=REDIS_TIMEOUT_S
        )
        self._sha = hashlib.sha1(_NUMBER_AND_PUBLISH.encode()).hexdigest()
        self._direct = DirectConnection(self._redis.connection_pool)

    def _key(self, outlet_code: str) -> str:
        return f"branchserve:queue-seq:{outlet_code}"

    def next(self, outlet_code: str) -> int:
        return int(self._redis.incr(self._key(outlet_code)))

    def current(self, outlet_code: str) -> int:
        value = self._redis.get(self._key(outlet_code))
        return int(value) if value is not None else 0

    def publish_numbered(self, outlet_code: str, channel: str, head: bytes) -> int:
        """Number the next event of the outlet and publish ``head`` + the number (packed as
        MessagePack) on ``channel``, in one step; returns the number."""
        from redis.exceptions import NoScriptError

        args = (2, self._key(outlet_code), channel, head)
        try:
            return int(self._direct.command("EVALSHA", self._sha, *args))
        except NoScriptError:  # a restarted Redis: load the script again
            return int(self._direct.command("EVAL", _NUMBER_AND_PUBLISH, *args))


@cache
def sequence() -> Sequence:
    backend = str(settings.CHANNEL_LAYERS.get("default", {}).get("BACKEND", ""))
    redis_url = getattr(settings, "REDIS_URL", "")
    if backend.startswith("channels_redis") and redis_url:
        return RedisSequence(redis_url)
    return InProcessSequence()


def _pubsub_channel(layer: Any, group: str) -> str | None:
    """The Redis channel that channels_redis' pub/sub layer ``layer`` uses for ``group``, or
    None for any other layer (``RedisPubSubLoopLayer._get_group_channel_name``; one host)."""
    if type(layer).__name__ != "RedisPubSubChannelLayer":
        return None
    config: Any = settings.CHANNEL_LAYERS.get("default", {}).get("CONFIG", {})
    return f"{config.get('prefix', 'asgi')}__group__{group}"


# Numbering and sending one event is one step per process, so this process's events reach
# the group in the order of their numbers.
_deliver_lock = threading.Lock()


def deliver(outlet_code: str, event: dict[str, Any]) -> dict[str, Any]:
    """Number ``event`` and send it to the outlet's group; returns the numbered event.

    Called after the action's transaction has committed, from synchronous code.
    """
    layer = get_channel_layer()
    group = group_name(outlet_code)
    channel = _pubsub_channel(layer, group)
    numbers = sequence()
    if channel is not None and isinstance(numbers, RedisSequence):
        # ``seq`` last in the event, the event last in the message: the serialised message
        # with ``seq`` 0 ends with that 0 (one byte), and the number goes in its place.
        head = layer.serialize({"type": EVENT_MESSAGE, "event": {**event, "seq": 0}})
        if head.endswith(b"\x00"):
            return dict(event, seq=numbers.publish_numbered(outlet_code, channel, head[:-1]))
    with _deliver_lock:
        numbered = dict(event, seq=numbers.next(outlet_code))
        if layer is not None:
            async_to_sync(layer.group_send)(group, {"type": EVENT_MESSAGE, "event": numbered})
    return numbered
