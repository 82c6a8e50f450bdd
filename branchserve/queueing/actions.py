"""Everything that changes a queue: issue, call, recall, start, no-show, finish, transfer,
divert, cancel, counters opening, pausing and closing, and closing the day.

Concurrency. Every operation that takes from an outlet's waiting tickets or changes them
(call, transfer, divert, cancel, counter changes, closing the day) first locks the outlet's
``OutletQueue`` row (``SELECT … FOR UPDATE``; on SQLite the ``IMMEDIATE`` transaction already
serialises writers). So two calls at one outlet run one after the other: the second sees the
first's call committed and chooses among the tickets still waiting — no ticket is called
twice, and each call gets the strategy's choice among the tickets not being called at that
moment. The chosen ticket is also updated ``WHERE state = 'waiting'`` as a second guard.
Issuing only adds a ticket: on PostgreSQL it takes no lock once the outlet's day has begun
(the series row's upsert numbers tickets, the idempotency key's unique constraint settles
retries; ``_issue_in_two_statements``); the day's first issue, and any issue on SQLite, locks.
Operations on one ticket already at a counter (recall, start, no-show, finish) change only
that ticket's row, in one conditional ``UPDATE``; they never touch the waiting tickets.

The hot path is plain SQL (``core.rawsql``), and on PostgreSQL each write is one statement
(``WITH`` … ``RETURNING``): an issue is two round trips to the database, a call five
(``BEGIN``, the lock, one read, one write, ``COMMIT``), a start or a finish one.

Each operation writes its ``TicketEvent`` (or ``CounterEvent``) in the same transaction, and
calls ``events.publish_on_commit``. An invalid request raises ``ActionError`` (a 4xx with a
code and a translated message) before anything is written.

Times given to the call strategy are seconds since the outlet's local midnight of the
business day (the strategies only compare and subtract them).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from branchserve.core import rawsql
from branchserve.core.errors import ActionError, Conflict
from branchserve.core.rawsql import (
    columns,
    fetch_joined,
    fetch_models,
    insert_row,
    insert_statement,
    update_row,
)
from branchserve.devices.models import Device
from branchserve.org.choices import UnitKind
from branchserve.org.models import Counter, OrgUnit, Staff
from branchserve.queueing.choices import (
    OPEN_STATES,
    CounterEventKind,
    CounterStatus,
    DivertOutcome,
    DivertTarget,
    IssueChannel,
    PauseReason,
    Placement,
    TicketEventKind,
    TicketState,
)
from branchserve.queueing.config import (
    business_types_for,
    counter_config_of,
    default_counter_config,
    issuing_refusal,
    settings_for,
)
from branchserve.queueing.customers import lookup_customer
from branchserve.queueing.estimate import (
    RECENT_SERVICES,
    Estimate,
    OpenCounter,
    estimate_from,
    estimate_wait,
)
from branchserve.queueing.events import publish_on_commit
from branchserve.queueing.models import (
    BusinessType,
    CounterEvent,
    CounterQueueConfig,
    CounterSession,
    CounterState,
    OutletQueue,
    QueueSettings,
    Ticket,
    TicketEvent,
    TicketSeries,
)
from branchserve.queueing.reasons import render_reason
from branchserve.sim.strategies import (
    CounterConfig,
    StrategyState,
    Tier,
    WaitingTicket,
    build_waiting,
    choose,
)

PUBLIC_ID_BYTES = 15  # 20 URL-safe characters
MAX_IDEMPOTENCY_KEY = 64
CALL_CONTEXT_STATES = (TicketState.CALLED, TicketState.SERVING)


# -- time ------------------------------------------------------------------------------------


def local_day(outlet: OrgUnit, now: dt.datetime) -> dt.date:
    return now.astimezone(outlet.zone).date()


def day_origin(outlet: OrgUnit, day: dt.date) -> dt.datetime:
    """The outlet's local midnight starting ``day``: time zero for the call strategy."""
    return dt.datetime.combine(day, dt.time(), tzinfo=outlet.zone)


def new_public_id() -> str:
    return secrets.token_urlsafe(PUBLIC_ID_BYTES)


def format_number(prefix: str, seq: int) -> str:
    return f"{prefix}{seq:03d}"


# -- events ----------------------------------------------------------------------------------


def ticket_brief(ticket: Ticket) -> dict[str, Any]:
    """What an event says about a ticket (never the customer's number)."""
    return {
        "id": ticket.public_id,
        "number": ticket.number,
        "queue": ticket.queue,
        "state": ticket.state,
        "tier": Tier(ticket.tier).key,
    }


def _publish_ticket(
    outlet: OrgUnit,
    kind: str,
    row: TicketEvent,
    counter: Counter | None = None,
    **extra: Any,
) -> None:
    """Publish the ticket event ``row`` just written (its ticket as the action left it)."""
    event: dict[str, Any] = {"type": f"ticket.{kind}", "ticket": ticket_brief(row.ticket)}
    if counter is not None:
        event["counter"] = {"code": counter.code, "number": counter.number}
    event.update(extra)
    publish_on_commit(outlet, event, row)


def _ticket_event(
    ticket: Ticket,
    kind: str,
    now: dt.datetime,
    *,
    staff: Staff | None = None,
    device: Device | None = None,
    counter: Counter | None = None,
    **data: Any,
) -> TicketEvent:
    row = TicketEvent(
        ticket=ticket,
        outlet_id=ticket.outlet_id,
        kind=kind,
        at=now,
        staff=staff,
        device=device,
        counter=counter,
        data=data,
    )
    insert_row(row)
    return row


# -- the outlet lock and the end of the day --------------------------------------------------


@cache
def _lock_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    sql = (
        f"SELECT {quote('day')} FROM {quote(OutletQueue._meta.db_table)} "
        f"WHERE {quote('outlet_id')} = %s"
    )
    if connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    return sql


def _lock_queue_row(outlet_id: int) -> OutletQueue | None:
    """``SELECT … FOR UPDATE`` the outlet's queue row (SQLite: the transaction is the lock)."""
    with rawsql.cursor() as cursor:
        cursor.execute(_lock_sql(connection.vendor), [outlet_id])
        found = cursor.fetchone()
    if found is None:
        return None
    day = found[0]
    if isinstance(day, str):  # pragma: no cover - depends on the driver
        day = dt.date.fromisoformat(day)
    row = OutletQueue(outlet_id=outlet_id, day=day)
    row._state.adding = False
    row._state.db = connection.alias
    return row


def lock_outlet(outlet: OrgUnit, day: dt.date, now: dt.datetime) -> OutletQueue:
    """Lock the outlet's queue row (inside a transaction); roll over to ``day`` if needed.

    The first operation of a new business day closes what earlier days left open
    (tickets and counters, each with its event) before it goes on.
    """
    row = _lock_queue_row(outlet.pk)
    if row is None:
        OutletQueue.objects.get_or_create(outlet_id=outlet.pk, defaults={"day": day})
        row = _lock_queue_row(outlet.pk)
        assert row is not None
    if row.day < day:
        closed = _close_before(outlet, day, now, staff=None, device=None)
        publish_on_commit(
            outlet, {"type": "queue.day_closed", "day": row.day.isoformat(), "closed": closed}
        )
        row.day = day
        OutletQueue.objects.filter(pk=row.pk).update(day=day)
    return row


def _close_before(
    outlet: OrgUnit,
    before: dt.date,
    now: dt.datetime,
    *,
    staff: Staff | None,
    device: Device | None,
) -> int:
    """Close the open tickets of days before ``before`` and every open counter, with events."""
    rows = list(
        Ticket.objects.filter(outlet=outlet, state__in=OPEN_STATES, day__lt=before).values_list(
            "pk", "state", "counter_id"
        )
    )
    if rows:
        Ticket.objects.filter(pk__in=[pk for pk, _s, _c in rows]).update(
            state=TicketState.CLOSED, ended_at=now
        )
        TicketEvent.objects.bulk_create(
            TicketEvent(
                ticket_id=pk,
                outlet=outlet,
                kind=TicketEventKind.CLOSED,
                at=now,
                staff=staff,
                device=device,
                counter_id=counter_id,
                data={"from_state": state},
            )
            for pk, state, counter_id in rows
        )
    states = list(CounterState.objects.filter(outlet=outlet).exclude(status=CounterStatus.CLOSED))
    for state in states:
        _close_counter_state(state, now, staff=staff, device=device, note="end of day")
    return len(rows)


def do_close_day(
    outlet: OrgUnit,
    day: dt.date,
    *,
    staff: Staff | None = None,
    device: Device | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Close the outlet's day: every ticket of ``day`` or earlier still waiting, called or in
    service becomes ``closed`` with a ``closed`` event (its former state in ``data``), and open
    counters are closed. Returns how many tickets were closed. Nothing is ever dropped.
    """
    now = now or timezone.now()
    with transaction.atomic():
        lock_outlet(outlet, min(day, local_day(outlet, now)), now)
        closed = _close_before(outlet, day + dt.timedelta(days=1), now, staff=staff, device=device)
        publish_on_commit(
            outlet, {"type": "queue.day_closed", "day": day.isoformat(), "closed": closed}
        )
    return closed


# -- issue -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Issued:
    ticket: Ticket
    created: bool


def _ticket_by_key(outlet: OrgUnit, key: str) -> Ticket | None:
    """The ticket issued under ``key`` at the outlet, if any: first a plain SQL existence
    check (the usual answer, on every issue, is none), then the ORM."""
    quote = connection.ops.quote_name
    with rawsql.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {quote(Ticket._meta.db_table)} "
            f"WHERE {quote('outlet_id')} = %s AND {quote('idempotency_key')} = %s "
            f"AND {quote('idempotency_key')} <> ''",  # the partial unique index's condition
            [outlet.pk, key],
        )
        if cursor.fetchone() is None:
            return None
    return (
        Ticket.objects.filter(outlet=outlet, idempotency_key=key)
        .select_related("business_type", "counter")
        .first()
    )


def check_issue(
    outlet: OrgUnit, business_type_code: str, *, green_channel: bool, now: dt.datetime
) -> tuple[BusinessType, QueueSettings, dict[str, BusinessType]]:
    types = business_types_for(outlet)
    business_type = types.get(business_type_code)
    if business_type is None:
        raise ActionError(
            "unknown_business_type", _("This outlet has no such business type."), status=422
        )
    settings = settings_for(outlet)
    if green_channel and not settings.green_channel:
        raise ActionError("green_channel_off", _("This outlet has no green channel."), status=422)
    refusal = issuing_refusal(outlet, settings, now)
    if refusal is not None:
        raise Conflict(*refusal)
    return business_type, settings, types


def do_issue_ticket(
    outlet: OrgUnit,
    business_type_code: str,
    *,
    channel: str = IssueChannel.KIOSK,
    tier: Tier = Tier.ORDINARY,
    customer: str | None = None,
    green_channel: bool = False,
    appointment: bool = False,
    idempotency_key: str = "",
    device: Device | None = None,
    staff: Staff | None = None,
    now: dt.datetime | None = None,
) -> Issued:
    """Issue a ticket (``created``), or return the one already issued under the same
    ``idempotency_key`` at this outlet (``created`` false), whatever the rest of the request.

    A customer number (card or phone) is looked up (``customers.lookup_customer``); a known
    customer's tier replaces ``tier``. Only the masked number is kept.
    """
    now = now or timezone.now()
    key = (idempotency_key or "").strip()
    if len(key) > MAX_IDEMPOTENCY_KEY:
        raise ActionError(
            "idempotency_key_too_long", _("The Idempotency-Key is too long."), status=422
        )
    masked = ""
    if customer:
        info = lookup_customer(customer)
        masked = info.masked
        if info.known:
            tier = info.tier
    ticket = Ticket(
        public_id=new_public_id(),
        outlet=outlet,
        tier=int(tier),
        green_channel=green_channel,
        appointment=appointment,
        channel=channel,
        state=TicketState.WAITING,
        issued_at=now,
        effective_at=now,
        customer_masked=masked,
        idempotency_key=key,
    )
    if connection.vendor == "postgresql":
        issued = _issue_in_two_statements(outlet, business_type_code, ticket, staff, device)
        if issued is not None:
            return issued
    try:
        with transaction.atomic():
            day = local_day(outlet, now)
            lock_outlet(outlet, day, now)
            if key:
                # Under the lock: a request with this key has committed, or none will first.
                existing = _ticket_by_key(outlet, key)
                if existing is not None:
                    return Issued(existing, False)
            business_type, settings, types = check_issue(
                outlet, business_type_code, green_channel=green_channel, now=now
            )
            seq = _next_number(outlet, business_type, day)
            estimate = estimate_wait(
                outlet, business_type, day, open_counters(outlet, settings, types)
            )
            _complete_ticket(ticket, business_type, day, seq, estimate)
            insert_row(ticket)
            row = _ticket_event(
                ticket,
                TicketEventKind.ISSUED,
                now,
                staff=staff,
                device=device,
                **_issued_data(ticket, estimate),
            )
            _publish_issued(outlet, row, estimate)
            return Issued(ticket, True)
    except IntegrityError:
        # Two requests with one key at the same moment: the constraint let one through.
        existing = _ticket_by_key(outlet, key) if key else None
        if existing is None:
            raise
        return Issued(existing, False)


def _complete_ticket(
    ticket: Ticket, business_type: BusinessType, day: dt.date, seq: int, estimate: Estimate
) -> None:
    ticket.business_type = business_type
    ticket.queue = business_type.code
    ticket.day = day
    ticket.seq = seq
    ticket.number = format_number(business_type.prefix, seq)
    ticket.estimated_wait_s = estimate.wait_s
    ticket.waiting_ahead = estimate.waiting_ahead


def _issued_data(ticket: Ticket, estimate: Estimate) -> dict[str, Any]:
    return {
        "channel": ticket.channel,
        "estimated_wait_s": estimate.wait_s,
        "waiting_ahead": estimate.waiting_ahead,
        "open_counters": estimate.counters,
        "mean_service_s": round(estimate.mean_service_s),
    }


def _publish_issued(outlet: OrgUnit, row: TicketEvent, estimate: Estimate) -> None:
    _publish_ticket(
        outlet,
        "issued",
        row,
        waiting_ahead=estimate.waiting_ahead,
        estimated_wait_s=estimate.wait_s,
    )


@cache
def _issue_reads_sql(vendor: str) -> str:
    """``_issue_reads``' statement (on ``vendor``)."""
    q = connection.ops.quote_name
    ticket, state = q(Ticket._meta.db_table), q(CounterState._meta.db_table)
    counter, config = q(Counter._meta.db_table), q(CounterQueueConfig._meta.db_table)
    sql = (
        f"SELECT 'd', o.{q('day')}::text, NULL::text, NULL::text, "
        f"(SELECT COUNT(*) FROM {ticket} WHERE {q('outlet_id')} = %s "
        # The key's own condition, as the partial unique index states it: so that a generic
        # plan (a prepared statement's) can use that index instead of the outlet's history.
        f"AND {q('idempotency_key')} = %s AND {q('idempotency_key')} <> '')::integer, "
        f"NULL::timestamptz, NULL::timestamptz "
        f"FROM {q(OutletQueue._meta.db_table)} o WHERE o.{q('outlet_id')} = %s "
        f"UNION ALL SELECT 'c', c.{q('code')}, k.{q('config')}::text, t.{q('state')}, "
        f"NULL, NULL, NULL FROM {state} s "
        f"JOIN {counter} c ON c.{q('id')} = s.{q('counter_id')} "
        f"LEFT JOIN {config} k ON k.{q('counter_id')} = s.{q('counter_id')} "
        f"LEFT JOIN {ticket} t ON t.{q('id')} = s.{q('current_ticket_id')} "
        f"WHERE s.{q('outlet_id')} = %s AND s.{q('status')} = %s "
        f"UNION ALL SELECT 'q', {q('queue')}, NULL, NULL, COUNT(*)::integer, NULL, NULL "
        f"FROM {ticket} WHERE {q('outlet_id')} = %s AND {q('day')} = %s "
        f"AND {q('state')} = %s GROUP BY {q('queue')} "
        f"UNION ALL (SELECT 's', NULL, NULL, NULL, NULL, {q('started_at')}, {q('ended_at')} "
        f"FROM {ticket} WHERE {q('outlet_id')} = %s AND {q('business_type_id')} = %s "
        f"AND {q('day')} = %s AND {q('state')} = %s "
        f"ORDER BY {q('ended_at')} DESC LIMIT {RECENT_SERVICES})"
    )
    return sql


def _issue_reads_params(outlet_id: int, business_type_id: int, day: dt.date, key: str) -> list[Any]:
    """The parameters of ``_issue_reads_sql``'s statement, in its order."""
    return [
        outlet_id, key, outlet_id,
        outlet_id, CounterStatus.OPEN.value,
        outlet_id, day, TicketState.WAITING.value,
        outlet_id, business_type_id, day, TicketState.FINISHED.value,
    ]  # fmt: skip


def _issue_reads(
    outlet: OrgUnit, business_type: BusinessType, day: dt.date, key: str
) -> tuple[bool, list[Any], dict[str, int], list[float]]:
    """PostgreSQL: what an issue reads, in one statement: whether the outlet's queue is on
    ``day`` with nothing issued under ``key`` yet, its open counters (code, own configuration,
    current ticket's state), the tickets waiting per queue, the type's recent service times."""
    sql = _issue_reads_sql(connection.vendor)
    with rawsql.cursor() as cursor:
        cursor.execute(sql, _issue_reads_params(outlet.pk, business_type.pk, day, key))
        rows = cursor.fetchall()
    ready, counters, waiting, durations = False, [], {}, []
    for kind, text, own, current, number, started, ended in rows:
        if kind == "d":
            ready = text == day.isoformat() and not number
        elif kind == "c":
            counters.append((text, own, current))
        elif kind == "q":
            waiting[text] = number
        elif started and ended:
            durations.append((ended - started).total_seconds())
    return ready, counters, waiting, durations


def _event_from_t(
    values: dict[str, Any], *, data_sql: str | None = None, returning: str = ""
) -> tuple[str, list[Any]]:
    """PostgreSQL: the ``e AS (INSERT INTO ticketevent … SELECT … FROM t …)`` part of a
    ``WITH`` statement whose ``t`` returns the ticket just written: the event's ``values`` by
    field name (model instances or keys), its ``data`` among them or as SQL over ``t``
    (``data_sql``); it returns ``returning`` (default: its id)."""
    db = rawsql.database()
    sql, fields = _event_sql(db.vendor, tuple(values), data_sql, returning)
    params = [
        rawsql.prep(field, value, db) for field, value in zip(fields, values.values(), strict=True)
    ]
    return sql, params


@cache
def _event_sql(
    vendor: str, names: tuple[str, ...], data_sql: str | None, returning: str
) -> tuple[str, tuple[Any, ...]]:
    """``_event_from_t``'s statement text for these field names (on ``vendor``), and their
    fields."""
    q = connection.ops.quote_name
    meta: Any = TicketEvent._meta
    fields = tuple(meta.get_field(name) for name in names)
    columns_ = [q(field.column) for field in fields]
    marks = ["%s"] * len(fields)
    if data_sql is not None:
        columns_.append(q("data"))
        marks.append(data_sql)
    sql = (
        f"e AS (INSERT INTO {q(meta.db_table)} "
        f"({q('ticket_id')}, {q('outlet_id')}, {', '.join(columns_)}) "
        f"SELECT t.{q('id')}, t.{q('outlet_id')}, {', '.join(marks)} FROM t "
        f"RETURNING {returning or q('id')})"
    )
    return sql, fields


@cache
def _issue_write_sql(vendor: str, event: str) -> tuple[str, tuple[Any, ...]]:
    """``_issue_in_two_statements``' writing statement (on ``vendor``, with the ``event``
    part), and the ticket's fields in the order of its columns: ``seq`` takes the series'
    number, ``number`` a parameter (the prefix) and the number, every other field a
    parameter."""
    q = connection.ops.quote_name
    insert_sql, fields = insert_statement(Ticket)
    series = TicketSeries._meta.db_table
    select = []
    for field in fields:
        if field.attname == "seq":
            select.append(f"n.{q('last_number')}")
        elif field.attname == "number":
            last = f"n.{q('last_number')}"
            select.append(
                f"%s || CASE WHEN {last} < 1000 THEN lpad({last}::text, 3, '0') "
                f"ELSE {last}::text END"
            )
        else:
            select.append("%s")
    sql = (
        f"WITH n AS (INSERT INTO {q(series)} "
        f"({q('outlet_id')}, {q('business_type_id')}, {q('day')}, {q('last_number')}) "
        f"VALUES (%s, %s, %s, 1) "
        f"ON CONFLICT ({q('outlet_id')}, {q('business_type_id')}, {q('day')}) "
        f"DO UPDATE SET {q('last_number')} = {q(series)}.{q('last_number')} + 1 "
        f"RETURNING {q('last_number')}), "
        f"t AS ({insert_sql.split(' VALUES ')[0]} SELECT {', '.join(select)} FROM n "
        f"RETURNING {columns(Ticket)}), {event} "
        f"SELECT {columns(Ticket, 't')}, e.{q('id')} AS {q('event_id')} FROM t CROSS JOIN e"
    )
    return sql, fields


def _issue_in_two_statements(
    outlet: OrgUnit,
    business_type_code: str,
    ticket: Ticket,
    staff: Staff | None,
    device: Device | None,
) -> Issued | None:
    """PostgreSQL, on an outlet already open for the day: one statement reads what the issue
    needs (``_issue_reads``), one writes it (the series' next number, the ticket and its
    event: three ``INSERT``s in a ``WITH``, committed together). No outlet lock: numbers come
    from the series row's upsert and the ``Idempotency-Key`` is unique per outlet (two requests
    with one key at once: the second's statement fails, and it answers with the first's
    ticket). None (nothing written) when the day must roll over first or the key is already
    used: the caller then takes the locked path, which handles both."""
    now = ticket.issued_at
    day = local_day(outlet, now)
    try:
        business_type, settings, types = check_issue(
            outlet, business_type_code, green_channel=ticket.green_channel, now=now
        )
    except ActionError:
        if ticket.idempotency_key:
            return None  # perhaps a retry of a ticket issued before: the locked path knows
        raise
    ready, counters, waiting, durations = _issue_reads(
        outlet, business_type, day, ticket.idempotency_key
    )
    if not ready:
        return None
    open_now = [_open_counter(code, own, state, settings, types) for code, own, state in counters]
    estimate = estimate_from(business_type, open_now, waiting, durations)
    _complete_ticket(ticket, business_type, day, 0, estimate)
    data = _issued_data(ticket, estimate)
    event, event_params = _event_from_t(
        {
            "kind": TicketEventKind.ISSUED.value,
            "at": now,
            "staff": staff,
            "device": device,
            "data": data,
        }
    )
    db = rawsql.database()
    sql, fields = _issue_write_sql(db.vendor, event)
    params = []
    for field in fields:
        if field.attname == "number":
            params.append(business_type.prefix)
        elif field.attname != "seq":
            params.append(rawsql.prep(field, field.pre_save(ticket, True), db))
    all_params = [outlet.pk, business_type.pk, day, *params, *event_params]
    try:
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            rows = fetch_joined(sql, all_params, Ticket, extra=1)
    except IntegrityError:
        # Another request with this key was issued in between: answer with its ticket.
        existing = _ticket_by_key(outlet, ticket.idempotency_key)
        if existing is None:
            raise
        return Issued(existing, False)
    stored, event_id = rows[0][0], rows[0][1]
    stored.business_type = business_type
    row = rawsql.new(
        TicketEvent, pk=event_id, ticket=stored, outlet=outlet, kind=TicketEventKind.ISSUED,
        at=now, staff=staff, device=device, data=data,
    )  # fmt: skip
    row._state.adding = False
    _publish_issued(outlet, row, estimate)
    return Issued(stored, True)


def _next_number(outlet: OrgUnit, business_type: BusinessType, day: dt.date) -> int:
    """The series' next number: one upsert (PostgreSQL and SQLite ≥ 3.35), under the lock."""
    table = TicketSeries._meta.db_table
    sql = (
        f"INSERT INTO {table} (outlet_id, business_type_id, day, last_number) "
        "VALUES (%s, %s, %s, 1) "
        "ON CONFLICT (outlet_id, business_type_id, day) "
        f"DO UPDATE SET last_number = {table}.last_number + 1 "
        "RETURNING last_number"
    )
    with rawsql.cursor() as cursor:
        cursor.execute(
            sql, [outlet.pk, business_type.pk, connection.ops.adapt_datefield_value(day)]
        )
        row = cursor.fetchone()
    return int(row[0])


def open_counters(
    outlet: OrgUnit, settings: QueueSettings, types: dict[str, BusinessType]
) -> list[OpenCounter]:
    """The outlet's open counters, their call configuration and whether they are idle.

    One plain SQL statement (it runs on every issue): each open counter's code, its own call
    configuration if it has one, and the state of its current ticket."""
    quote = connection.ops.quote_name
    state_table = quote(CounterState._meta.db_table)
    counter_table = quote(Counter._meta.db_table)
    config_table = quote(CounterQueueConfig._meta.db_table)
    ticket_table = quote(Ticket._meta.db_table)
    sql = (
        f"SELECT c.{quote('code')}, q.{quote('config')}, t.{quote('state')} "
        f"FROM {state_table} s "
        f"JOIN {counter_table} c ON c.{quote('id')} = s.{quote('counter_id')} "
        f"LEFT JOIN {config_table} q ON q.{quote('counter_id')} = s.{quote('counter_id')} "
        f"LEFT JOIN {ticket_table} t ON t.{quote('id')} = s.{quote('current_ticket_id')} "
        f"WHERE s.{quote('outlet_id')} = %s AND s.{quote('status')} = %s"
    )
    with rawsql.cursor() as cursor:
        cursor.execute(sql, [outlet.pk, CounterStatus.OPEN.value])
        rows = cursor.fetchall()
    return [_open_counter(code, own, state, settings, types) for code, own, state in rows]


def _open_counter(
    code: str,
    own: Any,
    current_state: str | None,
    settings: QueueSettings,
    types: dict[str, BusinessType],
) -> OpenCounter:
    """An open counter from its code, its own call configuration (JSON, if any) and the state
    of its current ticket (if any)."""
    if own is None:
        config = default_counter_config(code, settings, list(types))
    else:
        data = json.loads(own) if isinstance(own, str | bytes) else own
        config = CounterConfig.from_dict({**data, "counter": code})
    idle = current_state is None or current_state not in CALL_CONTEXT_STATES
    return OpenCounter(config, idle)


# -- call ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Called:
    ticket: Ticket
    rule: str
    reason_code: str
    params: dict[str, Any]

    @property
    def reason(self) -> str:
        return render_reason(self.reason_code, self.params)


WAITING_FIELDS = (
    "pk",
    "queue",
    "tier",
    "issued_at",
    "effective_at",
    "green_channel",
    "appointment",
    "front",
    "target_counter_id",
)


def _aware(value: dt.datetime) -> dt.datetime:
    """A datetime column read with plain SQL (SQLite gives naive UTC, PostgreSQL aware)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _as_waiting(
    counter: Counter, config: CounterConfig, day: dt.date, rows: list[Any]
) -> list[WaitingTicket]:
    """The waiting tickets ``counter`` may call, as the call strategy sees them, from rows of
    ``WAITING_FIELDS`` (the outlet's waiting tickets of the day, in order).

    A ticket transferred to a named counter is seen only by that counter, in its own queue if
    the counter serves it, else in the counter's first queue.
    """
    origin = day_origin(counter.outlet, day)
    queues = config.queues
    tickets = []
    for pk, queue, tier, issued, effective, green, appointment, front, target in rows:
        if (target is None and queue not in queues) or target not in (None, counter.pk):
            continue
        issued_at, effective_at = _aware(issued), _aware(effective)
        if target is not None and queue not in queues:
            queue = queues[0]
        tickets.append(
            WaitingTicket(
                pk,
                queue,
                Tier(tier),
                (issued_at - origin).total_seconds(),
                (effective_at - origin).total_seconds(),
                green,
                appointment,
                front,
            )
        )
    return tickets


@dataclass(frozen=True)
class CallContext:
    """What a call needs of the counter's state: one SQL statement (``_call_context``)."""

    status: str
    teller_id: int | None
    strategy_state: dict[str, Any]
    own_config: dict[str, Any] | None  # the counter's ``CounterQueueConfig.config``, if any
    current_state: str | None  # the state and number of the ticket at the counter, if any
    current_number: str | None


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


@cache
def _call_context_sql(vendor: str) -> str:
    """``_call_context``'s statement (on ``vendor``)."""
    quote = connection.ops.quote_name
    waiting = ", ".join(f"w.{quote('id' if name == 'pk' else name)}" for name in WAITING_FIELDS)
    ticket = quote(Ticket._meta.db_table)
    sql = (
        f"SELECT s.{quote('status')}, s.{quote('teller_id')}, s.{quote('strategy_state')}, "
        f"q.{quote('config')}, t.{quote('state')}, t.{quote('number')}, {waiting} "
        f"FROM {quote(CounterState._meta.db_table)} s "
        f"LEFT JOIN {quote(CounterQueueConfig._meta.db_table)} q "
        f"ON q.{quote('counter_id')} = s.{quote('counter_id')} "
        f"LEFT JOIN {ticket} t ON t.{quote('id')} = s.{quote('current_ticket_id')} "
        f"LEFT JOIN {ticket} w ON w.{quote('outlet_id')} = s.{quote('outlet_id')} "
        f"AND w.{quote('day')} = %s AND w.{quote('state')} = %s "
        f"WHERE s.{quote('counter_id')} = %s "
        f"ORDER BY w.{quote('effective_at')}, w.{quote('id')}"
    )
    return sql


def _call_context(counter: Counter, day: dt.date) -> tuple[CallContext | None, list[Any]]:
    """The counter's state for a call and the outlet's waiting tickets of ``day`` (rows of
    ``WAITING_FIELDS``, in order), in one statement: the counter's row joined to each."""
    sql = _call_context_sql(connection.vendor)
    params = [connection.ops.adapt_datefield_value(day), TicketState.WAITING.value, counter.pk]
    with rawsql.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        return None, []
    status, teller_id, strategy_state, own, current_state, current_number = rows[0][:6]
    context = CallContext(
        status=status,
        teller_id=teller_id,
        strategy_state=_json(strategy_state) or {},
        own_config=_json(own),
        current_state=current_state,
        current_number=current_number,
    )
    return context, [row[6:] for row in rows if row[6] is not None]


def check_can_call(state: CallContext | None, teller: Staff) -> CallContext:
    if state is None or state.status == CounterStatus.CLOSED:
        raise Conflict("counter_closed", _("This counter is closed: open it first."))
    if state.status == CounterStatus.PAUSED:
        raise Conflict("counter_paused", _("This counter is paused: resume it first."))
    if state.teller_id != teller.pk:
        raise Conflict("counter_in_use", _("This counter is open under another teller."))
    if state.current_state in CALL_CONTEXT_STATES:
        raise Conflict(
            "counter_busy",
            _("Ticket %(number)s is still at this counter: finish, transfer or mark it first.")
            % {"number": state.current_number},
        )
    return state


@cache
def _called_update_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    return (
        f"UPDATE {quote(Ticket._meta.db_table)} SET {quote('state')} = %s, "
        f"{quote('counter_id')} = %s, {quote('teller_id')} = %s, {quote('called_at')} = %s, "
        f"{quote('started_at')} = NULL, {quote('recalls')} = 0 "
        f"WHERE {quote('id')} = %s AND {quote('state')} = %s"
    )


def _called_update(
    ticket_id: int | str, counter: Counter, teller: Staff, now: dt.datetime
) -> tuple[str, list[Any]]:
    """``UPDATE`` the waiting ticket to called at ``counter`` (without its ``RETURNING``)."""
    sql = _called_update_sql(connection.vendor)
    params = [
        TicketState.CALLED.value,
        counter.pk,
        teller.pk,
        connection.ops.adapt_datetimefield_value(now),
        ticket_id,
        TicketState.WAITING.value,
    ]
    return sql, params


def _called_event(
    ticket: Ticket,
    counter: Counter,
    teller: Staff,
    device: Device | None,
    now: dt.datetime,
    record: dict[str, Any],
    pk: int | None = None,
) -> TicketEvent:
    rawsql.relate(ticket, counter=counter, teller=teller)
    _attach_business_type(ticket, counter.outlet)
    row = rawsql.new(
        TicketEvent,
        pk=pk,
        ticket=ticket,
        outlet_id=ticket.outlet_id,
        kind=TicketEventKind.CALLED,
        at=now,
        staff=teller,
        device=device,
        counter=counter,
        data=record,
    )
    if pk is None:
        insert_row(row)
    row._state.adding = False
    return row


def _mark_called(
    ticket_id: int | str,
    counter: Counter,
    teller: Staff,
    now: dt.datetime,
    device: Device | None,
    record: dict[str, Any],
) -> tuple[Ticket, TicketEvent] | None:
    """Mark the waiting ticket called at ``counter`` (``UPDATE … RETURNING``) and write its
    event (``record``); None if it was no longer waiting."""
    sql, params = _called_update(ticket_id, counter, teller, now)
    rows = fetch_models(Ticket, f"{sql} RETURNING {columns(Ticket)}", params)
    if not rows:
        return None
    return rows[0], _called_event(rows[0], counter, teller, device, now, record)


def _called_in_one_statement(
    ticket_id: int | str,
    counter: Counter,
    teller: Staff,
    device: Device | None,
    now: dt.datetime,
    record: dict[str, Any],
    strategy_state: StrategyState,
) -> tuple[Ticket, TicketEvent] | None:
    """PostgreSQL: ``_mark_called``, the event and the counter's current ticket and strategy
    state in one statement (an ``UPDATE``, an ``INSERT`` and an ``UPDATE`` in a ``WITH``)."""
    q = connection.ops.quote_name
    update, params = _called_update(ticket_id, counter, teller, now)
    state: Any = CounterState._meta
    event, event_params = _event_from_t(
        {
            "kind": TicketEventKind.CALLED.value,
            "at": now,
            "staff": teller,
            "device": device,
            "counter": counter,
            "data": record,
        }
    )
    sql = (
        f"WITH t AS ({update} RETURNING {columns(Ticket)}), {event}, "
        f"s AS (UPDATE {q(state.db_table)} SET "
        f"{q('current_ticket_id')} = (SELECT {q('id')} FROM t), {q('strategy_state')} = %s "
        f"WHERE {q('counter_id')} = %s AND EXISTS (SELECT 1 FROM t)) "
        f"SELECT {columns(Ticket, 't')}, e.{q('id')} AS {q('event_id')} FROM t CROSS JOIN e"
    )
    params += event_params
    strategy = state.get_field("strategy_state")
    params += [rawsql.prep(strategy, strategy_state.to_dict(), rawsql.database()), counter.pk]
    rows = fetch_joined(sql, params, Ticket, extra=1)
    if not rows:
        return None
    ticket, event_id = rows[0]
    return ticket, _called_event(ticket, counter, teller, device, now, record, pk=event_id)


def _attach_business_type(ticket: Ticket, outlet: OrgUnit) -> None:
    """Give ``ticket`` its business type from the outlet's cached ones, without a query (a
    type no longer offered is loaded when first used)."""
    known = {bt.pk: bt for bt in business_types_for(outlet).values()}
    if ticket.business_type_id in known:
        ticket.business_type = known[ticket.business_type_id]


def do_call_next(
    counter: Counter,
    teller: Staff,
    *,
    device: Device | None = None,
    now: dt.datetime | None = None,
) -> Called:
    """Call the ticket the counter's strategy chooses; store the rule and reason with it.

    ``counter`` must have its ``outlet`` loaded. Refused (409, nothing changed) when the
    counter is closed or paused, open under another teller, still has a ticket called or in
    service, or nothing it serves is waiting.

    Without ``now`` the call's time is read after the lock is taken, so call times follow the
    order in which calls took the lock.
    """
    outlet = counter.outlet
    with transaction.atomic():
        day = local_day(outlet, now or timezone.now())
        lock_outlet(outlet, day, now or timezone.now())
        now = now or timezone.now()
        context, rows = _call_context(counter, day)
        state = check_can_call(context, teller)
        if state.own_config is not None:
            config = CounterConfig.from_dict({**state.own_config, "counter": counter.code})
        else:
            config = counter_config_of(counter, None)
        strategy_state = StrategyState.from_dict(state.strategy_state)
        waiting = build_waiting(_as_waiting(counter, config, day, rows))
        choice = choose(
            config, waiting, (now - day_origin(outlet, day)).total_seconds(), strategy_state
        )
        if choice is None:
            raise Conflict("nothing_waiting", _("Nobody is waiting for this counter."))
        record = choice.to_dict()
        del record["ticket_id"]
        effective_at = next(_aware(row[4]) for row in rows if row[0] == choice.ticket_id)
        record["waited_s"] = int((now - effective_at).total_seconds())
        if connection.vendor == "postgresql":
            done = _called_in_one_statement(
                choice.ticket_id, counter, teller, device, now, record, strategy_state
            )
        else:
            done = _mark_called(choice.ticket_id, counter, teller, now, device, record)
        if done is None:  # pragma: no cover - the outlet lock makes this impossible
            raise Conflict("try_again", _("The queue changed; call again."))
        ticket, row = done
        if connection.vendor != "postgresql":
            update_row(
                CounterState,
                counter.pk,
                {"current_ticket": ticket, "strategy_state": strategy_state.to_dict()},
            )
        called = Called(ticket, str(choice.rule), str(choice.reason_code), dict(choice.params))
        _publish_ticket(
            outlet,
            "called",
            row,
            counter,
            reason_code=called.reason_code,
            params=called.params,
        )
    return called


# -- the ticket at the counter ---------------------------------------------------------------


def _wrong_state(ticket: Ticket) -> ActionError:
    state = ticket.state
    if state == TicketState.WAITING:
        return Conflict("ticket_not_called", _("This ticket has not been called."))
    if state == TicketState.CALLED:
        return Conflict("ticket_not_started", _("Service of this ticket has not started."))
    if state == TicketState.SERVING:
        return Conflict("ticket_in_service", _("This ticket is being served."))
    return Conflict(
        "ticket_ended",
        _("This ticket is already over (%(state)s).") % {"state": TicketState(state).label},
    )


def _locked_ticket(outlet_id: int, public_id: str) -> Ticket:
    """The outlet's ticket ``public_id``, its row locked (``FOR UPDATE`` where the database
    has it; SQLite's write transactions lock the whole database), else 404. Written as SQL:
    this runs on every action at a counter."""
    quote = connection.ops.quote_name
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    sql = (
        f"SELECT {columns(Ticket)} FROM {quote(Ticket._meta.db_table)} "
        f"WHERE {quote('public_id')} = %s AND {quote('outlet_id')} = %s{lock}"
    )
    rows = fetch_models(Ticket, sql, [public_id, outlet_id])
    if not rows:
        raise Http404
    return rows[0]


def _ticket_at_counter(counter: Counter, public_id: str, *states: str) -> Ticket:
    """The ticket, locked, if it is at ``counter`` in one of ``states``.

    Another outlet's ticket, or one at another counter, is not found (404); a ticket of this
    outlet in another state is a 409 that says which.
    """
    ticket = _locked_ticket(counter.outlet_id, public_id)
    if ticket.counter_id is not None and ticket.counter_id != counter.pk:
        raise Http404
    if ticket.state not in states:
        raise _wrong_state(ticket)
    ticket.counter = counter
    _attach_business_type(ticket, counter.outlet)
    return ticket


def _update_statement(
    counter: Counter,
    public_id: str,
    states: tuple[str, ...],
    values: dict[str, Any],
    recall_below: int | None,
) -> tuple[str, list[Any]]:
    """``UPDATE`` the ticket at ``counter`` in one of ``states`` to ``values`` (without its
    ``RETURNING``); ``recall_below``: a recall, counted (``recalls + 1``) only while the ticket
    has been recalled fewer times than that."""
    db = rawsql.database()
    sql, fields = _update_sql(db.vendor, tuple(values), len(states), recall_below is not None)
    params = []
    for field, value in zip(fields, values.values(), strict=True):
        params.append(rawsql.prep(field, value, db))
    params += [public_id, counter.outlet_id, counter.pk, *states]
    if recall_below is not None:
        params.append(recall_below)
    return sql, params


@cache
def _update_sql(
    vendor: str, names: tuple[str, ...], states: int, recall: bool
) -> tuple[str, tuple[Any, ...]]:
    """``_update_statement``'s text (on ``vendor``) for these field names, so many states and
    a recall or not; and the fields."""
    meta: Any = Ticket._meta
    quote = connection.ops.quote_name
    fields = tuple(meta.get_field(name) for name in names)
    sets = [f"{quote(field.column)} = %s" for field in fields]
    recalls = quote("recalls")
    if recall:
        sets.append(f"{recalls} = {recalls} + 1")
    counter_id = quote("counter_id")
    sql = (
        f"UPDATE {quote(meta.db_table)} SET {', '.join(sets)} "
        f"WHERE {quote('public_id')} = %s AND {quote('outlet_id')} = %s "
        f"AND ({counter_id} IS NULL OR {counter_id} = %s) "
        f"AND {quote('state')} IN ({', '.join(['%s'] * states)})"
    )
    if recall:
        sql += f" AND {recalls} < %s"
    return sql, fields


def _updated(ticket: Ticket, counter: Counter) -> Ticket:
    rawsql.relate(ticket, counter=counter)
    _attach_business_type(ticket, counter.outlet)
    return ticket


@dataclass(frozen=True)
class Transition:
    """A move of the ticket at a counter: from which states, to which column values (given
    the time), the event written, and the event's data from the ticket as updated — in Python
    (``data``) and, for the one-statement path on PostgreSQL, as SQL over the updated row
    ``t`` (``data_sql``, ``jsonb``; the tests check both on their databases)."""

    kind: str
    from_states: tuple[str, ...]
    values: Callable[[dt.datetime], dict[str, Any]]
    data: Callable[[Ticket], dict[str, Any]] = lambda ticket: {}
    data_sql: str = "'{}'::jsonb"
    recall_below: int | None = None


def _refusal(counter: Counter, public_id: str, move: Transition) -> ActionError:
    """Why no ticket moved: raises 404 or 409 (read under the row's lock); else a recall
    reached the limit, or the ticket changed in between (409 ``try_again``)."""
    found = _ticket_at_counter(counter, public_id, *move.from_states)
    if move.recall_below is None:
        return Conflict("try_again", _("The ticket changed in the meantime; try again."))
    return Conflict(
        "recall_limit",
        _("Recalled %(count)d times already: mark the ticket as a no-show.")
        % {"count": found.recalls},
    )


def _transition_in_one_statement(
    counter: Counter, public_id: str, move: Transition, now: dt.datetime, event: dict[str, Any]
) -> tuple[Ticket, TicketEvent] | None:
    """PostgreSQL: the update and its event in one statement (``UPDATE … RETURNING`` in a
    ``WITH``, the event ``INSERT … SELECT`` from it), committed on its own: one round trip
    instead of four (``BEGIN``, update, insert, ``COMMIT``)."""
    update, params = _update_statement(
        counter, public_id, move.from_states, move.values(now), move.recall_below
    )
    values = {name: event[name] for name in ("kind", "at", "staff", "device", "counter")}
    part, event_params = _event_from_t(
        values, data_sql=move.data_sql, returning=columns(TicketEvent)
    )
    sql = (
        f"WITH t AS ({update} RETURNING {columns(Ticket)}), {part} "
        f"SELECT {columns(Ticket, 't')}, {columns(TicketEvent, 'e')} FROM t CROSS JOIN e"
    )
    rows = fetch_joined(sql, [*params, *event_params], Ticket, TicketEvent)
    if not rows:
        return None
    ticket, row = rows[0]
    rawsql.relate(
        row,
        ticket=_updated(ticket, counter),
        staff=event["staff"],
        device=event["device"],
        counter=counter,
    )
    return ticket, row


def _counter_transition(
    counter: Counter,
    public_id: str,
    move: Transition,
    *,
    teller: Staff,
    device: Device | None,
    now: dt.datetime | None,
) -> Ticket:
    """Apply ``move`` to the ticket at ``counter`` and write its event, atomically.

    A ticket of another outlet, or at another counter, is not found (404); one in another
    state is a 409 that says which; a recall past ``recall_below`` is a 409 ``recall_limit``.
    """
    now = now or timezone.now()
    event = {"kind": move.kind, "at": now, "staff": teller, "device": device, "counter": counter}
    if connection.vendor == "postgresql":
        done = _transition_in_one_statement(counter, public_id, move, now, event)
        if done is not None:
            ticket, row = done
            _publish_ticket(counter.outlet, move.kind, row, counter)  # after its commit
            return ticket
        with transaction.atomic():
            raise _refusal(counter, public_id, move)
    with transaction.atomic():
        update, params = _update_statement(
            counter, public_id, move.from_states, move.values(now), move.recall_below
        )
        rows = fetch_models(Ticket, f"{update} RETURNING {columns(Ticket)}", params)
        if not rows:
            raise _refusal(counter, public_id, move)
        ticket = _updated(rows[0], counter)
        row = _ticket_event(
            ticket,
            move.kind,
            now,
            staff=teller,
            device=device,
            counter=counter,
            **move.data(ticket),
        )
        _publish_ticket(counter.outlet, move.kind, row, counter)
    return ticket


def do_recall(
    counter: Counter,
    public_id: str,
    teller: Staff,
    *,
    device: Device | None = None,
    now: dt.datetime | None = None,
) -> Ticket:
    """Call the ticket again (display and voice). A ticket already recalled ``max_recalls``
    times is not called again: it becomes a no-show (过号), as the outlet's settings say,
    with ``auto`` in the no-show event's data."""
    move = Transition(
        TicketEventKind.RECALLED,
        (TicketState.CALLED,),
        values=lambda at: {},
        data=lambda ticket: {"recall": ticket.recalls},
        data_sql=f"jsonb_build_object('recall', t.{connection.ops.quote_name('recalls')})",
        recall_below=settings_for(counter.outlet).max_recalls,
    )
    try:
        return _counter_transition(counter, public_id, move, teller=teller, device=device, now=now)
    except ActionError as refused:
        if refused.code != "recall_limit":
            raise
    return do_no_show(counter, public_id, teller, device=device, now=now, auto=True)


def do_start(
    counter: Counter,
    public_id: str,
    teller: Staff,
    *,
    device: Device | None = None,
    now: dt.datetime | None = None,
) -> Ticket:
    """The customer has come to the counter: service starts."""
    move = Transition(
        TicketEventKind.STARTED,
        (TicketState.CALLED,),
        values=lambda at: {"state": TicketState.SERVING, "started_at": at, "teller": teller},
    )
    return _counter_transition(counter, public_id, move, teller=teller, device=device, now=now)


def do_no_show(
    counter: Counter,
    public_id: str,
    teller: Staff,
    *,
    device: Device | None = None,
    now: dt.datetime | None = None,
    auto: bool = False,
) -> Ticket:
    """The called customer did not come (过号); ``auto``: because the recalls ran out."""
    flag = ", 'auto', true" if auto else ""
    move = Transition(
        TicketEventKind.NO_SHOW,
        (TicketState.CALLED,),
        values=lambda at: {"state": TicketState.NO_SHOW, "ended_at": at},
        data=lambda ticket: {"recalls": ticket.recalls, **({"auto": True} if auto else {})},
        data_sql=(f"jsonb_build_object('recalls', t.{connection.ops.quote_name('recalls')}{flag})"),
    )
    return _counter_transition(counter, public_id, move, teller=teller, device=device, now=now)


def _service_s(ticket: Ticket) -> dict[str, Any]:
    started, ended = ticket.started_at, ticket.ended_at
    return {"service_s": int((ended - started).total_seconds()) if started and ended else None}


def do_finish(
    counter: Counter,
    public_id: str,
    teller: Staff,
    *,
    device: Device | None = None,
    now: dt.datetime | None = None,
) -> Ticket:
    """Service is over; the service time is ``ended_at - started_at`` (whole seconds)."""
    quote = connection.ops.quote_name
    started, ended = f"t.{quote('started_at')}", f"t.{quote('ended_at')}"
    move = Transition(
        TicketEventKind.FINISHED,
        (TicketState.SERVING,),
        values=lambda at: {"state": TicketState.FINISHED, "ended_at": at},
        data=_service_s,
        data_sql=(
            f"jsonb_build_object('service_s', "
            f"trunc(extract(epoch FROM {ended} - {started}))::integer)"
        ),
    )
    ticket = _counter_transition(counter, public_id, move, teller=teller, device=device, now=now)
    # The evaluation pad asks at once where the outlet switches automatic initiation on.
    from branchserve.evaluations.actions import auto_initiate_after_finish

    auto_initiate_after_finish(ticket, counter)
    return ticket


# -- the lobby: transfer, divert, cancel -----------------------------------------------------


def do_transfer(
    outlet: OrgUnit,
    public_id: str,
    *,
    business_type_code: str | None = None,
    counter_code: str | None = None,
    placement: str = Placement.BACK,
    from_counter: Counter | None = None,
    staff: Staff | None = None,
    device: Device | None = None,
    now: dt.datetime | None = None,
) -> Ticket:
    """Put a ticket back to waiting in another queue and/or for a named counter.

    From a counter (``from_counter``) the ticket must be called or in service there; from the
    lobby it must be waiting. ``placement``: ``front`` (called before everyone else in that
    queue), ``original_time`` (queues from its issue time) or ``back`` (from now).
    """
    now = now or timezone.now()
    if not business_type_code and not counter_code:
        raise ActionError(
            "transfer_nowhere", _("Name a business type or a counter to transfer to."), status=422
        )
    if placement not in Placement.values:
        raise ActionError("invalid", _("Unknown placement."), status=422)
    with transaction.atomic():
        lock_outlet(outlet, local_day(outlet, now), now)
        if from_counter is not None:
            ticket = _ticket_at_counter(from_counter, public_id, *CALL_CONTEXT_STATES)
        else:
            ticket = _locked_ticket(outlet.pk, public_id)
            if ticket.state != TicketState.WAITING:
                raise Conflict(
                    "ticket_not_waiting",
                    _("Only a waiting ticket can be transferred from the lobby."),
                )
        business_type = ticket.business_type
        if business_type_code:
            found = business_types_for(outlet).get(business_type_code)
            if found is None:
                raise ActionError(
                    "unknown_business_type",
                    _("This outlet has no such business type."),
                    status=422,
                )
            business_type = found
        target = None
        if counter_code:
            target = Counter.objects.filter(
                outlet=outlet, code=counter_code, is_active=True
            ).first()
            if target is None:
                raise ActionError(
                    "unknown_counter", _("This outlet has no such counter."), status=422
                )
        from_queue, from_state = ticket.queue, ticket.state
        effective_at = ticket.issued_at if placement == Placement.ORIGINAL_TIME else now
        values: dict[str, Any] = {
            "state": TicketState.WAITING,
            "business_type": business_type,
            "queue": business_type.code,
            "target_counter": target,
            "front": placement == Placement.FRONT,
            "effective_at": effective_at,
            "counter": None,
            "teller": None,
            "called_at": None,
            "started_at": None,
            "recalls": 0,
        }
        Ticket.objects.filter(pk=ticket.pk).update(**values)
        for key, value in values.items():
            setattr(ticket, key, value)
        row = _ticket_event(
            ticket,
            TicketEventKind.TRANSFERRED,
            now,
            staff=staff,
            device=device,
            counter=from_counter,
            from_queue=from_queue,
            from_state=from_state,
            to_queue=business_type.code,
            to_counter=target.code if target else None,
            placement=placement,
        )
        _publish_ticket(outlet, "transferred", row, from_counter)
    return ticket


def do_divert(
    outlet: OrgUnit,
    public_id: str,
    *,
    target: str,
    outcome: str = DivertOutcome.UNKNOWN,
    other_outlet_code: str | None = None,
    note: str = "",
    staff: Staff | None = None,
    device: Device | None = None,
    now: dt.datetime | None = None,
) -> Ticket:
    """The lobby manager sends a waiting customer elsewhere (分流引导); the outcome is recorded."""
    now = now or timezone.now()
    if target not in DivertTarget.values or outcome not in DivertOutcome.values:
        raise ActionError("invalid", _("Unknown diversion target or outcome."), status=422)
    other_code = None
    if target == DivertTarget.OTHER_OUTLET:
        other = (
            OrgUnit.objects.filter(code=other_outlet_code or "", kind=UnitKind.OUTLET)
            .exclude(pk=outlet.pk)
            .first()
        )
        if other is None:
            raise ActionError(
                "unknown_outlet", _("Name the other outlet the customer goes to."), status=422
            )
        other_code = other.code
    with transaction.atomic():
        lock_outlet(outlet, local_day(outlet, now), now)
        ticket = _locked_ticket(outlet.pk, public_id)
        if ticket.state != TicketState.WAITING:
            raise Conflict("ticket_not_waiting", _("Only a waiting ticket can be diverted."))
        values = {
            "state": TicketState.DIVERTED,
            "ended_at": now,
            "divert_target": target,
            "divert_outcome": outcome,
        }
        Ticket.objects.filter(pk=ticket.pk).update(**values)
        for key, value in values.items():
            setattr(ticket, key, value)
        row = _ticket_event(
            ticket,
            TicketEventKind.DIVERTED,
            now,
            staff=staff,
            device=device,
            target=target,
            outcome=outcome,
            other_outlet=other_code,
            note=note[:200],
        )
        _publish_ticket(outlet, "diverted", row)
    return ticket


def do_cancel(
    outlet: OrgUnit,
    public_id: str,
    *,
    note: str = "",
    staff: Staff | None = None,
    device: Device | None = None,
    now: dt.datetime | None = None,
) -> Ticket:
    """A waiting customer leaves (or the ticket was taken by mistake)."""
    now = now or timezone.now()
    with transaction.atomic():
        lock_outlet(outlet, local_day(outlet, now), now)
        ticket = _locked_ticket(outlet.pk, public_id)
        if ticket.state != TicketState.WAITING:
            raise Conflict("ticket_not_waiting", _("Only a waiting ticket can be cancelled."))
        Ticket.objects.filter(pk=ticket.pk).update(state=TicketState.CANCELLED, ended_at=now)
        ticket.state, ticket.ended_at = TicketState.CANCELLED, now
        row = _ticket_event(
            ticket, TicketEventKind.CANCELLED, now, staff=staff, device=device, note=note[:200]
        )
        _publish_ticket(outlet, "cancelled", row)
    return ticket


# -- counters --------------------------------------------------------------------------------


def _counter_event(
    state: CounterState,
    kind: str,
    now: dt.datetime,
    *,
    staff: Staff | None,
    device: Device | None,
    reason: str = "",
    note: str = "",
) -> None:
    CounterEvent.objects.create(
        counter_id=state.counter_id,
        outlet_id=state.outlet_id,
        session_id=state.session_id,
        kind=kind,
        reason=reason,
        note=note[:200],
        at=now,
        staff=staff,
        device=device,
    )


def _locked_counter_state(counter: Counter, now: dt.datetime) -> CounterState:
    lock_outlet(counter.outlet, local_day(counter.outlet, now), now)
    state, _created = CounterState.objects.select_related("current_ticket").get_or_create(
        counter=counter, defaults={"outlet": counter.outlet}
    )
    return state


def _own_open_state(state: CounterState, teller: Staff) -> None:
    if state.status == CounterStatus.CLOSED:
        raise Conflict("counter_closed", _("This counter is closed: open it first."))
    if state.teller_id != teller.pk:
        raise Conflict("counter_in_use", _("This counter is open under another teller."))


def _publish_counter(counter: Counter, kind: str, state: CounterState) -> None:
    publish_on_commit(
        counter.outlet,
        {
            "type": f"counter.{kind}",
            "counter": {"code": counter.code, "number": counter.number},
            "status": state.status,
            "pause_reason": state.pause_reason,
        },
    )


def do_open_counter(
    counter: Counter,
    teller: Staff,
    *,
    device: Device | None = None,
    now: dt.datetime | None = None,
) -> CounterState:
    """Open the counter for ``teller`` (a new session). Opening it again is a no-op for the
    same teller and refused (409 ``counter_in_use``) for another."""
    now = now or timezone.now()
    with transaction.atomic():
        state = _locked_counter_state(counter, now)
        if state.status != CounterStatus.CLOSED:
            if state.teller_id == teller.pk:
                return state
            raise Conflict("counter_in_use", _("This counter is open under another teller."))
        session = CounterSession.objects.create(
            counter=counter, outlet=counter.outlet, teller=teller, device=device, opened_at=now
        )
        state.status, state.pause_reason = CounterStatus.OPEN, ""
        state.session, state.teller = session, teller
        state.save()
        _counter_event(state, CounterEventKind.OPENED, now, staff=teller, device=device)
        _publish_counter(counter, "opened", state)
    return state


def do_pause_counter(
    counter: Counter,
    teller: Staff,
    *,
    reason: str,
    note: str = "",
    device: Device | None = None,
    now: dt.datetime | None = None,
) -> CounterState:
    """Pause (暂停服务) with a reason; no calls until resumed."""
    now = now or timezone.now()
    if reason not in PauseReason.values:
        raise ActionError("invalid", _("Unknown pause reason."), status=422)
    with transaction.atomic():
        state = _locked_counter_state(counter, now)
        _own_open_state(state, teller)
        if state.status == CounterStatus.PAUSED:
            raise Conflict("counter_paused", _("This counter is paused: resume it first."))
        state.status, state.pause_reason = CounterStatus.PAUSED, reason
        state.save(update_fields=["status", "pause_reason"])
        _counter_event(
            state,
            CounterEventKind.PAUSED,
            now,
            staff=teller,
            device=device,
            reason=reason,
            note=note,
        )
        _publish_counter(counter, "paused", state)
    return state


def do_resume_counter(
    counter: Counter,
    teller: Staff,
    *,
    device: Device | None = None,
    now: dt.datetime | None = None,
) -> CounterState:
    now = now or timezone.now()
    with transaction.atomic():
        state = _locked_counter_state(counter, now)
        _own_open_state(state, teller)
        if state.status != CounterStatus.PAUSED:
            raise Conflict("counter_not_paused", _("This counter is not paused."))
        state.status, state.pause_reason = CounterStatus.OPEN, ""
        state.save(update_fields=["status", "pause_reason"])
        _counter_event(state, CounterEventKind.RESUMED, now, staff=teller, device=device)
        _publish_counter(counter, "resumed", state)
    return state


def _close_counter_state(
    state: CounterState,
    now: dt.datetime,
    *,
    staff: Staff | None,
    device: Device | None,
    note: str = "",
) -> None:
    _counter_event(state, CounterEventKind.CLOSED, now, staff=staff, device=device, note=note)
    if state.session_id:
        CounterSession.objects.filter(pk=state.session_id).update(closed_at=now)
    state.status, state.pause_reason = CounterStatus.CLOSED, ""
    state.session, state.teller, state.current_ticket = None, None, None
    state.save()


def do_close_counter(
    counter: Counter,
    teller: Staff,
    *,
    device: Device | None = None,
    now: dt.datetime | None = None,
) -> CounterState:
    """Close the counter and end the teller's session; not while a ticket is at it."""
    now = now or timezone.now()
    with transaction.atomic():
        state = _locked_counter_state(counter, now)
        _own_open_state(state, teller)
        current = state.current_ticket
        if current is not None and current.state in CALL_CONTEXT_STATES:
            raise Conflict(
                "counter_busy",
                _("Ticket %(number)s is still at this counter: finish, transfer or mark it first.")
                % {"number": current.number},
            )
        _close_counter_state(state, now, staff=teller, device=device)
        _publish_counter(counter, "closed", state)
    return state
