"""Typed readers for settings taken from the environment."""

from __future__ import annotations

import os
from urllib.parse import unquote, urlparse


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def database_from_url(url: str) -> dict[str, object]:
    """Turn ``postgres://user:pass@host:port/name`` or ``sqlite:///path`` into a DATABASES entry."""
    parsed = urlparse(url)
    if parsed.scheme in {"postgres", "postgresql", "pgsql"}:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")),
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "CONN_MAX_AGE": 60,
            # A ``SELECT 1`` before each request's first query, so that a connection broken
            # since the last request is replaced instead of failing. The API's WSGI workers
            # turn it off (DATABASE_HEALTH_CHECKS=0, docs/production.md): a broken connection
            # then fails one request with a 503 to retry, and is replaced after it.
            "CONN_HEALTH_CHECKS": env_bool("DATABASE_HEALTH_CHECKS", True),
            # Prepared statements keep the plan made without their parameters' values. Only
            # the hot path's statements are prepared (``core/rawsql.py``; Django's own cursors
            # send their values in the text). With a day's history, PostgreSQL would otherwise
            # plan the and the call's statements again at every execution, which takes
            # longer than running them.
            "OPTIONS": {"options": "-c plan_cache_mode=force_generic_plan"},
        }
    if parsed.scheme == "sqlite":
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": unquote(parsed.path)}
    raise ValueError(f"unsupported DATABASE_URL scheme: {parsed.scheme!r}")
