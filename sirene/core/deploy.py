"""Deployment safety: the built-in SECRET_KEY, HTTPS headers, what `check --deploy` reports.

The fixed development key keeps `make run` a one-liner; anything reachable from another machine must set
its own `SIRENE_SECRET_KEY`, otherwise signed values (the messages cookie, password-reset tokens if ever
wired) can be forged by anyone who read this repository.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, register
from django.core.checks import Warning as CheckWarning
from django.core.management.base import CommandError

from sirene.core.env import DEV_SECRET_KEY


def uses_dev_key() -> bool:
    return str(settings.SECRET_KEY) == DEV_SECRET_KEY


def is_loopback(host: str) -> bool:
    host = host.strip().strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def refuse_dev_key(host: str) -> None:
    """`sirene run/serve` on a non-loopback address with the built-in key (and DEBUG off) stops here."""
    if uses_dev_key() and not settings.DEBUG and not is_loopback(host):
        raise CommandError(
            f"refusing to listen on {host}: SIRENE_SECRET_KEY is not set and the built-in development key "
            "is public. Set SIRENE_SECRET_KEY (or SIRENE_SECRET_KEY_FILE), listen on 127.0.0.1, "
            "or set SIRENE_DEBUG=true for a local experiment."
        )


@register(Tags.security, deploy=True)
def check_secret_key(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if not uses_dev_key():
        return []
    return [
        CheckWarning(
            "SIRENE_SECRET_KEY is not set: the built-in development key (public in the repository) is used.",
            hint="Set SIRENE_SECRET_KEY or SIRENE_SECRET_KEY_FILE to a long random value, e.g. "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'.",
            id="sirene.W001",
        )
    ]
