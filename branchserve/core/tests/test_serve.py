"""``branchserve serve --demo``: one process serving pages and static files, with the background
jobs running inside it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from django.test import SimpleTestCase
from huey import MemoryHuey

from branchserve.core.management.commands.serve import start_jobs


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServeDemoTest(SimpleTestCase):
    def test_one_process_serves_the_chinese_login_page_and_static_files(self) -> None:
        tmp = tempfile.mkdtemp(prefix="branchserve-serve-")
        self.addCleanup(shutil.rmtree, tmp, ignore_errors=True)
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
        env |= {
            "SQLITE_PATH": f"{tmp}/db.sqlite3",
            "HUEY_SQLITE_PATH": f"{tmp}/jobs.sqlite3",
            "BRANCHSERVE_DEMO": "1",
            "DJANGO_SETTINGS_MODULE": "branchserve.settings",
        }
        cli = [sys.executable, "-m", "branchserve.cli"]
        for args in (["migrate", "--noinput", "-v0"], ["demo", "--outlets", "1", "--days", "0"]):
            subprocess.run(cli + args, env=env, check=True, timeout=180, capture_output=True)

        port = free_port()
        server = subprocess.Popen(
            [*cli, "serve", "--demo", "--port", str(port)],
            env=env | {"COLUMNS": "200"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(server.stdout or []), daemon=True)
        reader.start()
        self.addCleanup(server.kill)
        deadline = time.monotonic() + 60
        while not any("serving on" in line for line in lines):
            self.assertIsNone(server.poll(), "".join(lines))
            self.assertLess(time.monotonic(), deadline, "".join(lines))
            time.sleep(0.2)

        base = f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(f"{base}/login/", timeout=10) as response:
            self.assertEqual(response.status, 200)
            self.assertIn("登录", response.read().decode())
        with urllib.request.urlopen(f"{base}/static/admin/css/base.css", timeout=10) as response:
            self.assertEqual(response.status, 200)

        server.send_signal(signal.SIGTERM)
        self.assertEqual(server.wait(timeout=20), 0)
        reader.join(timeout=5)
        output = "".join(lines)
        self.assertIn(f"http://127.0.0.1:{port}/", output)
        self.assertIn("100006", output)  # the demo logins
        self.assertIn("demo1234", output)


class InProcessJobsTest(SimpleTestCase):
    def test_jobs_run_in_threads_of_the_server_process(self) -> None:
        huey = MemoryHuey("test-serve", immediate=False)

        @huey.task()
        def where() -> tuple[int, str]:
            return os.getpid(), threading.current_thread().name

        consumer = start_jobs(2, huey=huey)
        assert consumer is not None
        try:
            pid, thread = where().get(blocking=True, timeout=10)
        finally:
            consumer.stop(graceful=True)
        self.assertEqual(pid, os.getpid())
        self.assertTrue(thread.startswith("Worker-"), thread)

    def test_no_consumer_when_jobs_run_immediately(self) -> None:
        self.assertIsNone(start_jobs(1, huey=MemoryHuey("test-immediate", immediate=True)))
