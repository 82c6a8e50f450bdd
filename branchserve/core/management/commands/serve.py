"""``branchserve serve``: pages, the JSON API and WebSockets in one daphne process.

With ``--demo`` the same process also serves the static files and runs the background jobs
(the Huey consumer, in threads), so one command runs the whole demo. In production run
``daphne branchserve.asgi:application`` (or this command without ``--demo``) behind a proxy
that serves the collected static files, and ``branchserve worker`` beside it.
"""

from __future__ import annotations

import sys
from typing import Any

import daphne.server  # noqa: F401  first: installs the asyncio Twisted reactor, as daphne needs
from daphne.endpoints import build_endpoint_description_strings
from daphne.server import Server
from django.conf import settings
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.module_loading import autodiscover_modules
from huey.consumer import Consumer

from branchserve.core.demo import print_logins, rich_console


class InProcessConsumer(Consumer):
    """Huey's consumer as threads inside the server process. The server owns the signals:
    the consumer is stopped when the server stops."""

    def _set_signal_handlers(self) -> None:
        pass


class AnnouncingServer(Server):
    """daphne's server, telling us once it listens."""

    def __init__(self, *args: Any, on_listening: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.on_listening = on_listening

    def listen_success(self, port: Any) -> None:
        super().listen_success(port)
        self.on_listening()


def start_jobs(workers: int, huey: Any = None) -> InProcessConsumer | None:
    """Start the background-job consumer (settings.HUEY's, by default) in threads; None when
    jobs run immediately anyway."""
    if huey is None:
        from huey.contrib.djhuey import HUEY

        huey = HUEY
        autodiscover_modules("tasks")
    if huey.immediate:
        return None
    consumer = InProcessConsumer(
        huey, workers=workers, worker_type="thread", periodic=True, shutdown_timeout=10
    )
    consumer.start()
    return consumer


class Command(BaseCommand):
    help = (
        "Serve branchserve (pages, API, WebSockets) with daphne. --demo also serves static "
        "files and runs the background jobs inside this process."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--demo",
            action="store_true",
            help="demo mode: serve static files and run background jobs in this process, "
            "and print the demo logins",
        )
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
        parser.add_argument("--port", type=int, default=8000, help="port to listen on")
        parser.add_argument(
            "--job-workers",
            type=int,
            default=2,
            help="threads running background jobs in --demo mode (2)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from branchserve.asgi import application

        demo: bool = options["demo"]
        host: str = options["host"]
        port: int = options["port"]
        self.verbosity = int(options["verbosity"])
        console = rich_console(self.stdout)
        self.check_migrations()

        app: Any = application
        if demo or settings.DEBUG:
            app = ASGIStaticFilesHandler(application)
        url = f"http://{f'[{host}]' if ':' in host else host}:{port}/"

        def announce() -> None:
            console.print(f"branchserve is serving on [bold]{url}[/]")
            if demo:
                print_logins(console)
                console.print(
                    "Background jobs and live updates run in this process. Stop with Ctrl-C."
                )

        consumer = start_jobs(options["job_workers"]) if demo else None
        server = AnnouncingServer(
            application=app,
            endpoints=build_endpoint_description_strings(host=host, port=port),
            signal_handlers=True,
            action_logger=self.log_action,
            root_path=getattr(settings, "FORCE_SCRIPT_NAME", "") or "",
            on_listening=announce,
        )
        try:
            server.run()
        finally:
            if consumer is not None:
                consumer.stop(graceful=True)
        if not server.listening_addresses:
            raise CommandError(f"Could not listen on {host}:{port} (is the port in use?)")

    def log_action(self, protocol: str, action: str, details: dict[str, Any]) -> None:
        """Requests at verbosity 2 and up; server errors always."""
        if protocol == "http" and action == "complete":
            status = int(details.get("status") or 0)
            if status >= 500 or self.verbosity >= 2:
                line = f"{details['method']} {details['path']} {status}"
                stream = sys.stderr if status >= 500 else sys.stdout
                stream.write(line + "\n")
        elif protocol == "websocket" and self.verbosity >= 2:
            sys.stdout.write(f"WebSocket {action.upper()} {details.get('path', '')}\n")
