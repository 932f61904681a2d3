"""Helpdesk fixtures: a fake Groove API over real HTTP, sirene configured to talk to it, payload fixtures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sirene.flows.intake import report_case
from sirene.integrations.fakes.groove import FakeGroove

FIXTURES = Path(__file__).parent / "fixtures"
SECRET = "s3cret-webhook-path-0123456789abcdef"


def fixture_body(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def fixture_json(name: str) -> dict[str, Any]:
    return json.loads(fixture_body(name))  # type: ignore[no-any-return]


@pytest.fixture
def groove(settings: Any) -> Iterator[FakeGroove]:
    fake = FakeGroove().start()
    settings.GROOVE_TOKEN = fake.token
    settings.GROOVE_API_URL = fake.url
    settings.GROOVE_WEBHOOK_SECRET = SECRET
    settings.PUBLIC_URL = "https://sirene.example"
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def post_hook(client: Any) -> Any:
    def post(event: str, body: bytes | str, secret: str = SECRET) -> Any:
        return client.generic(
            "POST",
            f"/hooks/groove/{secret}",
            body,
            content_type="application/json",
            headers={"X-Groove-Event": event},
        )

    return post


@pytest.fixture
def quick_client(groove: FakeGroove) -> Any:
    """The real Groove client, with waits recorded instead of slept (so failure tests stay fast)."""
    from sirene.integrations.groove import GrooveHelpdesk

    waits: list[float] = []
    client = GrooveHelpdesk(groove.token, groove.url, sleep=waits.append)
    client.waits = waits  # type: ignore[attr-defined]
    return client


def make_groove_case(number: int, email: str, *, name: str = "", subject: str = "Video lädt nicht") -> Any:
    from sirene.cases import services as cases

    result = report_case(
        cases.IntakeData(
            source="groove",
            external_id=str(number),
            subject=subject,
            body="Seit heute lädt das Video in Lektion 3 nicht mehr.",
            customer=cases.CustomerData(email=email, name=name),
            tags=["technik"],
        ),
        actor_label="groove",
    )
    assert result.case is not None
    return result.case
