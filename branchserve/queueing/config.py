"""An outlet's queue configuration, resolved through the organisation tree.

Configuration rows may sit at any unit; an outlet uses those of the nearest unit on its path
that has any (its own, else its sub-branch's, …, else the province's). Each lookup is one
query over the outlet's ancestors' paths (taken from ``outlet.path``, no extra query).

The queue's hot path reads the business types, settings and opening hours of an outlet on
every operation, so each server process keeps them for ``CACHE_SECONDS``: a change made in
this process (saved or deleted through the ORM) clears the cache at once, a change made by
another process is seen within ``CACHE_SECONDS``. Nothing is cached inside a test case's
transaction (it is rolled back, and its primary keys reused, behind the cache's back).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.db import connection
from django.db.models.signals import post_delete, post_save

from branchserve.org.models import Counter, OpeningHours, OrgUnit
from branchserve.queueing.models import (
    BusinessType,
    CounterQueueConfig,
    QueueSettings,
    WaitTarget,
)
from branchserve.sim.strategies import CounterConfig

# Used when no unit on the outlet's path has queue settings.
DEFAULT_SETTINGS = QueueSettings()
CACHE_SECONDS = 30.0

T = TypeVar("T")
_cache: dict[tuple[str, int, str], tuple[float, Any]] = {}
_cache_lock = threading.Lock()


def clear_cache(**_kwargs: Any) -> None:
    """Forget every cached configuration (connected to the configuration models' signals)."""
    with _cache_lock:
        _cache.clear()


def _in_test_case() -> bool:
    return any(getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


def _cached(kind: str, outlet: OrgUnit, load: Callable[[], T]) -> T:
    if _in_test_case():
        return load()
    key = (kind, outlet.pk, outlet.path)
    now = time.monotonic()
    hit = _cache.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    value = load()
    with _cache_lock:
        _cache[key] = (now + CACHE_SECONDS, value)
    return value


def cached(kind: str, outlet: OrgUnit, load: Callable[[], T]) -> T:
    """``load()``'s answer for ``outlet``, kept for ``CACHE_SECONDS`` under ``kind`` (for other
    apps' per-outlet settings read on the queue's hot path; see ``clear_on_change``)."""
    return _cached(kind, outlet, load)


def clear_on_change(model: type[Any]) -> None:
    """Forget every cached configuration when a ``model`` row is saved or deleted."""
    name = f"{model._meta.app_label}.{model.__name__}"
    post_save.connect(clear_cache, sender=model, dispatch_uid=f"queue-config-{name}")
    post_delete.connect(clear_cache, sender=model, dispatch_uid=f"queue-config-del-{name}")


for _model in (BusinessType, QueueSettings, OpeningHours, OrgUnit):
    clear_on_change(_model)


def path_prefixes(unit: OrgUnit) -> list[str]:
    """``/PRV/SB1/O11/`` → ``["/PRV/", "/PRV/SB1/", "/PRV/SB1/O11/"]``."""
    codes = [code for code in unit.path.strip("/").split("/") if code]
    return ["/" + "/".join(codes[: i + 1]) + "/" for i in range(len(codes))]


def _deepest(rows: Iterable[tuple[str, object]]) -> str | None:
    paths = [path for path, _row in rows]
    return max(paths, key=len) if paths else None


def business_types_for(outlet: OrgUnit) -> dict[str, BusinessType]:
    """The outlet's active business types by queue code, in kiosk order (cached, see above;
    do not change what it returns)."""
    return _cached("business_types", outlet, lambda: _business_types(outlet))


def _business_types(outlet: OrgUnit) -> dict[str, BusinessType]:
    rows = list(
        BusinessType.objects.filter(unit__path__in=path_prefixes(outlet), is_active=True)
        .select_related("unit")
        .order_by("order", "code")
    )
    deepest = _deepest((row.unit.path, row) for row in rows)
    return {row.code: row for row in rows if row.unit.path == deepest}


def settings_for(outlet: OrgUnit) -> QueueSettings:
    """The outlet's queue settings (cached, see above; do not change what it returns)."""
    return _cached("settings", outlet, lambda: _settings(outlet))


def _settings(outlet: OrgUnit) -> QueueSettings:
    rows = list(
        QueueSettings.objects.filter(unit__path__in=path_prefixes(outlet)).select_related("unit")
    )
    if not rows:
        return DEFAULT_SETTINGS
    return max(rows, key=lambda row: len(row.unit.path))


def wait_target_for(outlet: OrgUnit, queue: str, tier: int) -> WaitTarget | None:
    """The most specific target for ``queue`` and ``tier`` at the nearest unit that has any."""
    rows = list(
        WaitTarget.objects.filter(unit__path__in=path_prefixes(outlet)).select_related("unit")
    )
    deepest = _deepest((row.unit.path, row) for row in rows)
    candidates = [
        row
        for row in rows
        if row.unit.path == deepest
        and row.business_type_code in ("", queue)
        and row.tier in (None, tier)
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda row: (bool(row.business_type_code), row.tier is not None))


def default_counter_config(
    counter_code: str, settings: QueueSettings, queues: Iterable[str]
) -> CounterConfig:
    """How a counter without its own configuration calls: every business type, in order."""
    return CounterConfig(
        counter=counter_code,
        queues=tuple(queues) or ("-",),
        strategy=settings.default_strategy,  # type: ignore[arg-type]
        ageing_cap_s=settings.default_ageing_cap_s,
    )


def counter_config_of(
    counter: Counter,
    own: CounterQueueConfig | None,
    load_defaults: tuple[QueueSettings, Iterable[str]] | None = None,
) -> CounterConfig:
    """The counter's ``CounterConfig``: its own row, else the outlet's default."""
    if own is not None:
        return CounterConfig.from_dict({**own.config, "counter": counter.code})
    if load_defaults is None:
        outlet = counter.outlet
        load_defaults = (settings_for(outlet), business_types_for(outlet).keys())
    settings, queues = load_defaults
    return default_counter_config(counter.code, settings, queues)


def own_config(counter: Counter) -> CounterQueueConfig | None:
    """The counter's ``CounterQueueConfig`` if ``select_related`` loaded one (or it exists)."""
    try:
        return counter.queue_config
    except CounterQueueConfig.DoesNotExist:
        return None


def opening_hours_of(outlet: OrgUnit) -> list[tuple[int, dt.time, dt.time]]:
    """``(weekday, opens_at, closes_at)`` rows of the outlet (cached, see above)."""
    return _cached(
        "hours",
        outlet,
        lambda: list(
            OpeningHours.objects.filter(outlet=outlet).values_list(
                "weekday", "opens_at", "closes_at"
            )
        ),
    )


def issuing_refusal(
    outlet: OrgUnit, settings: QueueSettings, now: dt.datetime
) -> tuple[str, str] | None:
    """Why no ticket may be issued at ``now`` (code, message), or None.

    An outlet without any opening hours has not been configured and issues at any time; one
    with hours is closed on weekdays without a row, before opening, and from
    ``last_ticket_minutes`` before closing.
    """
    from django.utils.translation import gettext as _

    rows = opening_hours_of(outlet)
    if not rows:
        return None
    local = now.astimezone(outlet.zone)
    today = [(opens, closes) for weekday, opens, closes in rows if weekday == local.weekday()]
    if not today:
        return "outlet_closed", _("The outlet is closed today.")
    opens, closes = today[0]
    if local.time() < opens:
        return "outlet_closed", _("The outlet has not opened yet.")
    last = dt.datetime.combine(local.date(), closes, tzinfo=local.tzinfo) - dt.timedelta(
        minutes=settings.last_ticket_minutes
    )
    if local >= last:
        return "issuing_stopped", _("No more tickets are issued today.")
    return None
