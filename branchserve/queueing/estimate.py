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

from django.db.models import Count, Q

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


def mean_service_s(outlet: OrgUnit, business_type: BusinessType, day: dt.date) -> float:
    recent = list(
        Ticket.objects.filter(
            outlet=outlet, business_type=business_type, day=day, state=TicketState.FINISHED
        )
        .order_by("-ended_at")
        .values_list("started_at", "ended_at")[:RECENT_SERVICES]
    )
    durations = [(end - start).total_seconds() for start, end in recent if start and end]
    if not durations:
        return float(business_type.typical_service_s)
    return sum(durations) / len(durations)


def estimate_wait(
    outlet: OrgUnit,
    business_type: BusinessType,
    day: dt.date,
    open_counters: list[OpenCounter],
) -> Estimate:
    code = business_type.code
    serving = [c for c in open_counters if code in c.config.queues]
    queues = {code}
    for counter in serving:
        queues.update(counter.config.queues)
    counts = Ticket.objects.filter(
        outlet=outlet, day=day, state=TicketState.WAITING, queue__in=sorted(queues)
    ).aggregate(own=Count("pk", filter=Q(queue=code)), competing=Count("pk"))
    competing = int(counts["competing"] or 0)
    mean = mean_service_s(outlet, business_type, day)
    servers = max(len(serving), 1)
    idle = sum(1 for c in serving if c.idle)
    wait = 0.0 if competing < idle else (competing - idle + 1) * mean / servers
    return Estimate(
        waiting_ahead=int(counts["own"] or 0),
        competing=competing,
        counters=len(serving),
        mean_service_s=mean,
        wait_s=round(wait),
    )
