"""Fetching an iCalendar feed by URL (absences). The only outbound HTTP for calendars, via httpx."""

from __future__ import annotations

import httpx

from sirene.integrations.base import PermanentError, TransientError

MAX_BYTES = 5 * 1024 * 1024


def fetch_ical(url: str, *, timeout: float = 15.0) -> bytes:
    if url.startswith("webcal://"):
        url = "https://" + url[len("webcal://") :]
    if not url.startswith(("https://", "http://")):
        raise PermanentError("url: must start with https:// or http://", provider="ical")
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=True) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code >= 500:
                raise TransientError(f"url: the server answered {response.status_code}", provider="ical")
            if response.status_code >= 400:
                raise PermanentError(f"url: the server answered {response.status_code}", provider="ical")
            data = b""
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > MAX_BYTES:
                    raise PermanentError("url: calendar is larger than 5 MB", provider="ical")
            return data
    except httpx.HTTPError as exc:
        raise TransientError(f"url: {exc}", provider="ical") from exc
