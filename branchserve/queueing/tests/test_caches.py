"""The hot path's per-process caches (device tokens, outlet configuration) save queries, and
a change made through the app takes effect at once. A ``TransactionTestCase``: inside a
``TestCase``'s transaction nothing is cached."""

from unittest import mock, skipUnless

from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import caches
from django.db import connection
from django.test import Client, TransactionTestCase, override_settings
from django.test.utils import CaptureQueriesContext

from branchserve.core import middleware
from branchserve.core.testing import make_staff, make_unit
from branchserve.devices.actions import (
    authenticate_token,
    do_create_device,
    do_pair_device,
    do_revoke_device,
    do_rotate_token,
    forget_cached_tokens,
)
from branchserve.devices.choices import DeviceKind
from branchserve.org.choices import Role, UnitKind
from branchserve.org.models import Assignment
from branchserve.queueing import actions
from branchserve.queueing.config import business_types_for, clear_cache
from branchserve.queueing.models import BusinessType, Ticket

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


class CachesTest(TransactionTestCase):
    def setUp(self):
        forget_cached_tokens()
        clear_cache()
        province = make_unit("PRV", "示范省分行", UnitKind.PROVINCE)
        sub_branch = make_unit("SB1", "城南支行", UnitKind.SUB_BRANCH, province)
        self.outlet = make_unit("O11", "城南支行营业室", UnitKind.OUTLET, sub_branch)
        self.cash = BusinessType.objects.create(
            unit=province, code="A", name="个人现金", prefix="A", order=1
        )
        BusinessType.objects.create(unit=province, code="B", name="个人非现金", prefix="B", order=2)
        _device, code = do_create_device(
            kind=DeviceKind.KIOSK, outlet=self.outlet, counter=None, name="取号机", by=None
        )
        self.device, self.token = do_pair_device(code)

    def test_token_cached_until_revoked(self):
        self.assertEqual(authenticate_token(self.token), self.device)
        with CaptureQueriesContext(connection) as queries:
            self.assertEqual(authenticate_token(self.token), self.device)
        self.assertEqual(len(queries), 0)
        do_revoke_device(self.device, None)
        self.assertIsNone(authenticate_token(self.token))

    def test_rotated_token_stops_at_once(self):
        self.assertIsNotNone(authenticate_token(self.token))
        new = do_rotate_token(self.device)
        self.assertIsNone(authenticate_token(self.token))
        self.assertEqual(authenticate_token(new), self.device)

    def test_business_types_cached_until_changed(self):
        self.assertEqual(list(business_types_for(self.outlet)), ["A", "B"])
        with CaptureQueriesContext(connection) as queries:
            self.assertEqual(list(business_types_for(self.outlet)), ["A", "B"])
        self.assertEqual(len(queries), 0)
        self.cash.is_active = False
        self.cash.save()
        self.assertEqual(list(business_types_for(self.outlet)), ["B"])
        with self.assertRaises(actions.ActionError) as refused:
            actions.do_issue_ticket(self.outlet, "A")
        self.assertEqual(refused.exception.code, "unknown_business_type")
        self.assertFalse(Ticket.objects.exists())


@override_settings(
    CACHES={  # as with REDIS_URL, a shared cache in one process
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "shared": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "auth-cache-tests",
        },
    },
    SESSION_ENGINE="django.contrib.sessions.backends.cached_db",
    SESSION_CACHE_ALIAS="shared",
    BRANCHSERVE_AUTH_CACHE=True,
)
class AuthCacheTest(TransactionTestCase):
    """The logged-in user, staff and scope come from the cache (as with Redis in production),
    and every change that matters takes effect on the very next request."""

    AUTH_TABLES = (
        'FROM "auth_user"',
        'FROM "org_staff"',
        'FROM "org_assignment"',
        'FROM "django_session"',
    )

    def setUp(self):
        caches["shared"].clear()
        province = make_unit("PRV", "示范省分行", UnitKind.PROVINCE)
        sub_branch = make_unit("SB1", "城南支行", UnitKind.SUB_BRANCH, province)
        self.outlet = make_unit("O11", "城南支行营业室", UnitKind.OUTLET, sub_branch)
        self.other = make_unit("O12", "城北支行营业室", UnitKind.OUTLET, sub_branch)
        self.staff = make_staff("lily", "李丽", Role.LOBBY_MANAGER, self.outlet)
        self.client.force_login(self.staff.user, backend=MODEL_BACKEND)

    def queue(self, code="O11"):
        return self.client.get(f"/api/v1/outlets/{code}/queue")

    def auth_queries(self, queries):
        return [q["sql"] for q in queries if any(t in q["sql"] for t in self.AUTH_TABLES)]

    def test_second_request_loads_no_user_staff_or_scope(self):
        self.assertEqual(self.queue().status_code, 200)
        with CaptureQueriesContext(connection) as queries:
            self.assertEqual(self.queue().status_code, 200)
        self.assertEqual(self.auth_queries(queries), [])
        self.assertEqual(self.queue("O12").status_code, 404)

    def shared_cache_reads(self, reads):
        """Records the shared cache's reads (each a Redis round trip in production) in
        ``reads``, each as the list of its keys."""
        cache = caches["shared"]
        get, get_many, inside = cache.get, cache.get_many, []

        def recording_get(key, *args, **kwargs):
            if not inside:  # the local-memory cache's get_many calls get
                reads.append([key])
            return get(key, *args, **kwargs)

        def recording_get_many(keys, *args, **kwargs):
            reads.append(list(keys))
            inside.append(True)
            try:
                return get_many(keys, *args, **kwargs)
            finally:
                inside.pop()

        patches = {"get": recording_get, "get_many": recording_get_many}
        return mock.patch.multiple(cache, **patches)

    def test_session_and_user_read_together_once_known(self):
        for _ in range(2):  # loads the user, then learns whose session this is
            self.assertEqual(self.queue().status_code, 200)
        reads = []
        with self.shared_cache_reads(reads):
            self.assertEqual(self.queue().status_code, 200)
        session_key = self.client.cookies["sessionid"].value
        auth_reads = [keys for keys in reads if any("auth" in k or session_key in k for k in keys)]
        self.assertEqual(len(auth_reads), 1, reads)  # one round trip for session and user
        self.assertTrue(any(key.endswith(session_key) for key in auth_reads[0]))

    def test_wrong_session_hint_is_ignored(self):
        for _ in range(2):
            self.assertEqual(self.queue().status_code, 200)
        other = make_staff("omar", "欧马", Role.OUTLET_HEAD, self.other)
        omar = Client()
        omar.force_login(other.user, backend=MODEL_BACKEND)
        self.assertEqual(omar.get("/api/v1/outlets/O12/queue").status_code, 200)  # cached
        session_key = self.client.cookies["sessionid"].value
        middleware._SESSION_USERS[session_key] = str(other.user_id)  # as if it were omar's
        self.assertEqual(self.queue().status_code, 200)  # still lily: O11, not O12
        self.assertEqual(self.queue("O12").status_code, 404)

    def test_moved_assignment_takes_effect_at_once(self):
        self.assertEqual(self.queue().status_code, 200)
        assignment = Assignment.objects.get(staff=self.staff)
        assignment.unit = self.other
        assignment.save()
        self.assertEqual(self.queue().status_code, 404)
        self.assertEqual(self.queue("O12").status_code, 200)

    def test_deactivated_staff_sees_nothing_at_once(self):
        self.assertEqual(self.queue().status_code, 200)
        self.staff.is_active = False
        self.staff.save()
        self.assertEqual(self.queue().status_code, 404)

    def test_password_change_ends_other_sessions(self):
        self.assertEqual(self.queue().status_code, 200)
        user = User.objects.get(pk=self.staff.user_id)
        user.set_password("a new password 2026")
        user.save()
        self.assertEqual(self.queue().status_code, 401)

    def test_deactivated_user_is_logged_out(self):
        self.assertEqual(self.queue().status_code, 200)
        user = User.objects.get(pk=self.staff.user_id)
        user.is_active = False
        user.save()
        self.assertEqual(self.queue().status_code, 401)

    def test_logout_takes_effect_and_session_survives_without_the_cache(self):
        self.assertEqual(self.queue().status_code, 200)
        caches["shared"].clear()  # a restarted Redis: the session is still in the database
        self.assertEqual(self.queue().status_code, 200)
        self.client.logout()
        self.assertEqual(self.queue().status_code, 401)

    def test_unit_renamed_path_takes_effect_at_once(self):
        self.assertEqual(self.queue().status_code, 200)
        self.outlet.parent = self.other.parent
        self.outlet.code = "O13"
        self.outlet.save()
        self.assertEqual(self.queue("O13").status_code, 200)


@skipUnless(settings.REDIS_URL, "needs Redis (REDIS_URL)")
@override_settings(
    CACHES={  # the production cache: Redis, shared by every process
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "shared": {
            "BACKEND": "branchserve.core.cache.RedisCache",
            "LOCATION": settings.REDIS_URL,
            "KEY_PREFIX": "branchserve-auth-cache-tests",
        },
    },
)
class RedisAuthCacheTest(AuthCacheTest):
    """Every test of ``AuthCacheTest``, on Redis (reads on the cache's direct connection)."""

    def test_reads_survive_a_closed_connection(self):
        self.assertEqual(self.queue().status_code, 200)
        client = caches["shared"]._cache
        (direct,) = client._direct.values()
        own_id = direct.command("CLIENT", "ID")
        client.get_client(write=True).client_kill_filter(_id=own_id)  # as a restarted Redis
        self.assertEqual(self.queue().status_code, 200)
        self.assertNotEqual(direct.command("CLIENT", "ID"), own_id)
