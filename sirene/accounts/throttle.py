"""Login throttling: after SIRENE_LOGIN_FAILURE_LIMIT failed logins for one user name (or four times as
many from one client address) within SIRENE_LOGIN_FAILURE_WINDOW_SECONDS, further attempts are refused
(429, German message) until the window has passed. A successful login clears the user name's count.

Counts live in Django's cache (per process with the default local-memory cache; configure a shared cache
when several web processes serve one site). The client address is REMOTE_ADDR: behind a proxy every
client shares the proxy's address, so the per-address limit then acts as a global brake.
"""

from __future__ import annotations

import hashlib
import math
import time
from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext as _

PER_ADDRESS_FACTOR = 4


def _keys(request: HttpRequest, username: str) -> list[tuple[str, int]]:
    limit = settings.LOGIN_FAILURE_LIMIT
    name = hashlib.sha256(username.strip().lower().encode("utf-8")).hexdigest()[:32]
    address = str(request.META.get("REMOTE_ADDR", "") or "unknown")
    return [(f"sirene:login-fail:user:{name}", limit), (f"sirene:login-fail:addr:{address}", limit * PER_ADDRESS_FACTOR)]


def seconds_blocked(request: HttpRequest, username: str) -> float:
    """0 when a login may be tried now, else how long until the oldest counted failure expires."""
    now = time.time()
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    wait = 0.0
    for key, limit in _keys(request, username):
        count, first = cache.get(key, (0, now))
        if count >= limit:
            wait = max(wait, first + window - now)
    return max(wait, 0.0)


def record_failure(request: HttpRequest, username: str) -> None:
    now = time.time()
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    for key, _limit in _keys(request, username):
        count, first = cache.get(key, (0, now))
        if first + window <= now:
            count, first = 0, now
        cache.set(key, (count + 1, first), timeout=max(1, math.ceil(first + window - now)))


def record_success(request: HttpRequest, username: str) -> None:
    cache.delete(_keys(request, username)[0][0])


class ThrottledLoginView(auth_views.LoginView):
    template_name = "accounts/login.html"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        username = str(request.POST.get("username", ""))[:150]
        wait = seconds_blocked(request, username)
        if wait > 0:
            minutes = max(1, math.ceil(wait / 60))
            message = _("Too many failed logins. Please try again in %(minutes)d minutes.") % {
                "minutes": minutes
            }
            context = self.get_context_data(form=self.get_form(), throttled=message)
            response = self.render_to_response(context, status=429)
            response["Retry-After"] = str(math.ceil(wait))
            return response
        response = super().post(request, *args, **kwargs)
        if isinstance(response, HttpResponseRedirect):
            record_success(request, username)
        else:
            record_failure(request, username)
        return response
