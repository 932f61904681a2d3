from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sirene.core import clock
from sirene.escalation import tasks
from sirene.escalation.models import Attempt
from sirene.flows import incidents as incident_flows
from sirene.integrations import slack, twilio
from sirene.integrations.fakes.twilio import FakeTwilio


def open_incident(title: str = "Videos laden nicht") -> Any:
    return incident_flows.open_incident(
        title=title, description="Seit 02:50 melden 7 Kunden schwarze Videos."
    )


def work() -> int:
    """Run the worker until nothing is due right now."""
    total = 0
    for _ in range(50):
        did = tasks.tick()
        total += did
        if not did:
            break
    return total


def run_until(minutes: float, step_seconds: float = 30) -> None:
    """Move the clock forward in small steps, running the worker at each, like a real polling worker."""
    end = clock.now() + dt.timedelta(minutes=minutes)
    while clock.now() < end:
        work()
        clock.advance(seconds=step_seconds)
    work()


def twilio_post(client: Any, path: str, params: dict[str, str], *, signature: str | None = None) -> Any:
    from django.conf import settings

    url = settings.PUBLIC_URL + path
    sig = twilio.sign(url, params) if signature is None else signature
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=sig)


def call_status(client: Any, fake: FakeTwilio, attempt: Attempt, status: str, **kw: str) -> Any:
    call = next(c for c in fake.calls if c["sid"] == attempt.provider_id)
    return twilio_post(
        client, f"/hooks/twilio/status?attempt={attempt.pk}", fake.status_params(call, status, **kw)
    )


def press(client: Any, fake: FakeTwilio, attempt: Attempt, digits: str) -> Any:
    call = next(c for c in fake.calls if c["sid"] == attempt.provider_id)
    return twilio_post(client, f"/hooks/twilio/gather?attempt={attempt.pk}", fake.gather_params(call, digits))


def slack_event(client: Any, payload: dict[str, Any], *, headers: dict[str, str] | None = None) -> Any:
    body = json.dumps(payload).encode()
    hdrs = slack.sign(body) if headers is None else headers
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in hdrs.items()}
    return client.post("/hooks/slack/events", body, content_type="application/json", **extra)


def slack_action(client: Any, payload: dict[str, Any]) -> Any:
    from urllib.parse import urlencode

    body = urlencode({"payload": json.dumps(payload)}).encode()
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in slack.sign(body).items()}
    return client.post(
        "/hooks/slack/interactivity", body, content_type="application/x-www-form-urlencoded", **extra
    )


def calls() -> list[Attempt]:
    return list(Attempt.objects.filter(kind="call").order_by("id"))
