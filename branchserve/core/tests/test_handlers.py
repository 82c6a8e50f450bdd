"""The entry points: ``/api/`` under the API's middleware stack, pages under the full one."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from branchserve.asgi import application as asgi_application
from branchserve.core.testing import BaseTestCase
from branchserve.wsgi import application as wsgi_application


@contextmanager
def keeping_the_test_connection() -> Iterator[None]:
    """As Django's test client does: a request's signals must not close the test's connection
    (and with it the test's transaction)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


class EntryPointTests(BaseTestCase):
    def wsgi(
        self, method: str, path: str, *, cookies: dict[str, str] | None = None, **headers: str
    ) -> tuple[int, dict[str, str], Any]:
        """One request through ``branchserve.wsgi.application``, as a WSGI server sends it."""
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "testserver",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": "2",
            "wsgi.input": io.BytesIO(b"{}"),
            "wsgi.url_scheme": "http",
            "wsgi.errors": io.StringIO(),
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        if cookies:
            environ["HTTP_COOKIE"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        for name, value in headers.items():
            environ["HTTP_" + name.upper()] = value
        started: list[Any] = []
        with keeping_the_test_connection():
            body = b"".join(wsgi_application(environ, lambda s, h, e=None: started.append((s, h))))
        status, header_list = started[0]
        content_type = dict(header_list).get("Content-Type", "")
        payload = json.loads(body) if content_type.startswith("application/json") else body
        return int(status.split()[0]), dict(header_list), payload

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
