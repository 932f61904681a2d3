"""Who is calling the API: a bearer token first, else the web UI's own session (with CSRF).

The order matters. A request that carries an `Authorization` header is decided by the token alone:
valid → that user, anything else → 401 (even with a session cookie next to it). Only a request without
the header falls back to the session, and only a logged-in session is held to the CSRF check, so a
POST with no credentials at all answers 401 "missing token", not 403 "CSRF check failed".
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import AuthenticationError, HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from sirene.accounts.services import authenticate_token


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <token>`; tokens are stored hashed (see accounts.models.ApiToken)."""

    def __call__(self, request: HttpRequest) -> Any:
        # Memoised per request: the permission check (accounts.permissions) authenticates first.
        cached = getattr(request, "_sirene_token_user", None)
        if cached is not None:
            return cached
        header = request.headers.get("Authorization")
        if header is None:
            return None  # no token offered: the session may decide
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError()
        user = self.authenticate(request, token.strip())
        if user is None:
            raise AuthenticationError()
        request._sirene_token_user = user  # type: ignore[attr-defined]
        return user

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = authenticate_token(token)
        if user is None:
            return None
        request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """The logged-in web session; CSRF is checked only when the session authenticates the request."""

    param_name: str = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if self.csrf and not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise HttpError(403, "CSRF check failed: send the X-CSRFToken header with the session")
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if key is not None and user is not None and user.is_authenticated:
            return user
        return None


# API clients use tokens; the web UI's own fetches may use the logged-in session (with CSRF).
api_auth = [TokenAuth(), SessionAuth()]
