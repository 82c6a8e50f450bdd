"""The shared test base: a small organisation with one user per role, and the scoping mixin.

Organisation (codes)::

    PRV 示范省分行
    ├── BD 营业部 ── SB3 城东支行 ── O31
    ├── SB1 城南支行 ── O11 (counters O11-1, O11-2), O12 (O12-1)
    └── SB2 城北支行 ── O21 (O21-1)

Users (username = employee number, password ``PASSWORD``): alice (outlet head, O11), bob
(teller, O11), carol (teller, O12), lily (lobby manager, O11), charlie (outlet head, O21),
dora (sub-branch president, SB1), erin (province service manager), frank (auditor, province),
admin (system administrator, province), nobody (no assignment).

Every endpoint gets a ``ScopeCase`` in its app's ``tests/test_scoping.py``;
``core/tests/test_endpoint_coverage.py`` fails when a route has none.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import User
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import Client, TestCase
from django.urls import resolve

from branchserve.org.choices import Role, UnitKind
from branchserve.org.models import Assignment, Counter, OrgUnit, Staff

PASSWORD = "Branch-serve-2026"
START = dt.date(2020, 1, 1)


def make_unit(code: str, name: str, kind: str, parent: OrgUnit | None = None) -> OrgUnit:
    return OrgUnit.objects.create(code=code, name=name, kind=kind, parent=parent)


def make_staff(username: str, name: str, role: str, unit: OrgUnit, **user_fields: Any) -> Staff:
    user = User.objects.create_user(username=username, password=PASSWORD, **user_fields)
    staff = Staff.objects.create(user=user, employee_no=username, name=name)
    Assignment.objects.create(staff=staff, unit=unit, role=role, starts_on=START)
    return staff


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


@dataclass
class WsgiResponse:
    """What ``call_wsgi`` got back, answering like the test client's responses."""

    status_code: int
    headers: dict[str, str]
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)

    def __getitem__(self, name: str) -> str:
        return self.headers[name]


@cache
def _wsgi_application() -> Any:
    from branchserve.core.handlers import wsgi_application

    return wsgi_application(settle_gc=False)


def call_wsgi(
    method: str,
    path: str,
    *,
    body: bytes = b"",
    cookies: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> WsgiResponse:
    """One request through the WSGI application ``branchserve.wsgi`` serves, as a WSGI server
    sends it (the test process's garbage collector left as it is)."""
    application = _wsgi_application()
    path, _sep, query = path.partition("?")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method.upper(),
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "testserver",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if cookies:
        environ["HTTP_COOKIE"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    started: list[Any] = []
    with keeping_the_test_connection():
        result = application(environ, lambda s, h, e=None: started.append((s, h)))
        try:
            content = b"".join(result)
        finally:
            getattr(result, "close", lambda: None)()
    status, header_list = started[0]
    return WsgiResponse(int(status.split()[0]), dict(header_list), content)


class BaseTestCase(TestCase):
    """One organisation for every test; ``self.<username>`` is the ``User``.

    ``api_through_wsgi = True`` sends ``self.api``'s requests through the WSGI application (its
    direct routes included: ``core/handlers.py``) instead of Django's test client.
    """

    api_through_wsgi: ClassVar[bool] = False

    province: OrgUnit
    business_department: OrgUnit
    sb1: OrgUnit
    sb2: OrgUnit
    sb3: OrgUnit
    o11: OrgUnit
    o12: OrgUnit
    o21: OrgUnit
    o31: OrgUnit
    c11_1: Counter
    c11_2: Counter
    c12_1: Counter
    c21_1: Counter
    alice: User
    bob: User
    carol: User
    lily: User
    charlie: User
    dora: User
    erin: User
    frank: User
    admin: User
    nobody: User

    @classmethod
    def setUpTestData(cls) -> None:
        cls.province = make_unit("PRV", "示范省分行", UnitKind.PROVINCE)
        cls.business_department = make_unit(
            "BD", "营业部", UnitKind.BUSINESS_DEPARTMENT, cls.province
        )
        cls.sb1 = make_unit("SB1", "城南支行", UnitKind.SUB_BRANCH, cls.province)
        cls.sb2 = make_unit("SB2", "城北支行", UnitKind.SUB_BRANCH, cls.province)
        cls.sb3 = make_unit("SB3", "城东支行", UnitKind.SUB_BRANCH, cls.business_department)
        cls.o11 = make_unit("O11", "城南支行营业室", UnitKind.OUTLET, cls.sb1)
        cls.o12 = make_unit("O12", "南湖分理处", UnitKind.OUTLET, cls.sb1)
        cls.o21 = make_unit("O21", "城北支行营业室", UnitKind.OUTLET, cls.sb2)
        cls.o31 = make_unit("O31", "东门分理处", UnitKind.OUTLET, cls.sb3)
        cls.c11_1 = Counter.objects.create(outlet=cls.o11, code="O11-1", number=1)
        cls.c11_2 = Counter.objects.create(outlet=cls.o11, code="O11-2", number=2)
        cls.c12_1 = Counter.objects.create(outlet=cls.o12, code="O12-1", number=1)
        cls.c21_1 = Counter.objects.create(outlet=cls.o21, code="O21-1", number=1)
        people = [
            ("alice", "李爱丽", Role.OUTLET_HEAD, cls.o11),
            ("bob", "王博", Role.TELLER, cls.o11),
            ("carol", "陈可", Role.TELLER, cls.o12),
            ("lily", "刘丽", Role.LOBBY_MANAGER, cls.o11),
            ("charlie", "赵强", Role.OUTLET_HEAD, cls.o21),
            ("dora", "孙多", Role.SUB_BRANCH_PRESIDENT, cls.sb1),
            ("erin", "周琳", Role.PROVINCE_SERVICE_MANAGER, cls.province),
            ("frank", "吴凡", Role.AUDITOR, cls.province),
            ("admin", "郑安", Role.SYSTEM_ADMIN, cls.province),
        ]
        for username, name, role, unit in people:
            staff = make_staff(username, name, role, unit)
            setattr(cls, username, staff.user)
        User.objects.filter(username="admin").update(is_staff=True)
        cls.nobody = User.objects.create_user(username="nobody", password=PASSWORD)

    def client_for(self, user: User | None) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    def api(
        self,
        method: str,
        url: str,
        *,
        user: User | None = None,
        token: str | None = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """Call the JSON API as ``user`` (session) and/or a device ``token``."""
        client = self.client_for(user)
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Device {token}"
        if self.api_through_wsgi:
            # As the pages send it: the session, and the CSRF token in a cookie and a header.
            csrf = "T" * 32
            cookies = {settings.CSRF_COOKIE_NAME: csrf}
            session = client.cookies.get(settings.SESSION_COOKIE_NAME)
            if session is not None:
                cookies[session.key] = session.value
            return call_wsgi(
                method,
                url,
                body=b"" if data is None else json.dumps(data).encode(),
                cookies=cookies,
                headers={"X-CSRFToken": csrf, **all_headers},
            )
        kwargs: dict[str, Any] = {"headers": all_headers}
        if data is not None:
            kwargs["data"] = json.dumps(data)
            kwargs["content_type"] = "application/json"
        return getattr(client, method.lower())(url, **kwargs)

    def device_token(self, kind: str, outlet: OrgUnit, counter: Counter | None = None) -> str:
        """A paired device of ``kind`` and its token."""
        from branchserve.devices.actions import do_create_device, do_pair_device

        _device, code = do_create_device(
            kind=kind, outlet=outlet, counter=counter, name=f"test {kind}", by=None
        )
        _device, token = do_pair_device(code)
        return token


Builder = Callable[[Any], Any]


@dataclass
class ScopeCase:
    """How one endpoint is scoped.

    ``url`` builds the concrete URL from the test case; ``route`` is the URL pattern it must
    resolve to (what the coverage test counts). ``inside`` may do it (``ok``); ``outside``
    is in the same role elsewhere and gets 404; ``forbidden`` sees the row but may not act
    (403). ``device``/``wrong_device`` build device tokens for device endpoints: a token of
    another outlet or counter gets 404.
    """

    name: str
    method: str
    route: str
    url: Builder
    inside: str | None
    outside: str | None = None
    forbidden: str | None = None
    ok: int = 200
    data: Builder | dict[str, Any] | None = None
    device: Builder | None = None
    wrong_device: Builder | None = None
    anonymous: int | None = None  # expected status without any credentials (default 401/302)
    headers: dict[str, str] = field(default_factory=dict)


REGISTRY: list[ScopeCase] = []


class ScopingTestMixin:
    """Mixed into a ``BaseTestCase`` subclass with ``cases = [ScopeCase(...)]``."""

    cases: ClassVar[list[ScopeCase]] = []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "cases" in cls.__dict__:  # not again for a subclass running the same cases
            REGISTRY.extend(cls.cases)

    def _call(self, case: ScopeCase, user: str | None, token: str | None) -> Any:
        tc: Any = self
        url = case.url(tc)
        data = case.data(tc) if callable(case.data) else case.data
        user_obj = getattr(tc, user) if user else None
        if url.startswith("/api/"):
            return tc.api(
                case.method, url, user=user_obj, token=token, data=data, headers=case.headers
            )
        client = tc.client_for(user_obj)
        headers = dict(case.headers)
        if token:
            headers["Authorization"] = f"Device {token}"
        if case.method.upper() == "GET":
            return client.get(url, headers=headers)
        return getattr(client, case.method.lower())(url, data=data or {}, headers=headers)

    def _attempt(self, case: ScopeCase, user: str | None, token: str | None) -> int:
        """Status of one call, with everything it wrote rolled back."""
        with transaction.atomic():
            status = int(self._call(case, user, token).status_code)
            transaction.set_rollback(True)
        return status

    def test_scoping(self) -> None:
        tc: Any = self
        for case in self.cases:
            with tc.subTest(case=case.name):
                url = case.url(tc)
                tc.assertEqual(resolve(url.split("?")[0]).route, case.route, "route mismatch")
                token = case.device(tc) if case.device else None
                anonymous = case.anonymous or (401 if url.startswith("/api/") else 302)
                tc.assertEqual(self._attempt(case, None, None), anonymous, "anonymous")
                if case.wrong_device:
                    wrong = case.wrong_device(tc)
                    tc.assertEqual(self._attempt(case, case.inside, wrong), 404, "wrong device")
                if case.outside:
                    tc.assertEqual(self._attempt(case, case.outside, token), 404, "outside")
                if case.forbidden:
                    tc.assertEqual(self._attempt(case, case.forbidden, token), 403, "forbidden")
                tc.assertEqual(self._attempt(case, case.inside, token), case.ok, "inside")
