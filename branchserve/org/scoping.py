"""Scoping, in one place.

Every scoped model uses ``ScopedQuerySet`` and names how it hangs off the organisation tree:

* ``scope_path`` — the lookup to the materialised path of the unit the row belongs to
  (``"outlet__path"``);
* ``scope_staff`` (optional) — the lookup to the staff member whose own work the row is
  (``"teller"``). Tellers see only their own rows of such models, wherever they worked;
  of models without it they see their outlet's rows.

``Model.objects.for_user(user)`` returns the rows the user may see. Views and API endpoints call
``get_in_scope_or_404`` and ``require_permission``; nothing else decides visibility.

The logged-in user, their ``Staff`` row and today's scope are kept in the shared cache (Redis)
when ``settings.BRANCHSERVE_AUTH_CACHE`` is on (``cached_user`` / ``remember_user``, used by
``branchserve.core.middleware.AuthenticationMiddleware``): a counter terminal's every request
would otherwise load them afresh. Invalidation is exact, by version numbers: saving or deleting
a user, a staff member or an assignment bumps that user's version, saving or deleting an
organisation unit bumps a global one (both at once and again when the change commits), and an
entry counts only while both versions and the date it was made for still match. The session
itself is still checked on every request (logout, expiry), and so is its password hash.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Self, TypeVar

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import connection, models, transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.http import Http404
from django.utils import timezone

from branchserve.org.choices import Role
from branchserve.org.permissions import roles_with

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    User = AbstractBaseUser | AnonymousUser

M = TypeVar("M", bound=models.Model)

# Roles that see their own work only, not the whole unit.
OWN_WORK_ROLES = frozenset({Role.TELLER})


@dataclass(frozen=True)
class Scope:
    """What one user may see today: (unit path, role) pairs from current assignments."""

    staff_id: int | None
    grants: tuple[tuple[str, str], ...] = ()
    everything: bool = False
    roles: frozenset[str] = field(default_factory=frozenset)

    @property
    def unit_paths(self) -> list[str]:
        return [path for path, role in self.grants if role not in OWN_WORK_ROLES]

    @property
    def own_paths(self) -> list[str]:
        return [path for path, role in self.grants if role in OWN_WORK_ROLES]

    def roles_at(self, path: str) -> set[str]:
        """Roles the user holds at ``path`` or above it."""
        return {role for grant, role in self.grants if path.startswith(grant)}

    def can(self, permission: str, path: str | None = None) -> bool:
        if self.everything:
            return True
        allowed = roles_with(permission)
        if path is None:
            return bool(self.roles & allowed)
        return bool(self.roles_at(path) & allowed)

    def q(self, model: type[models.Model]) -> Q | None:
        """The filter for ``model``; None means no restriction."""
        if self.everything:
            return None
        path_lookup: str = model.scope_path  # type: ignore[attr-defined]
        staff_lookup: str | None = getattr(model, "scope_staff", None)
        condition = Q(pk__in=[])
        for path in self.unit_paths:
            condition |= Q(**{f"{path_lookup}__startswith": path})
        if self.staff_id is not None and self.own_paths:
            if staff_lookup:
                condition |= Q(**{staff_lookup: self.staff_id})
            else:
                for path in self.own_paths:
                    condition |= Q(**{f"{path_lookup}__startswith": path})
        return condition


def scope_for(user: Any, on: dt.date | None = None) -> Scope:
    """The user's scope, cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False):
        return Scope(staff_id=None)
    cached: Scope | None = getattr(user, "_branchserve_scope", None)
    if cached is not None and on is None:
        return cached
    if user.is_superuser:
        scope = Scope(staff_id=None, everything=True, roles=frozenset(Role))
    else:
        from branchserve.org.models import Assignment

        staff = getattr(user, "staff", None)
        if staff is None or not staff.is_active:
            scope = Scope(staff_id=None)
        else:
            rows = (
                Assignment.objects.current(on or timezone.localdate())
                .filter(staff=staff)
                .values_list("unit__path", "role")
            )
            grants = tuple(sorted(rows))
            scope = Scope(
                staff_id=staff.pk, grants=grants, roles=frozenset(role for _, role in grants)
            )
    if on is None:
        user._branchserve_scope = scope
    return scope


class ScopedQuerySet(models.QuerySet[M]):
    def for_user(self, user: Any) -> Self:
        condition = scope_for(user).q(self.model)
        if condition is None:
            return self
        qs = self.filter(condition)
        if "__" in getattr(self.model, "scope_path", "") and _crosses_many(self.model):
            qs = qs.distinct()
        return qs

    def restrict(self, user: Any, permission: str) -> Self:
        """Rows in scope where the user also holds ``permission``."""
        scope = scope_for(user)
        if scope.everything:
            return self
        allowed = roles_with(permission)
        narrowed = Scope(
            staff_id=scope.staff_id,
            grants=tuple((p, r) for p, r in scope.grants if r in allowed),
            roles=scope.roles & allowed,
        )
        condition = narrowed.q(self.model)
        assert condition is not None
        return (
            self.filter(condition).distinct()
            if _crosses_many(self.model)
            else self.filter(condition)
        )


def _crosses_many(model: type[models.Model]) -> bool:
    """Whether the scope path goes through a reverse or many relation (needs DISTINCT)."""
    opts = model._meta
    for part in model.scope_path.split("__")[:-1]:  # type: ignore[attr-defined]
        field_ = opts.get_field(part)
        if field_.one_to_many or field_.many_to_many:
            return True
        opts = field_.related_model._meta  # type: ignore[union-attr]
    return False


def unit_path_of(obj: models.Model) -> str:
    """The materialised path of the unit ``obj`` belongs to, following its ``scope_path``."""
    value: Any = obj
    for part in obj.scope_path.split("__")[:-1]:  # type: ignore[attr-defined]
        value = getattr(value, part)
    return str(value.path)


def get_in_scope_or_404(user: Any, queryset: models.QuerySet[M], **lookup: Any) -> M:
    """The one row matching ``lookup`` that the user may see, else 404 (never 403: no leaks)."""
    if isinstance(queryset, models.Manager):
        queryset = queryset.all()
    if not isinstance(queryset, ScopedQuerySet):
        raise TypeError(f"{queryset.model.__name__} is not a scoped model")
    qs = queryset.for_user(user)
    try:
        return qs.get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise Http404 from None


def require_permission(user: Any, permission: str, obj: models.Model | None = None) -> None:
    """403 unless the user holds ``permission`` where ``obj`` is (or anywhere, without obj)."""
    path = unit_path_of(obj) if obj is not None else None
    if not scope_for(user).can(permission, path):
        from branchserve.audit.actions import record_denied

        record_denied(user, permission, obj)
        raise PermissionDenied(permission)


# -- the logged-in user, staff and scope, cached across requests --------------------------------

AUTH_CACHE_PREFIX = "branchserve:auth:"
_GLOBAL_VERSION = AUTH_CACHE_PREFIX + "units"


def _entry_key(user_id: Any) -> str:
    return f"{AUTH_CACHE_PREFIX}user:{user_id}"


def _version_key(user_id: Any) -> str:
    return f"{AUTH_CACHE_PREFIX}version:{user_id}"


def shared_cache() -> BaseCache:
    """The cache every process shares: ``"shared"`` (Redis) if configured, else ``"default"``."""
    return caches["shared" if "shared" in settings.CACHES else "default"]


def auth_cache_enabled() -> bool:
    """Whether to use the cache: the setting is on (the cache is shared by every process) and
    we are not inside a test case's transaction (rolled back behind the cache's back)."""
    if not getattr(settings, "BRANCHSERVE_AUTH_CACHE", False):
        return False
    return not any(getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


def cached_user(user_id: Any) -> tuple[Any | None, tuple[int, int]]:
    """The cached user of ``user_id`` (with ``staff`` and today's scope loaded) or None, and
    the versions to store a freshly loaded one with (read before it is loaded)."""
    user, versions, _also = cached_user_and(user_id, [])
    return user, versions


def cached_user_and(user_id: Any, keys: list[str]) -> tuple[Any | None, tuple[int, int], list[Any]]:
    """``cached_user``, and the values of other keys of the same cache (None where missing),
    read in the same round trip."""
    wanted = [_entry_key(user_id), _version_key(user_id), _GLOBAL_VERSION, *keys]
    values = shared_cache().get_many(wanted)
    versions = (int(values.get(_GLOBAL_VERSION, 0)), int(values.get(_version_key(user_id), 0)))
    also = [values.get(key) for key in keys]
    entry = values.get(_entry_key(user_id))
    if entry is None:
        return None, versions, also
    entry_versions, day, user = entry
    if entry_versions != versions or day != timezone.localdate():
        return None, versions, also
    return user, versions, also


def remember_user(user: Any, versions: tuple[int, int]) -> None:
    """Cache ``user`` with its staff row and today's scope, under ``versions`` (see above)."""
    getattr(user, "staff", None)  # loads the relation (or notes its absence) on the instance
    day = timezone.localdate()
    scope_for(user)
    shared_cache().set(_entry_key(user.pk), (versions, day, user), timeout=24 * 3600)


def _bump(key: str) -> None:
    cache = shared_cache()
    try:
        cache.incr(key)
    except ValueError:  # not there (yet, or evicted): any value differs from the missing 0
        if not cache.add(key, 1, timeout=None):
            cache.incr(key)


def _bump_now_and_on_commit(key: str) -> None:
    # Whenever there is a shared cache, even in a process that does not read it (the setting
    # may be on only in the API workers): their entries must not outlive a change made here.
    if "shared" not in settings.CACHES and not getattr(settings, "BRANCHSERVE_AUTH_CACHE", False):
        return
    _bump(key)
    if transaction.get_connection().in_atomic_block:
        # A request that read the old rows before the commit may store them after the bump
        # above; the second bump makes such an entry stale too.
        transaction.on_commit(lambda: _bump(key))


def forget_user(user_id: Any) -> None:
    """Invalidate the cached user ``user_id``."""
    _bump_now_and_on_commit(_version_key(user_id))


def forget_all_users() -> None:
    """Invalidate every cached user (after changing users, staff, assignments or units with
    bulk ``UPDATE``s or SQL, which send no signals)."""
    _bump_now_and_on_commit(_GLOBAL_VERSION)


def _user_changed(instance: Any, **_kwargs: Any) -> None:
    forget_user(instance.pk)


def _staff_changed(instance: Any, **_kwargs: Any) -> None:
    forget_user(instance.user_id)


def _assignment_changed(instance: Any, **_kwargs: Any) -> None:
    from branchserve.org.models import Staff

    user_id = Staff.objects.filter(pk=instance.staff_id).values_list("user_id", flat=True).first()
    if user_id is not None:
        forget_user(user_id)


def _unit_changed(**_kwargs: Any) -> None:
    _bump_now_and_on_commit(_GLOBAL_VERSION)


for _sender, _receiver in (
    (settings.AUTH_USER_MODEL, _user_changed),
    ("org.Staff", _staff_changed),
    ("org.Assignment", _assignment_changed),
    ("org.OrgUnit", _unit_changed),
):
    post_save.connect(_receiver, sender=_sender, dispatch_uid=f"auth-cache-{_sender}")
    post_delete.connect(_receiver, sender=_sender, dispatch_uid=f"auth-cache-del-{_sender}")
