"""The entry points: ``/api/`` under the API's middleware stack, pages under the full one."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from typing import Any

from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.test import SimpleTestCase

from branchserve.asgi import application as asgi_application
from branchserve.core.handlers import GC_FIRST_GENERATION
from branchserve.core.testing import BaseTestCase, call_wsgi, keeping_the_test_connection


class EntryPointTests(BaseTestCase):
    def wsgi(
        self, method: str, path: str, *, cookies: dict[str, str] | None = None, **headers: str
    ) -> tuple[int, dict[str, str], Any]:
        """One request through ``branchserve.wsgi.application``, as a WSGI server sends it."""
        response = call_wsgi(method, path, body=b"{}", cookies=cookies, headers=headers)
        is_json = response.headers.get("Content-Type", "").startswith("application/json")
        payload = response.json() if is_json else response.content
        return response.status_code, response.headers, payload

    def test_api_runs_under_the_short_stack(self) -> None:
        status, headers, payload = self.wsgi("GET", "/api/v1/outlets/O11/queue")
        self.assertEqual(status, 401)
        self.assertEqual(headers["X-Content-Type-Options"], "nosniff")  # security headers
        self.assertEqual(headers["Content-Language"], "zh-hans")  # Chinese first
        self.assertNotIn("X-Frame-Options", headers)  # a page-only middleware
        self.assertEqual(payload["message"], "请先登录，或先完成设备配对。")

    def test_pages_run_under_the_full_stack(self) -> None:
        status, headers, _body = self.wsgi("GET", "/login/")
        self.assertEqual(status, 200)
        self.assertEqual(headers["X-Frame-Options"], "DENY")
        self.assertIn("csrftoken=", headers.get("Set-Cookie", ""))

    def test_api_sessions_are_still_csrf_checked(self) -> None:
        client = self.client_for(self.alice)
        cookies = {"sessionid": client.cookies["sessionid"].value}
        path = "/api/v1/outlets/O11/devices"
        status, _headers, _payload = self.wsgi("POST", path, cookies=cookies)
        self.assertEqual(status, 403)
        secret = "A" * 32
        status, _headers, payload = self.wsgi(
            "POST", path, cookies={**cookies, "csrftoken": secret}, X_CSRFTOKEN=secret
        )
        self.assertNotEqual(status, 403, payload)  # past the CSRF check: the body is checked
        self.assertEqual(status, 422)

    def test_asgi_routes_the_api_the_same_way(self) -> None:
        async def get(path: str) -> tuple[int, dict[bytes, bytes]]:
            scope = {
                "type": "http",
                "asgi": {"version": "3.0"},
                "http_version": "1.1",
                "method": "GET",
                "scheme": "http",
                "path": path,
                "raw_path": path.encode(),
                "root_path": "",
                "query_string": b"",
                "headers": [(b"host", b"testserver")],
                "client": ("127.0.0.1", 1234),
                "server": ("testserver", 80),
            }
            app = ApplicationCommunicator(asgi_application, scope)
            await app.send_input({"type": "http.request", "body": b"", "more_body": False})
            start = await app.receive_output(5)
            await app.receive_output(5)  # the body
            return start["status"], dict(start["headers"])

        with keeping_the_test_connection():
            api_status, api_headers = async_to_sync(get)("/api/v1/outlets/O11/queue")
            page_status, page_headers = async_to_sync(get)("/login/")
        self.assertEqual(api_status, 401)
        self.assertNotIn(b"X-Frame-Options", api_headers)
        self.assertEqual(page_status, 200)
        self.assertEqual(page_headers[b"X-Frame-Options"], b"DENY")


class WorkerGarbageCollectorTests(SimpleTestCase):
    def test_a_wsgi_worker_settles_its_collector_and_a_test_process_keeps_its_own(self) -> None:
        # A server imports ``branchserve.wsgi``: a fresh interpreter, as a worker is.
        probe = (
            "import gc, branchserve.wsgi;"
            "print(gc.get_threshold()[0], gc.get_freeze_count() > 10_000)"
        )
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "branchserve.settings"}
        done = subprocess.run(
            [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120
        )
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout.split(), [str(GC_FIRST_GENERATION), "True"])
        # This process serves requests through the same application, collector untouched.
        before = gc.get_threshold(), gc.get_freeze_count()
        call_wsgi("GET", "/api/v1/outlets/O11/queue")
        self.assertEqual((gc.get_threshold(), gc.get_freeze_count()), before)
