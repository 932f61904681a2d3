"""Login throttling with django-axes: failures are counted per (user name, client address) pair in the
database, so every web process sees the same count and one process's race cannot let extra guesses through.

After SIRENE_LOGIN_FAILURE_LIMIT failed logins of one user name from one client address, that pair is
refused (429, German message, Retry-After) for SIRENE_LOGIN_FAILURE_WINDOW_SECONDS after its last failure;
a successful login clears the pair. Nothing is counted per user name alone or per address alone: an
attacker elsewhere cannot lock the real user out (the v0.2 lockout-DoS, review finding 5), and failures
with made-up names from an office NAT lock nobody else out. The attacker is slowed to that many guesses
per window for each pair. Behind a TLS proxy the client address is the one the proxy forwards
(X-Forwarded-For, trusted only from SIRENE_TRUSTED_PROXY: see `sirene serve`).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def username_of(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The name the count is kept under: trimmed and case-folded, so "Anna " and "anna" are one pair."""
    raw = (credentials or {}).get("username") or request.POST.get("username", "")
    return str(raw).strip().lower()[:150]


def cool_off(request: HttpRequest | None = None) -> dt.timedelta:
    return dt.timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """The login page again, status 429, with the German (or English) message and Retry-After."""
    wait = settings.LOGIN_FAILURE_WINDOW_SECONDS
    message = _("Too many failed logins. Please try again in %(minutes)d minutes.") % {
        "minutes": max(1, math.ceil(wait / 60))
    }
    context = {"form": AuthenticationForm(request), "throttled": message, "next": request.POST.get("next", "")}
    response = render(request, "accounts/login.html", context, status=429)
    response["Retry-After"] = str(wait)
    return response


class ThrottledLoginView(auth_views.LoginView):
    """Django's login view; django-axes (its backend and middleware) refuses a pair over the limit."""

    template_name = "accounts/login.html"
