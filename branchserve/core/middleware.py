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
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.crypto import constant_time_compare
from django.utils.functional import SimpleLazyObject

from branchserve.org.scoping import auth_cache_enabled, cached_user, remember_user


class LanguageCookieMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", language)
        return response


def cached_get_user(request: HttpRequest) -> Any:
    """``django.contrib.auth.get_user``, with the user (and staff, scope) from the cache.

    The session is read as usual (so a logout or an expired session takes effect at once), and
    a cached user counts only if active and if the session's password hash still matches (a
    password change, which also invalidates the entry, logs other sessions out). Anything
    unusual falls back to Django's own ``get_user``.
    """
    if not auth_cache_enabled():
        return auth.get_user(request)
    try:
        user_id = request.session[auth.SESSION_KEY]
        backend_path = request.session[auth.BACKEND_SESSION_KEY]
    except KeyError:
        return auth.get_user(request)
    user, versions = cached_user(user_id)
    if user is not None:
        session_hash = request.session.get(auth.HASH_SESSION_KEY)
        if (
            backend_path in settings.AUTHENTICATION_BACKENDS
            and user.is_active
            and session_hash
            and constant_time_compare(session_hash, user.get_session_auth_hash())
        ):
            return user
    user = auth.get_user(request)
    if user.is_authenticated and str(user.pk) == str(user_id):
        remember_user(user, versions)
    return user


class AuthenticationMiddleware(DjangoAuthenticationMiddleware):
    """Django's, with ``request.user`` loaded through the cache (``cached_get_user``)."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: cached_get_user(request))  # type: ignore[assignment]
