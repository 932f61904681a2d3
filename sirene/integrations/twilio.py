"""Twilio Voice: the one place sirene places phone calls and validates Twilio's callbacks.

`phone_transport()` returns the twilio.rest.Client transport when account SID, auth token and from
number are set (`client.api.base_url` from `SIRENE_TWILIO_API_URL`, so tests point it at a local fake),
otherwise the outbox transport that records the call it would have placed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse

from sirene.integrations.base import CallInfo, IntegrationError, PermanentError, PlacedCall, TransientError

# Final call statuses (Twilio); everything else means the call is still under way.
FINAL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})


def _error_from(exc: Exception) -> IntegrationError:
    if isinstance(exc, TwilioRestException):
        status = int(exc.status or 0)
        if status == 429 or status >= 500:
            return TransientError(f"twilio: HTTP {status} {exc.code or ''}".strip(), provider="twilio")
        return PermanentError(f"twilio: HTTP {status} {exc.code or ''} {exc.msg}".strip(), provider="twilio")
    return TransientError(f"twilio: {type(exc).__name__}: {exc}", provider="twilio")


class TwilioTransport:
    name = "twilio"

    def __init__(self, account_sid: str, auth_token: str, from_number: str, api_url: str) -> None:
        # twilio's default HTTP client has no timeout: one hung connection would stop the escalation lane.
        # A timeout surfaces as requests' Timeout (an OSError) → TransientError, and the call attempt is
        # reconciled against Twilio's call list before it is ever placed again.
        self.client = Client(
            account_sid, auth_token, http_client=TwilioHttpClient(timeout=settings.OUTBOUND_TIMEOUT_SECONDS)
        )
        # The SDK builds every URL from this base, which is how tests reach the local fake server.
        self.client.api.base_url = api_url.rstrip("/")
        self.from_number = from_number

    def place_call(self, to: str, *, twiml: str, status_callback: str, ring_seconds: int = 30) -> PlacedCall:
        try:
            call = self.client.calls.create(
                to=to,
                from_=self.from_number,
                twiml=twiml,
                status_callback=status_callback,
                status_callback_event=["initiated", "ringing", "answered", "completed"],
                status_callback_method="POST",
                timeout=ring_seconds,
                machine_detection="Enable",
            )
        except (TwilioException, OSError, Exception) as exc:  # requests' errors are OSError subclasses
            raise _error_from(exc) from exc
        return PlacedCall(sid=str(call.sid), status=str(call.status or "queued"))

    def find_calls(self, to: str, *, since: dt.datetime) -> list[CallInfo]:
        try:
            calls = self.client.calls.list(to=to, from_=self.from_number, start_time_after=since, limit=50)
        except Exception as exc:
            raise _error_from(exc) from exc
        found = []
        for call in calls:
            start = call.start_time or call.date_created
            # Twilio filters StartTime by day; the exact cut is ours.
            if start is not None and start < since - dt.timedelta(seconds=60):
                continue
            found.append(
                CallInfo(sid=str(call.sid), status=str(call.status), to=str(call.to), start_time=start)
            )
        return found


def gather_twiml(message: str, action_url: str, *, language: str = "de-DE") -> str:
    """Read the message, then wait for one key: "1" takes over, "2" passes on to the next person (a
    voicemail presses nothing)."""
    response = VoiceResponse()
    gather = response.gather(num_digits=1, action=action_url, method="POST", timeout=10)
    gather.say(message, language=language)
    gather.say(
        "Drücken Sie die 1, um zu übernehmen, oder die 2, um an die nächste Person weiterzugeben.",
        language=language,
    )
    response.say("Keine Eingabe erhalten. Auf Wiederhören.", language=language)
    return str(response)


def validate_signature(url: str, params: dict[str, Any], signature: str) -> bool:
    token = settings.TWILIO_AUTH_TOKEN
    if not token or not signature:
        return False
    return bool(RequestValidator(token).validate(url, params, signature))


def sign(url: str, params: dict[str, Any], token: str | None = None) -> str:
    """The X-Twilio-Signature Twilio would send (fake server, tests)."""
    return str(
        RequestValidator(token if token is not None else settings.TWILIO_AUTH_TOKEN).compute_signature(
            url, params
        )
    )
