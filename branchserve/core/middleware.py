"""Request middleware: the language cookie, and the logged-in user through the cache.

Language choice: Chinese unless the user picked another language with the switch.

Django's LocaleMiddleware also follows the browser's Accept-Language header; a bank's terminals
and kiosks often run browsers set to English, and the product is Chinese first, so only the
language cookie set by the switch (``/i18n/setlang/``) changes the language.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.middleware import (
    AuthenticationMiddleware as DjangoAuthenticationMiddleware,
)
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.crypto import constant_time_compare
from django.utils.deprecation import MiddlewareMixin
from django.utils.functional import SimpleLazyObject

from branchserve.org.scoping import (
    auth_cache_enabled,
    cached_user,
    cached_user_and,
    remember_user,
    shared_cache,
)


class LanguageCookieMiddleware(MiddlewareMixin):
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        super().__init__(get_response)
        self.supported = {code for code, _name in settings.LANGUAGES}

    def process_request(self, request: HttpRequest) -> None:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response


# Session key → its user's id, learnt from earlier requests in this process. A session key
# belongs to one user for its whole life (Django makes a new key at login), so a counter
# terminal's next request can read its session and its cached user in one Redis round trip;
# the session read still decides (a hint that no longer matches is ignored).
_SESSION_USERS: dict[str, str] = {}
_SESSION_USERS_MAX = 10_000


def _read_session_with_user(session: Any) -> tuple[Any | None, tuple[int, int]] | None:
    """Load a cached-db session from the cache together with the cached user its key is
    known to belong to: that user and their versions (``cached_user``), or None when this
    process does not know the key or the session is not one to read this way."""
    key = session.session_key
    user_id = _SESSION_USERS.get(key) if key else None
    if (
        user_id is None
        or hasattr(session, "_session_cache")  # already loaded
        or getattr(session, "_cache", None) is not shared_cache()
    ):
        return None
    user, versions, (data,) = cached_user_and(user_id, [session.cache_key])
    if not isinstance(data, dict):
        return None  # not in the cache: the session loads itself (from the database)
    # What cached_db's ``load`` would return from the cache (Django's SessionBase keeps the
    # loaded data in ``_session_cache``).
    session._session_cache = data
    if str(data.get(auth.SESSION_KEY)) != user_id:
        return None
    return user, versions


def cached_get_user(request: HttpRequest) -> Any:
    """``django.contrib.auth.get_user``, with the user (and staff, scope) from the cache.

    The session is read as usual (so a logout or an expired session takes effect at once), and
    a cached user counts only if active and if the session's password hash still matches (a
    password change, which also invalidates the entry, logs other sessions out). Anything
    unusual falls back to Django's own ``get_user``.
    """
    if request.session.session_key is None:  # no session cookie: what get_user would say
        return AnonymousUser()
    if not auth_cache_enabled():
        return auth.get_user(request)
    prefetched = _read_session_with_user(request.session)
    try:
        user_id = request.session[auth.SESSION_KEY]
        backend_path = request.session[auth.BACKEND_SESSION_KEY]
    except KeyError:
        return auth.get_user(request)
    user, versions = prefetched if prefetched is not None else cached_user(user_id)
    if user is not None:
        session_hash = request.session.get(auth.HASH_SESSION_KEY)
        if (
            backend_path in settings.AUTHENTICATION_BACKENDS
            and user.is_active
            and session_hash
            and constant_time_compare(session_hash, user.get_session_auth_hash())
        ):
            _remember_session_user(request.session.session_key, user_id)
            return user
    user = auth.get_user(request)
    if user.is_authenticated and str(user.pk) == str(user_id):
        remember_user(user, versions)
    return user


def _remember_session_user(session_key: str | None, user_id: Any) -> None:
    if session_key is None or session_key in _SESSION_USERS:
        return
    if len(_SESSION_USERS) >= _SESSION_USERS_MAX:
        _SESSION_USERS.clear()
    _SESSION_USERS[session_key] = str(user_id)


class AuthenticationMiddleware(DjangoAuthenticationMiddleware):
    """Django's, with ``request.user`` loaded through the cache (``cached_get_user``)."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: cached_get_user(request))  # type: ignore[assignment]
