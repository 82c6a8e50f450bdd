"""Django's Redis cache backend, with reads on a connection of their own; and that connection.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` for every cache call; with
redis-py 5+ that builds the client's table of response callbacks each time, which cost more than
the round trip itself (about 0.3 ms a call, measured on the queue API, where every request of a
counter terminal reads its session and user). So each process builds its clients once.

Reads (``get``, ``get_many``) go further: they run on a ``DirectConnection``, without redis-py's
pool, retry and callback layers, which cost about as much again as the round trip (an ``MGET``
of a session and a user: 79 µs of CPU through ``redis.Redis``, 37 µs on the connection alone,
measured on the 2-core bench machine). Writes keep the client. Keys are not checked for
memcached's limits.
"""

from __future__ import annotations

import os
import pickle
import threading
from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class DirectConnection:
    """One Redis connection of a connection pool, one command at a time (under a lock).

    A connection the server has closed (Redis restarted) is replaced and the command sent
    once more: the server closed it before it could run the command. Any other failure closes
    the connection and is raised; the next command opens a new one. A process forked from
    this one opens its own.
    """

    def __init__(self, pool: Any) -> None:
        self._pool = pool
        self._connection: Any = None
        self._pid = 0
        self._lock = threading.Lock()

    def command(self, *args: Any) -> Any:
        from redis.exceptions import ConnectionError as Closed

        with self._lock:
            if self._connection is None or self._pid != os.getpid():
                self._connection = self._pool.make_connection()
                self._pid = os.getpid()
            for attempt in (1, 2):
                try:
                    self._connection.send_command(*args)
                    reply = self._connection.read_response()
                except Closed:
                    self._connection.disconnect()
                    if attempt == 2:
                        raise
                except BaseException:
                    self._connection.disconnect()
                    raise
                else:
                    break
        if isinstance(reply, Exception):  # redis-py hands back error replies
            raise reply
        return reply


class _ReusingClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}
        self._direct: dict[int, DirectConnection] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)  # type: ignore[attr-defined]
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = super().get_client(key, write=write)
        return client

    def _read(self, *args: Any) -> Any:
        index = self._get_connection_pool_index(False)  # type: ignore[attr-defined]
        direct = self._direct.get(index)
        if direct is None:
            pool = self.get_client(write=False).connection_pool
            direct = self._direct[index] = DirectConnection(pool)
        return direct.command(*args)

    def _loads(self, data: bytes) -> Any:
        """The serializer's ``loads``, without its ``int()`` attempt (an exception) first on
        what is plainly a pickle: with protocol 2 or later every pickle starts with 0x80."""
        serializer: Any = self._serializer  # type: ignore[attr-defined]
        if data[:1] == b"\x80" and serializer.protocol >= 2:
            return pickle.loads(data)
        return serializer.loads(data)

    def get(self, key: Any, default: Any) -> Any:
        value = self._read("GET", key)
        return default if value is None else self._loads(value)

    def get_many(self, keys: Any) -> dict[Any, Any]:
        keys = list(keys)
        if not keys:
            return {}
        values = self._read("MGET", *keys)
        return {k: self._loads(v) for k, v in zip(keys, values, strict=True) if v is not None}


class RedisCache(DjangoRedisCache):
    """``django.core.cache.backends.redis.RedisCache``, its clients built once, its reads on a
    ``DirectConnection``."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _ReusingClient

    def validate_key(self, key: Any) -> None:
        """Nothing to check: Django's check warns of keys memcached would refuse (a Python
        loop over every character of every key, on every read); Redis takes any key."""
