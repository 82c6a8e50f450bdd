"""How many queue operations per second the HTTP API serves on PostgreSQL (issue #3).

A fresh database (``BENCH_DATABASE_URL``, default ``postgres://postgres@127.0.0.1:5432/
branchserve_bench``, dropped and recreated) gets a province with outlets, each with one counter,
a kiosk, a counter terminal and a teller logged in at it (a session), the counter open. The API
is served by granian (3 WSGI workers of 2 threads each, ``DEBUG`` off; when Redis answers, the
Redis channel layer, sessions and ``BRANCHSERVE_AUTH_CACHE`` on, as docs/production.md runs the
API workers) and driven by ``wrk`` (``bench/queue_load.lua``): 16 connections, each a client
that does issue → call-next → start → finish, one whole cycle at each of its 4 outlets in turn.
One operation = one HTTP request. Once every server worker has started, a warm-up comes first:
5 seconds of cycles on other outlets, then 3 seconds of reads of the measured outlets' queues
with their kiosks' and terminals' tokens, so that every server process has seen every device
once, as in a day's steady state. Mid-run, the log says how the 16 connections are spread over
the workers (each keeps those it accepted) and how many wait unaccepted.

Then the database is checked: ``duplicate_calls`` = tickets with more than one ``called`` event
(recalls are another kind), ``lost_tickets`` = tickets whose issue answered 201 to wrk but that
are not in the database.

The raw-SQL limit: the SQL statements the server runs for one cycle (captured from one cycle
through Django's test client in this process, transactions as the server runs them) replayed by
``pgbench`` with 8 clients, each at its own outlet; ``raw_sql_ops_per_s`` = 4 × cycles per
second, ``ratio_to_raw_sql`` = ``ops_per_s / raw_sql_ops_per_s``.

The bare peer (``bench/bare_peer``, skipped with ``--no-peer``): a bare Django + django-ninja
project doing the same four operations through the ORM, without the product's checks, served
by the same server with the same workers on the same PostgreSQL (a database of its own) and
driven by the same wrk script after the same warm-up. The issue's target of 800 operations/s
was set from such an endpoint ("the full product must be at least as lean"), so
``ratio_to_bare_django`` = ``ops_per_s / bare_django_ops_per_s`` is the product measured
against it on the same machine in the same run; ``bare_django_p99_ms`` is the peer's p99. A run
in which the peer calls a ticket twice or fails a request stops with an error.

``cpu_ms_per_op`` is the CPU time the whole machine spent busy during the measured run, per
operation: server, PostgreSQL, Redis and wrk together. On a shared machine it varies less than
throughput does, which makes it the figure to compare two versions by. ``cpu_ms_per_op_by``
splits it: ``server`` (the server's processes), ``postgres``, ``redis``, ``wrk`` and ``rest``
(the kernel's own threads, such as writing the WAL back, and anything else that ran).

Prints one JSON line on stdout (progress on stderr). Needs ``wrk`` and ``pgbench`` (Debian:
``apt-get install wrk postgresql-client``). ``python bench/queue_load.py [--server granian|
gunicorn] [--workers N] [--threads N] [--backpressure N] [--duration S] [--warmup S]
[--no-peer]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import glob
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/branchserve_bench"
REDIS_URL = "redis://127.0.0.1:6379/9"  # a database of its own, not the one others use
CLIENTS = 16  # wrk connections, one thread each
OUTLETS_PER_CLIENT = 4
PGBENCH_CLIENTS = 8
# Bench rows get explicit primary keys: BASE + idx (outlet, counter, user, staff, kiosk) and
# TERMINAL_BASE + idx (terminal), so that the captured SQL can be re-aimed per pgbench client.
BASE = 900_000
TERMINAL_BASE = 950_000
PGBENCH_IDX = range(PGBENCH_CLIENTS)  # pgbench client k works at outlet idx k
TEMPLATE_IDX = 999  # the outlet whose cycle is captured
WARMUP_IDX = range(100, 100 + CLIENTS)
MEASURE_IDX = range(200, 200 + CLIENTS * OUTLETS_PER_CLIENT)
TEMPLATE_TICKET_ID = 800_000_000_001  # the captured ticket's id (a sequence jump)
QUEUES = ("A", "B", "C")


def log(message: str) -> None:
    print(f"[queue_load] {message}", file=sys.stderr, flush=True)


def kiosk_token(idx: int) -> str:
    return f"bench-kiosk-{idx}"


def terminal_token(idx: int) -> str:
    return f"bench-terminal-{idx}"


def session_key(idx: int) -> str:
    return f"bench-session-{idx}"


def find_tools() -> tuple[str, str]:
    wrk = shutil.which("wrk")
    pgbench = shutil.which("pgbench") or next(
        iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/pgbench"), reverse=True)), None
    )
    missing = [
        f"{name} (Debian: apt-get install -y {package})"
        for name, found, package in (
            ("wrk", wrk, "wrk"),
            ("pgbench", pgbench, "postgresql-client"),
        )
        if not found
    ]
    if missing:
        log("missing load tools: " + "; ".join(missing))
        sys.exit(2)
    assert wrk and pgbench
    return wrk, pgbench


def recreate_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def redis_up() -> bool:
    """Whether Redis answers; if so, empties the bench's own Redis database (the cached
    sessions and users of the previous run's database)."""
    try:
        import redis

        client = redis.Redis.from_url(REDIS_URL, socket_timeout=1)
        client.flushdb()
        return True
    except Exception:
        return False


# -- the organisation --------------------------------------------------------------------------


def seed() -> None:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.db import transaction
    from django.utils import timezone

    from branchserve.devices.choices import DeviceKind, DeviceStatus
    from branchserve.devices.models import Device, hash_secret
    from branchserve.org.choices import Role, UnitKind
    from branchserve.org.models import Assignment, Counter, OrgUnit, Staff
    from branchserve.queueing import actions
    from branchserve.queueing.models import BusinessType

    now = timezone.now()
    with transaction.atomic():
        province = OrgUnit.objects.create(code="BPRV", name="基准省分行", kind=UnitKind.PROVINCE)
        subs = [
            OrgUnit.objects.create(
                code=f"BSB{n}", name=f"基准支行{n}", kind=UnitKind.SUB_BRANCH, parent=province
            )
            for n in range(4)
        ]
        for order, (code, name, seconds) in enumerate(
            (("A", "个人现金", 300), ("B", "个人非现金", 600), ("C", "对公业务", 900)), 1
        ):
            BusinessType.objects.create(
                unit=province,
                code=code,
                name=name,
                prefix=code,
                typical_service_s=seconds,
                order=order,
            )
        indexes = [*PGBENCH_IDX, TEMPLATE_IDX, *WARMUP_IDX, *MEASURE_IDX]
        for idx in indexes:
            # The template and the pgbench clients share a sub-branch, so paths re-aim cleanly.
            parent = subs[0] if idx < 100 or idx == TEMPLATE_IDX else subs[idx % len(subs)]
            outlet = OrgUnit.objects.create(
                pk=BASE + idx,
                code=f"BO{idx}",
                name=f"基准网点{idx}",
                kind=UnitKind.OUTLET,
                parent=parent,
            )
            counter = Counter.objects.create(
                pk=BASE + idx, outlet=outlet, code=f"BC{idx}", number=1
            )
            user = User(pk=BASE + idx, username=f"bench{idx}")
            user.set_unusable_password()
            user.save()
            staff = Staff.objects.create(
                pk=BASE + idx, user=user, employee_no=f"B{idx}", name=f"柜员{idx}"
            )
            Assignment.objects.create(
                staff=staff, unit=outlet, role=Role.TELLER, starts_on=dt.date(2020, 1, 1)
            )
            Device.objects.create(
                pk=BASE + idx,
                kind=DeviceKind.KIOSK,
                name=f"取号机{idx}",
                outlet=outlet,
                status=DeviceStatus.ACTIVE,
                token_hash=hash_secret(kiosk_token(idx)),
                paired_at=now,
                last_seen_at=now,
            )
            terminal = Device.objects.create(
                pk=TERMINAL_BASE + idx,
                kind=DeviceKind.COUNTER_TERMINAL,
                name=f"柜员终端{idx}",
                outlet=outlet,
                counter=counter,
                status=DeviceStatus.ACTIVE,
                token_hash=hash_secret(terminal_token(idx)),
                paired_at=now,
                last_seen_at=now,
            )
            data = {
                SESSION_KEY: str(user.pk),
                BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                HASH_SESSION_KEY: user.get_session_auth_hash(),
            }
            Session.objects.create(
                session_key=session_key(idx),
                session_data=SessionStore().encode(data),
                expire_date=now + dt.timedelta(days=1),
            )
            counter = Counter.objects.select_related("outlet").get(pk=counter.pk)
            actions.do_open_counter(counter, staff, device=terminal)


# -- the raw-SQL script ------------------------------------------------------------------------


@contextmanager
def capturing(statements: list[tuple[int | None, str]]) -> Iterator[None]:
    """Record each statement as sent (parameters inlined) with its transaction, if any."""
    from django.db import connection

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        conn = context["connection"]
        text = conn.ops.compose_sql(sql, params) if params is not None else sql
        block = id(conn.atomic_blocks[0]) if conn.in_atomic_block else None
        statements.append((block, text))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield


def one_cycle(
    client: Any, idx: int, key: str, captured: dict[str, list[tuple[int | None, str]]] | None
) -> tuple[str, str]:
    """issue → call-next → start → finish at outlet ``idx``; returns (ticket id, number)."""
    kiosk = {"Authorization": f"Device {kiosk_token(idx)}", "Idempotency-Key": key}
    terminal = {"Authorization": f"Device {terminal_token(idx)}"}
    steps: list[tuple[str, str, dict[str, str], str | None]] = [
        ("issue", f"/api/v1/outlets/BO{idx}/tickets", kiosk, '{"business_type": "A"}'),
        ("call", f"/api/v1/counters/BC{idx}/call-next", terminal, None),
    ]
    ticket_id = number = ""
    for name, path, headers, body in steps:
        if name == "issue":  # a kiosk has no session; the terminal sends the teller's
            client.cookies.pop("sessionid", None)
        else:
            client.cookies["sessionid"] = session_key(idx)
        statements: list[tuple[int | None, str]] = []
        with capturing(statements):
            response = client.post(
                path, data=body or "", content_type="application/json", headers=headers
            )
        if response.status_code not in (200, 201):
            raise SystemExit(f"{name} at BO{idx}: {response.status_code} {response.content!r}")
        if name == "issue":
            ticket_id, number = response.json()["ticket_id"], response.json()["number"]
        if captured is not None:
            captured[name] = statements
    for name in ("start", "finish"):
        statements = []
        with capturing(statements):
            response = client.post(
                f"/api/v1/tickets/{ticket_id}/{name}",
                data="",
                content_type="application/json",
                headers=terminal,
            )
        if response.status_code != 200:
            raise SystemExit(f"{name} at BO{idx}: {response.status_code} {response.content!r}")
        if captured is not None:
            captured[name] = statements
    return ticket_id, number


def capture_cycle() -> tuple[dict[str, list[tuple[int | None, str]]], dict[str, str]]:
    """The SQL of one steady-state cycle at the template outlet, and the values to re-aim."""
    from django.db import connection
    from django.test import Client

    from branchserve.devices.models import hash_secret

    client = Client()
    one_cycle(client, TEMPLATE_IDX, "bench-template-warm", None)  # caches, last_seen_at
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('queueing_ticket', 'id'), %s)",
            [TEMPLATE_TICKET_ID - 1],
        )
    captured: dict[str, list[tuple[int | None, str]]] = {}
    key = "bench-template-key"
    ticket_id, number = one_cycle(client, TEMPLATE_IDX, key, captured)
    values = {
        "ticket_id": ticket_id,
        "number": number,
        "key": key,
        "kiosk_hash": hash_secret(kiosk_token(TEMPLATE_IDX)),
        "terminal_hash": hash_secret(terminal_token(TEMPLATE_IDX)),
    }
    return captured, values


def pgbench_script(
    captured: dict[str, list[tuple[int | None, str]]], values: dict[str, str]
) -> str:
    """One cycle's statements, re-aimed at pgbench client ``:client_id``'s outlet."""
    number_prefix = values["number"].rstrip("0123456789")

    def sha(token: str) -> str:
        return f"encode(sha256(convert_to('{token}', 'UTF8')), 'hex')"

    rules: list[tuple[str, str]] = [
        (rf"\b{TEMPLATE_TICKET_ID}\b", ":t_id"),
        (rf"\b{BASE + TEMPLATE_IDX}\b", ":x"),
        (rf"\b{TERMINAL_BASE + TEMPLATE_IDX}\b", ":y"),
        (re.escape(values["ticket_id"]), "bp-:client_id-:r"),
        (re.escape(values["key"]), "bk-:client_id-:r"),
        (f"'{re.escape(values['number'])}'", f"'{number_prefix}:s_last_number'"),
        (f"'{values['kiosk_hash']}'", sha(kiosk_token(0).replace("0", ":client_id"))),
        (f"'{values['terminal_hash']}'", sha(terminal_token(0).replace("0", ":client_id"))),
        (re.escape(session_key(TEMPLATE_IDX)), session_key(0).replace("0", ":client_id")),
        (rf"\bBO{TEMPLATE_IDX}\b", "BO:client_id"),
        (rf"\bBC{TEMPLATE_IDX}\b", "BC:client_id"),
    ]
    lines = [
        f"\\set x {BASE} + :client_id",
        f"\\set y {TERMINAL_BASE} + :client_id",
        "\\set r random(1, 1000000000000)",
    ]
    for op in ("issue", "call", "start", "finish"):
        lines.append(f"-- {op}")
        block: int | None = None
        for txn, sql in captured[op]:
            if txn != block:
                if block is not None:
                    lines.append("COMMIT;")
                if txn is not None:
                    lines.append("BEGIN;")
                block = txn
            for pattern, replacement in rules:
                sql = re.sub(pattern, lambda _m, r=replacement: r, sql)
            sql = " ".join(sql.split())
            if sql.startswith(('INSERT INTO "queueing_ticket" ', "WITH n AS (")):
                # The ticket's insert (alone, or with its number and event): its id.
                lines.append(sql + " \\gset t_")
            elif "last_number" in sql and "RETURNING" in sql:
                lines.append(sql + " \\gset s_")
            else:
                lines.append(sql + ";")
        if block is not None:
            lines.append("COMMIT;")
    return "\n".join(lines) + "\n"


def run_pgbench(pgbench: str, url: str, script: str, seconds: int) -> float:
    parsed = urlparse(url)
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as handle:
        handle.write(script)
    command = [
        pgbench,
        "-h",
        parsed.hostname or "127.0.0.1",
        "-p",
        str(parsed.port or 5432),
        "-U",
        parsed.username or "postgres",
        "-n",
        "-c",
        str(PGBENCH_CLIENTS),
        "-j",
        "2",
        "-T",
        str(seconds),
        "-f",
        handle.name,
        parsed.path.lstrip("/"),
    ]
    env = dict(os.environ, PGPASSWORD=parsed.password or "")
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    output = result.stdout + result.stderr
    tps = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", output)
    failed = re.search(r"number of failed transactions: (\d+)", output)
    if result.returncode != 0 or tps is None or (failed and int(failed.group(1))):
        log(output[-3000:])
        raise SystemExit(f"pgbench failed (script kept at {handle.name})")
    os.unlink(handle.name)
    return float(tps.group(1))


# -- the server and wrk ------------------------------------------------------------------------


def busy_cpu_seconds() -> float:
    """CPU time the whole machine has spent busy (not idle or waiting for I/O) so far: per
    operation, a measure that depends less on the machine's other load than throughput does."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    busy = sum(fields[:8]) - fields[3] - fields[4]  # all but idle and iowait
    return busy / os.sysconf("SC_CLK_TCK")


def proc_stats() -> Iterator[tuple[int, str, list[str]]]:
    """Each process's pid, name and the fields of ``/proc/<pid>/stat`` after the name (the
    state first, then the parent's pid, …); a process that ends meanwhile is left out."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        yield int(stat.parent.name), name, text[text.rindex(")") + 2 :].split()


def process_cpu_seconds(server_pid: int) -> dict[int, tuple[str, float]]:
    """Per process: its group (``server`` for ``server_pid`` and its descendants, ``postgres``,
    ``redis`` or ``""``) and the CPU time it has used so far, from ``/proc``."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    names: dict[int, str] = {}
    used: dict[int, float] = {}
    for pid, name, fields in proc_stats():
        names[pid] = name
        parents[pid] = int(fields[1])
        used[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime

    def group(pid: int) -> str:
        name, ancestor = names[pid], pid
        while ancestor > 1 and ancestor != server_pid:
            ancestor = parents.get(ancestor, 0)
        if ancestor == server_pid:
            return "server"
        return {"postgres": "postgres", "redis-server": "redis"}.get(name, "")

    return {pid: (group(pid), seconds) for pid, seconds in used.items()}


def cpu_seconds_used(
    before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]
) -> dict[int, tuple[str, float]]:
    """Per process: its group and the CPU time it used between two readings of
    ``process_cpu_seconds``. A process that ended in between is missing (a connection's
    backend, an autovacuum worker)."""
    return {
        pid: (group, seconds - (before[pid][1] if pid in before else 0.0))
        for pid, (group, seconds) in after.items()
    }


def connections_by_worker(server_pid: int, port: int, after_s: float) -> tuple[list[int], int]:
    """``after_s`` seconds from now: the clients' connections to ``port`` that each worker of
    ``server_pid`` holds (most first), and those the kernel has established but no worker has
    accepted yet; from ``/proc`` (IPv4 connections, as wrk opens them to 127.0.0.1)."""
    time.sleep(after_s)
    established: set[int] = set()  # socket inodes
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port, state = int(fields[1].rsplit(":", 1)[1], 16), fields[3]
        if local_port == port and state == "01":  # ESTABLISHED, on the server's side
            established.add(int(fields[9]))
    held: dict[int, int] = {}
    for pid, _name, fields in proc_stats():
        if int(fields[1]) != server_pid:
            continue
        try:
            links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
        except OSError:  # ended meanwhile
            continue
        inodes = {int(link[8:-1]) for link in links if link.startswith("socket:[")}
        held[pid] = len(inodes & established)
    waiting = len(established) - sum(held.values())
    return sorted(held.values(), reverse=True), waiting


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_command(
    server: str,
    port: int,
    workers: int,
    threads: int,
    app: str = "branchserve.wsgi:application",
    backpressure: int = 0,
) -> list[str]:
    """The command line of the WSGI server serving the API (docs/production.md);
    ``backpressure``: granian's limit of connections per worker (0: granian's default)."""
    program = str(Path(sys.executable).parent / server)
    if server == "granian":
        return [
            program,
            "--interface",
            "wsgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--blocking-threads",
            str(threads),
            "--no-ws",
            "--log-level",
            "info",  # start_server waits for every "Started worker-N"
            *(["--backpressure", str(backpressure)] if backpressure else []),
            app,
        ]
    command = [
        program,
        app,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--log-level",
        "warning",
    ]
    if threads > 1:
        command += ["--worker-class", "gthread", "--threads", str(threads)]
    return command


def start_server(
    env: dict[str, str],
    server: str,
    workers: int,
    threads: int,
    app: str = "branchserve.wsgi:application",
    cwd: Path = ROOT,
    backpressure: int = 0,
) -> tuple[Any, int]:
    """Start the server and wait until every worker serves.

    granian's workers load the application side by side and the first one ready takes every
    connection opened before the others listen; a warm-up started at the first answer warmed
    that one worker only, and the measured run began with the others cold (the first requests
    of the run, on those workers, took several times their usual CPU time: a cluster of the
    run's slowest requests). So with granian, this waits for the "Started worker-N" line of
    every worker (logged once the worker has loaded the application and is about to listen)."""
    port = free_port()
    command = server_command(server, port, workers, threads, app, backpressure)
    if not Path(command[0]).exists():
        raise SystemExit(f"{server} is not installed in this environment (pip install {server})")
    # The server's own output goes to stderr: stdout is the JSON line.
    server_process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    started: set[str] = set()
    all_started = threading.Event()

    def relay() -> None:
        assert server_process.stdout is not None
        for line in server_process.stdout:
            found = re.search(r"Started worker-(\d+)$", line.strip())
            if found:
                started.add(found[1])
                if len(started) >= workers:
                    all_started.set()
            elif "[INFO]" not in line:  # granian's life-cycle lines are noise here
                sys.stderr.write(line)

    threading.Thread(target=relay, daemon=True).start()
    if server != "granian":
        all_started.set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:  # any answer will do: the product's is a 401, the bare peer's a 404
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/outlets/BO0/queue", timeout=2)
        except urllib.error.HTTPError:
            pass
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
            continue
        if all_started.wait(timeout=max(0.0, deadline - time.monotonic())):
            return server_process, port
    server_process.terminate()
    server_process.wait(timeout=30)
    raise SystemExit(f"{command[0]} did not start all {workers} workers")


def run_wrk(
    wrk: str,
    port: int,
    indexes: range,
    seconds: int,
    tag: str,
    workdir: Path,
    *,
    touch: bool = False,
) -> tuple[dict[str, Any], list[str], str]:
    clients = workdir / f"clients-{tag}.lua"
    per_client = len(indexes) // CLIENTS
    entries = []
    for n in range(CLIENTS):
        outlets = [
            "{"
            f'outlet = "BO{idx}", counter = "BC{idx}", kiosk = "{kiosk_token(idx)}", '
            f'terminal = "{terminal_token(idx)}", session = "{session_key(idx)}"'
            "}"
            for idx in indexes[n * per_client : (n + 1) * per_client]
        ]
        entries.append("{" + ", ".join(outlets) + "}")
    clients.write_text("return {" + ",\n".join(entries) + "}\n")
    out = workdir / f"wrk-{tag}.out"
    env = dict(
        os.environ,
        BENCH_CLIENTS=str(clients),
        BENCH_OUT=str(out),
        BENCH_TAG=tag,
        BENCH_TOUCH="1" if touch else "0",
    )
    command = [
        wrk,
        "-t",
        str(CLIENTS),
        "-c",
        str(CLIENTS),
        "-d",
        f"{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(Path(__file__).with_name("queue_load.lua")),
        f"http://127.0.0.1:{port}",
    ]
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0 or not out.exists():
        log(result.stdout + result.stderr)
        raise SystemExit("wrk failed")
    summary_line, ids_line, *notes = out.read_text().split("\n")
    summary, ids = json.loads(summary_line), [i for i in ids_line.split(",") if i]
    if len(ids) != summary["issued"]:  # lost_tickets is checked against these ids
        raise SystemExit(f"wrk counted {summary['issued']} tickets issued but kept {len(ids)} ids")
    return summary, ids, "\n".join(notes)


@dataclass(frozen=True)
class Served:
    """One server's measured run: wrk's summary, the ticket ids it was given, CPU busy."""

    run: dict[str, Any]
    warm_ids: list[str]
    run_ids: list[str]
    busy: float
    busy_by: dict[str, float]  # CPU seconds by process group (``process_cpu_seconds``)

    @property
    def ops_per_s(self) -> float:
        return float(self.run["ok"]) / (self.run["duration_us"] / 1e6)

    @property
    def failed(self) -> int:
        return int(self.run["failed"] + self.run["socket_errors"] + self.run["timeouts"])

    def figures(self, name: str, ops: float) -> dict[str, Any]:
        """The peer's figures in the JSON line, prefixed with ``name``."""
        return {
            f"{name}_ops_per_s": round(self.ops_per_s, 1),
            f"{name}_p99_ms": round(self.run["p99_us"] / 1000, 2),
            f"ratio_to_{name}": round(ops / self.ops_per_s, 3),
        }


def serve_and_drive(
    env: dict[str, str],
    args: argparse.Namespace,
    wrk: str,
    app: str = "branchserve.wsgi:application",
    cwd: Path = ROOT,
) -> Served:
    """Start the server, warm it up, measure; stops the server."""
    with tempfile.TemporaryDirectory(prefix="queue_load-") as tmp:
        workdir = Path(tmp)
        server, port = start_server(
            env, args.server, args.workers, args.threads, app, cwd, args.backpressure
        )
        try:
            log(f"{app}: {args.server} on :{port}, {args.workers} workers × {args.threads} threads")
            log(f"warm-up {args.warmup} s")
            _warm, warm_ids, _notes = run_wrk(wrk, port, WARMUP_IDX, args.warmup, "warmup", workdir)
            touched, _ids, touch_notes = run_wrk(
                wrk, port, MEASURE_IDX, 3, "touch", workdir, touch=True
            )
            if touched["failed"]:
                raise SystemExit(f"reading the measured outlets' queues failed:\n{touch_notes}")
            log(f"measuring {args.duration} s")
            busy, before, children = busy_cpu_seconds(), process_cpu_seconds(server.pid), os.times()
            with ThreadPoolExecutor(1) as pool:  # a look at the connections, mid-run
                spread = pool.submit(connections_by_worker, server.pid, port, args.duration / 2)
                run, run_ids, notes = run_wrk(wrk, port, MEASURE_IDX, args.duration, "run", workdir)
            held, waiting = spread.result()
            after, done = process_cpu_seconds(server.pid), os.times()
            busy = busy_cpu_seconds() - busy
        finally:
            server.terminate()
            server.wait(timeout=30)
    if notes.strip():
        log("failed requests, first few:\n" + notes.strip())
    used = cpu_seconds_used(before, after)
    by = {name: 0.0 for name in ("server", "postgres", "redis")}
    for group, seconds in used.values():
        if group:
            by[group] += seconds
    workers = sorted(
        (s for pid, (group, s) in used.items() if group == "server" and pid != server.pid),
        reverse=True,
    )
    log("CPU seconds of each server worker: " + ", ".join(f"{s:.1f}" for s in workers))
    log(
        f"the {CLIENTS} clients' connections, mid-run: "
        + ", ".join(str(n) for n in held)
        + f" held by the workers, {waiting} waiting to be accepted"
    )
    # wrk is the only child this process waits for during the run
    by["wrk"] = (done.children_user + done.children_system) - (
        children.children_user + children.children_system
    )
    by["rest"] = busy - sum(by.values())
    return Served(run, warm_ids, run_ids, busy, by)


def measure_bare_peer(url: str, args: argparse.Namespace, wrk: str) -> Served:
    """The same load on ``bench/bare_peer`` (its package docstring), in a database of its own
    beside the bench's; refuses a run in which it called a ticket twice or failed requests."""
    import psycopg

    parsed = urlparse(url)
    peer_url = parsed._replace(path=parsed.path + "_bare").geturl()
    log(f"the bare Django + django-ninja peer, in {urlparse(peer_url).path.lstrip('/')}")
    recreate_database(peer_url)
    bench_dir = Path(__file__).resolve().parent
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "BRANCHSERVE_"))}
    env.update(BARE_DATABASE_URL=peer_url, DJANGO_SETTINGS_MODULE="bare_peer.settings")
    indexes = [str(i) for i in [*WARMUP_IDX, *MEASURE_IDX]]
    subprocess.run(
        [sys.executable, "-m", "bare_peer.seed", *indexes], cwd=bench_dir, env=env, check=True
    )
    served = serve_and_drive(env, args, wrk, "bare_peer.wsgi:application", bench_dir)
    with psycopg.connect(peer_url) as conn:
        (twice,) = conn.execute(
            "SELECT count(*) FROM (SELECT ticket_id FROM bare_peer_event WHERE kind = 'called'"
            " GROUP BY ticket_id HAVING count(*) > 1) AS t"
        ).fetchone()
    if twice or served.failed:
        raise SystemExit(
            f"the peer called {twice} tickets twice and failed {served.failed} requests"
        )
    return served


# -- checks ----------------------------------------------------------------------------------


def check_database(issued_ids: list[str]) -> tuple[int, int]:
    from django.db.models import Count

    from branchserve.queueing.choices import TicketEventKind
    from branchserve.queueing.models import Ticket, TicketEvent

    duplicates = (
        TicketEvent.objects.filter(kind=TicketEventKind.CALLED)
        .values("ticket_id")
        .annotate(calls=Count("pk"))
        .filter(calls__gt=1)
        .count()
    )
    stored = set(
        Ticket.objects.filter(public_id__in=issued_ids).values_list("public_id", flat=True)
    )
    return duplicates, len(set(issued_ids) - stored)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # granian, 3 workers of 2 threads: the fastest on the 2-core machine (docs/production.md).
    parser.add_argument("--workers", type=int, default=3, help="server worker processes")
    parser.add_argument("--threads", type=int, default=2, help="threads per worker")
    parser.add_argument(
        "--backpressure",
        type=int,
        default=0,
        help="granian: connections per worker (default 0: granian's own, 1024/workers; a lower "
        "cap left connections waiting unaccepted while other workers had room, see "
        "docs/production.md)",
    )
    parser.add_argument(
        "--server",
        choices=("granian", "gunicorn"),
        default="granian",
        help="the WSGI server (gunicorn, for comparison, is not installed with branchserve)",
    )
    parser.add_argument("--duration", type=int, default=15, help="measured seconds")
    parser.add_argument("--warmup", type=int, default=5, help="warm-up seconds")
    parser.add_argument("--pgbench-seconds", type=int, default=10)
    parser.add_argument("--sql-out", help="also write the pgbench script here")
    parser.add_argument(
        "--no-peer", action="store_true", help="skip the bare Django + django-ninja peer"
    )
    args = parser.parse_args()

    wrk, pgbench = find_tools()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    log(f"recreating {urlparse(url).path.lstrip('/')}")
    recreate_database(url)
    env = dict(
        os.environ,
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="branchserve.settings",
        DEBUG="0",
        LOG_LEVEL="WARNING",
        DATABASE_HEALTH_CHECKS="0",  # as docs/production.md runs the API workers
    )
    env.pop("BRANCHSERVE_DEMO", None)
    with_redis = redis_up()
    if with_redis:
        env["REDIS_URL"] = REDIS_URL
        env["BRANCHSERVE_AUTH_CACHE"] = "1"  # as docs/production.md runs the API workers
    else:
        env.pop("REDIS_URL", None)
        log("Redis is not answering: the server uses the in-process channel layer")
    os.environ.clear()
    os.environ.update(env)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    log("migrating and seeding")
    call_command("migrate", verbosity=0)
    seed()
    captured, values = capture_cycle()
    script = pgbench_script(captured, values)
    if args.sql_out:
        Path(args.sql_out).write_text(script)
    statements = {op: len(rows) for op, rows in captured.items()}
    log(f"SQL statements per operation: {statements}")
    connection.close()

    served = serve_and_drive(env, args, wrk)
    duplicates, lost = check_database(served.warm_ids + served.run_ids)
    connection.close()
    peer: Served | None = None
    if not args.no_peer:
        peer = measure_bare_peer(url, args, wrk)
    run = served.run
    log(f"pgbench, {PGBENCH_CLIENTS} clients, {args.pgbench_seconds} s")
    cycles_per_s = run_pgbench(pgbench, url, script, args.pgbench_seconds)
    raw_ops = 4 * cycles_per_s
    ops = served.ops_per_s
    print(
        json.dumps(
            {
                "ops_per_s": round(ops, 1),
                "p50_ms": round(run["p50_us"] / 1000, 2),
                "p99_ms": round(run["p99_us"] / 1000, 2),
                "duplicate_calls": duplicates,
                "lost_tickets": lost,
                "raw_sql_ops_per_s": round(raw_ops, 1),
                "ratio_to_raw_sql": round(ops / raw_ops, 3),
                "failed_requests": served.failed,
                "cpu_ms_per_op": round(served.busy * 1000 / max(run["ok"], 1), 3),
                "cpu_ms_per_op_by": {
                    name: round(seconds * 1000 / max(run["ok"], 1), 3)
                    for name, seconds in served.busy_by.items()
                },
                "cycles": run["cycles"],
                **(peer.figures("bare_django", ops) if peer else {}),
                "sql_statements_per_op": statements,
                "server": args.server,
                "workers": args.workers,
                "threads": args.threads,
                "backpressure": args.backpressure,
                "redis": with_redis,
            }
        )
    )


if __name__ == "__main__":
    main()
