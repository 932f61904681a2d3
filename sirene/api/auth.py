from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from sirene.accounts.services import authenticate_token


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <token>`; tokens are stored hashed (see accounts.models.ApiToken)."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = authenticate_token(token)
        if user is None:
            return None
        request.user = user
        return user


# API clients use tokens; the web UI's own fetches may use the logged-in session (with CSRF).
api_auth = [TokenAuth(), SessionAuth()]
