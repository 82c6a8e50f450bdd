"""An outlet's queue configuration, resolved through the organisation tree.

Configuration rows may sit at any unit; an outlet uses those of the nearest unit on its path
that has any (its own, else its sub-branch's, …, else the province's). Each lookup is one
query over the outlet's ancestors' paths (taken from ``outlet.path``, no extra query).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

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


def path_prefixes(unit: OrgUnit) -> list[str]:
    """``/PRV/SB1/O11/`` → ``["/PRV/", "/PRV/SB1/", "/PRV/SB1/O11/"]``."""
    codes = [code for code in unit.path.strip("/").split("/") if code]
    return ["/" + "/".join(codes[: i + 1]) + "/" for i in range(len(codes))]


def _deepest(rows: Iterable[tuple[str, object]]) -> str | None:
    paths = [path for path, _row in rows]
    return max(paths, key=len) if paths else None


def business_types_for(outlet: OrgUnit) -> dict[str, BusinessType]:
    """The outlet's active business types by queue code, in kiosk order."""
    rows = list(
        BusinessType.objects.filter(unit__path__in=path_prefixes(outlet), is_active=True)
        .select_related("unit")
        .order_by("order", "code")
    )
    deepest = _deepest((row.unit.path, row) for row in rows)
    return {row.code: row for row in rows if row.unit.path == deepest}


def settings_for(outlet: OrgUnit) -> QueueSettings:
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


def issuing_refusal(
    outlet: OrgUnit, settings: QueueSettings, now: dt.datetime
) -> tuple[str, str] | None:
    """Why no ticket may be issued at ``now`` (code, message), or None.

    An outlet without any opening hours has not been configured and issues at any time; one
    with hours is closed on weekdays without a row, before opening, and from
    ``last_ticket_minutes`` before closing.
    """
    from django.utils.translation import gettext as _

    rows = list(
        OpeningHours.objects.filter(outlet=outlet).values_list("weekday", "opens_at", "closes_at")
    )
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
