"""The demo province: each app registers a generator for its own demo data.

::

    @demo_generator("org", order=10)
    def generate(ctx: DemoContext) -> OrgDemo: ...

Generators run in ``order`` (then app name), each in its own transaction. Every generator gets
its own random streams, seeded from ``(seed, app name)`` by a stable hash, so one app's data is
the same for the same ``--seed`` and ``--today`` whatever other apps generate before it. Later
generators read what earlier ones wrote from the database (``ctx.produced`` holds their return
values for convenience).

An app also registers the demo logins it creates (``register_logins``): ``branchserve demo`` and
``branchserve serve --demo`` print them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
from django.apps import apps
from django.db import models, transaction
from django.utils import translation
from rich import box
from rich.console import Console
from rich.table import Table

# One simple password for every demo user. Demo data only: never in production.
DEMO_PASSWORD = "demo1234"
DEFAULT_OUTLETS = 60
DEFAULT_DAYS = 14
DEFAULT_SEED = 2014
BATCH_SIZE = 500

M = TypeVar("M", bound=models.Model)

# completed, total, what is being made
ProgressCallback = Callable[[int, int, str], None]


def stable_seed(seed: int, name: str) -> int:
    """A 64-bit seed from ``(seed, name)``, the same in every process and Python version
    (unlike ``hash()``, which is salted per process)."""
    digest = hashlib.sha256(f"branchserve-demo:{seed}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


@dataclass
class DemoContext:
    """What a generator gets: the demo's parameters, its own random streams, a progress callback
    and what earlier generators returned."""

    app: str
    seed: int
    today: dt.date
    days: int
    outlets: int
    random: random.Random
    np_random: np.random.Generator
    produced: Mapping[str, Any] = field(default_factory=dict)
    on_progress: ProgressCallback | None = None
    # Extra switches of ``branchserve demo`` (e.g. ``{"honest": True}``: no planted cheating).
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def first_day(self) -> dt.date:
        """The first day of the demo's history (``days`` days ending yesterday)."""
        return self.today - dt.timedelta(days=self.days)

    def history(self) -> Iterator[dt.date]:
        """The days of history, oldest first, ending the day before ``today``."""
        for offset in range(self.days, 0, -1):
            yield self.today - dt.timedelta(days=offset)

    def progress(self, completed: int, total: int, what: str = "") -> None:
        if self.on_progress is not None:
            self.on_progress(completed, total, what)

    def bulk_create(
        self, model: type[M], rows: Sequence[M], what: str = "", batch_size: int = BATCH_SIZE
    ) -> list[M]:
        """``bulk_create`` in batches, reporting progress; primary keys are set on the rows
        (PostgreSQL and SQLite ≥ 3.35 return them)."""
        if not what:
            with translation.override("en"):
                what = str(model._meta.verbose_name_plural)
        created: list[M] = []
        total = len(rows)
        self.progress(0, total, what)
        for start in range(0, total, batch_size):
            created += model._default_manager.bulk_create(rows[start : start + batch_size])
            self.progress(len(created), total, what)
        return created


Generator = Callable[[DemoContext], Any]


@dataclass(frozen=True)
class DemoGenerator:
    app: str
    func: Generator
    order: int = 100
    # Whether the app's demo data is already there; by default: any row in any of its models.
    seeded: Callable[[], bool] | None = None

    def is_seeded(self) -> bool:
        if self.seeded is not None:
            return self.seeded()
        return any(m._default_manager.exists() for m in apps.get_app_config(self.app).get_models())


@dataclass(frozen=True)
class DemoLogin:
    """One row of the table printed after seeding and when the demo server starts."""

    role: str
    username: str
    name: str
    sees: str
    password: str = DEMO_PASSWORD


GENERATORS: dict[str, DemoGenerator] = {}
LOGIN_PROVIDERS: list[Callable[[], list[DemoLogin]]] = []


def demo_generator(
    app: str, order: int = 100, seeded: Callable[[], bool] | None = None
) -> Callable[[Generator], Generator]:
    """Register ``func`` as the demo generator of ``app`` (its app label)."""

    def register(func: Generator) -> Generator:
        GENERATORS[app] = DemoGenerator(app=app, func=func, order=order, seeded=seeded)
        return func

    return register


def unregister(app: str) -> None:
    GENERATORS.pop(app, None)


def register_logins(provider: Callable[[], list[DemoLogin]]) -> Callable[[], list[DemoLogin]]:
    """Register a function listing the demo logins an app's data holds (read from the DB)."""
    if provider not in LOGIN_PROVIDERS:
        LOGIN_PROVIDERS.append(provider)
    return provider


def generators() -> list[DemoGenerator]:
    return sorted(GENERATORS.values(), key=lambda g: (g.order, g.app))


def demo_logins() -> list[DemoLogin]:
    return [login for provider in LOGIN_PROVIDERS for login in provider()]


def make_context(
    app: str,
    *,
    seed: int,
    today: dt.date,
    days: int,
    outlets: int,
    produced: Mapping[str, Any] | None = None,
    on_progress: ProgressCallback | None = None,
    options: Mapping[str, Any] | None = None,
) -> DemoContext:
    app_seed = stable_seed(seed, app)
    return DemoContext(
        app=app,
        seed=seed,
        today=today,
        days=days,
        outlets=outlets,
        random=random.Random(app_seed),
        np_random=np.random.default_rng(app_seed),
        produced=produced if produced is not None else {},
        on_progress=on_progress,
        options=options if options is not None else {},
    )


def run_generators(
    selected: Iterable[DemoGenerator],
    *,
    seed: int = DEFAULT_SEED,
    today: dt.date,
    days: int = DEFAULT_DAYS,
    outlets: int = DEFAULT_OUTLETS,
    progress_for: Callable[[DemoGenerator], ProgressCallback | None] | None = None,
    options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Run ``selected`` generators in order, each in its own transaction; their return values."""
    produced: dict[str, Any] = {}
    for generator in sorted(selected, key=lambda g: (g.order, g.app)):
        ctx = make_context(
            generator.app,
            seed=seed,
            today=today,
            days=days,
            outlets=outlets,
            produced=produced,
            on_progress=progress_for(generator) if progress_for else None,
            options=options,
        )
        with transaction.atomic():
            produced[generator.app] = generator.func(ctx)
    return produced


def rich_console(stdout: Any) -> Console:
    """A rich console writing where a management command's ``self.stdout`` writes."""
    return Console(file=getattr(stdout, "_out", stdout), highlight=False)


def print_logins(console: Console) -> None:
    """The login table, with the warning that this is demo data."""
    logins = demo_logins()
    if not logins:
        console.print("No demo logins found: run `branchserve demo` first.")
        return
    table = Table(title="Demo logins", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("Role")
    table.add_column("Username", style="bold cyan", no_wrap=True)
    table.add_column("Password", no_wrap=True)
    table.add_column("Name", no_wrap=True)
    table.add_column("What they see")
    for login in logins:
        table.add_row(login.role, login.username, login.password, login.name, login.sees)
    console.print(table)
    console.print(
        "[bold yellow]Demo data:[/] fictional people and places, and one password "
        f"({DEMO_PASSWORD}) for every demo user. Never load it into a production database."
    )
