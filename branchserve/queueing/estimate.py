"""The estimated wait of a new ticket, from the live queue and today's service times.

With ``c`` open counters serving the ticket's business type, ``i`` of them idle (no ticket
called or in service), ``k`` tickets waiting in the queues those counters serve, and ``m`` the
mean service time of the business type (the last ``RECENT_SERVICES`` finished today, else the
type's typical time)::

    wait = 0                          if k < i   (an idle counter takes it at once)
    wait = (k - i + 1) · m / c        otherwise  (k - i + 1 departures, one every m / c)

Priorities are ignored (everyone ahead counts), so premium customers are told a little more
than they will wait, never less. With no counter open the estimate assumes one. The estimate
is stored on the ticket (``Ticket.estimated_wait_s``) so that its error against the actual wait
(``called_at - issued_at``) can be measured.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection

from branchserve.core import rawsql
from branchserve.org.models import OrgUnit
from branchserve.queueing.choices import TicketState
from branchserve.queueing.models import BusinessType, Ticket
from branchserve.sim.strategies import CounterConfig

RECENT_SERVICES = 20


@dataclass(frozen=True)
class OpenCounter:
    config: CounterConfig
    idle: bool


@dataclass(frozen=True)
class Estimate:
    waiting_ahead: int  # waiting in the ticket's own queue
    competing: int  # waiting in every queue the serving counters serve
    counters: int
    mean_service_s: float
    wait_s: int


# Both queries run on every issue (on PostgreSQL as part of one statement: actions.py): plain
# SQL (the ORM would spend more time composing them than the database spends answering).


def recent_durations(outlet: OrgUnit, business_type: BusinessType, day: dt.date) -> list[float]:
    """The service times (s) of the last ``RECENT_SERVICES`` tickets of the type finished
    today at the outlet."""
    quote = connection.ops.quote_name
    sql = (
        f"SELECT {quote('started_at')}, {quote('ended_at')} FROM {quote(Ticket._meta.db_table)} "
        f"WHERE {quote('outlet_id')} = %s AND {quote('business_type_id')} = %s "
        f"AND {quote('day')} = %s AND {quote('state')} = %s "
        f"ORDER BY {quote('ended_at')} DESC LIMIT {RECENT_SERVICES}"
    )
    params = [
        outlet.pk,
        business_type.pk,
        connection.ops.adapt_datefield_value(day),
        TicketState.FINISHED.value,
    ]
    with rawsql.cursor() as cursor:
        cursor.execute(sql, params)
        recent = cursor.fetchall()
    return [(end - start).total_seconds() for start, end in recent if start and end]


def waiting_per_queue(outlet: OrgUnit, day: dt.date) -> dict[str, int]:
    """How many tickets wait today in each queue of the outlet."""
    quote = connection.ops.quote_name
    sql = (
        f"SELECT {quote('queue')}, COUNT(*) FROM {quote(Ticket._meta.db_table)} "
        f"WHERE {quote('outlet_id')} = %s AND {quote('day')} = %s AND {quote('state')} = %s "
        f"GROUP BY {quote('queue')}"
    )
    params = [outlet.pk, connection.ops.adapt_datefield_value(day), TicketState.WAITING.value]
    with rawsql.cursor() as cursor:
        cursor.execute(sql, params)
        return {queue: int(count) for queue, count in cursor.fetchall()}


def estimate_from(
    business_type: BusinessType,
    open_counters: list[OpenCounter],
    waiting: dict[str, int],
    durations: list[float],
) -> Estimate:
    """The estimate, from the open counters, the tickets waiting per queue and the recent
    service times (s) of the business type (the module docstring's formula)."""
    code = business_type.code
    serving = [c for c in open_counters if code in c.config.queues]
    queues = {code}
    for counter in serving:
        queues.update(counter.config.queues)
    own = waiting.get(code, 0)
    competing = sum(waiting.get(queue, 0) for queue in queues)
    typical = float(business_type.typical_service_s)
    mean = sum(durations) / len(durations) if durations else typical
    servers = max(len(serving), 1)
    idle = sum(1 for c in serving if c.idle)
    wait = 0.0 if competing < idle else (competing - idle + 1) * mean / servers
    return Estimate(
        waiting_ahead=own,
        competing=competing,
        counters=len(serving),
        mean_service_s=mean,
        wait_s=round(wait),
    )


def estimate_wait(
    outlet: OrgUnit,
    business_type: BusinessType,
    day: dt.date,
    open_counters: list[OpenCounter],
) -> Estimate:
    return estimate_from(
        business_type,
        open_counters,
        waiting_per_queue(outlet, day),
        recent_durations(outlet, business_type, day),
    )
