"""Every rectification route: who gets 200, 404 (outside their scope) and 403 (in scope but not
allowed)."""

from branchserve.core.testing import ScopeCase, ScopingTestMixin
from branchserve.rectification.tests.base import RectificationTestCase

API = "/api/v1/rectifications"


def url(attr, suffix=""):
    return lambda tc: f"{API}/{getattr(tc, attr).public_id}{suffix}"


def page(attr, suffix=""):
    return lambda tc: f"/rectification/{getattr(tc, attr).public_id}/{suffix}"


class RectificationScopingTest(ScopingTestMixin, RectificationTestCase):
    cases = [
        ScopeCase(
            name="list",
            method="GET",
            route="api/v1/rectifications",
            url=lambda tc: API,
            inside="alice",
        ),
        ScopeCase(
            name="detail",
            method="GET",
            route="api/v1/rectifications/<public_id>",
            url=url("r_open"),
            inside="alice",
            outside="charlie",  # outlet head of another outlet
        ),
        ScopeCase(
            name="start",
            method="POST",
            route="api/v1/rectifications/<public_id>/start",
            url=url("r_open", "/start"),
            inside="alice",
            outside="charlie",
            forbidden="lily",  # lobby manager: sees her outlet's, does not handle them
            data={"note": "开始处理"},
        ),
        ScopeCase(
            name="step",
            method="POST",
            route="api/v1/rectifications/<public_id>/steps",
            url=url("r_progress", "/steps"),
            inside="alice",
            outside="charlie",
            forbidden="lily",
            data={"step": "note", "note": "已约客户面谈"},
        ),
        ScopeCase(
            name="evidence",
            method="POST",
            route="api/v1/rectifications/<public_id>/evidence",
            url=url("r_progress", "/evidence"),
            inside="alice",
            outside="charlie",
            forbidden="lily",
            data={"text": "现场照片说明"},
            ok=201,
        ),
        ScopeCase(
            name="submit",
            method="POST",
            route="api/v1/rectifications/<public_id>/submit",
            url=url("r_ready", "/submit"),
            inside="alice",
            outside="charlie",
            forbidden="lily",
            data={"root_cause": "高峰时段窗口开放不足", "result": "增开弹性窗口"},
        ),
        ScopeCase(
            name="verify",
            method="POST",
            route="api/v1/rectifications/<public_id>/verify",
            url=url("r_submitted", "/verify"),
            inside="dora",  # sub-branch president
            outside="charlie",
            forbidden="bob",  # the owner, a teller: no verifying role
            data={"note": "现场核实"},
        ),
        ScopeCase(
            name="reject",
            method="POST",
            route="api/v1/rectifications/<public_id>/reject",
            url=url("r_submitted", "/reject"),
            inside="erin",  # province service manager
            outside="charlie",
            forbidden="alice",  # outlet head: handles, does not verify
            data={"note": "证据不足"},
        ),
        ScopeCase(
            name="cancel",
            method="POST",
            route="api/v1/rectifications/<public_id>/cancel",
            url=url("r_open", "/cancel"),
            inside="dora",
            outside="charlie",
            forbidden="alice",
            data={"reason": "重复登记"},
        ),
        # Pages.
        ScopeCase(
            name="page: list",
            method="GET",
            route="rectification/",
            url=lambda tc: "/rectification/",
            inside="alice",
        ),
        ScopeCase(
            name="page: detail",
            method="GET",
            route="rectification/<str:public_id>/",
            url=page("r_open"),
            inside="alice",
            outside="charlie",
        ),
        ScopeCase(
            name="page: act",
            method="POST",
            route="rectification/<str:public_id>/act/<slug:action>/",
            url=page("r_open", "act/start/"),
            inside="alice",
            outside="charlie",
            forbidden="lily",
            ok=302,
        ),
        ScopeCase(
            name="page: evidence file",
            method="GET",
            route="rectification/<str:public_id>/evidence/<int:evidence_id>/",
            url=lambda tc: f"/rectification/{tc.r_ready.public_id}/evidence/{tc.evidence.pk}/",
            inside="alice",
            outside="charlie",
        ),
    ]
