from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from sirene.core import clock
from sirene.integrations.fakes.slack import FakeSlack
from sirene.integrations.fakes.twilio import FakeTwilio

T0 = dt.datetime(2024, 3, 5, 2, 0, tzinfo=dt.UTC)  # 3 a.m. in Berlin


@pytest.fixture
def fake_slack(settings: Any) -> Iterator[FakeSlack]:
    with FakeSlack() as slack:
        settings.SLACK_TOKEN = "xoxb-test-token"
        settings.SLACK_API_URL = slack.base_url
        settings.SLACK_SIGNING_SECRET = "slack-signing-secret"
        yield slack


@pytest.fixture
def fake_twilio(settings: Any) -> Iterator[FakeTwilio]:
    with FakeTwilio() as twilio:
        settings.TWILIO_ACCOUNT_SID = twilio.account_sid
        settings.TWILIO_AUTH_TOKEN = "twilio-auth-token"
        settings.TWILIO_FROM_NUMBER = "+4930000000"
        settings.TWILIO_API_URL = twilio.base_url
        settings.PUBLIC_URL = "https://sirene.example.com"
        yield twilio


@pytest.fixture
def team(db: Any) -> dict[str, Any]:
    from sirene.escalation import services

    people = {
        p["key"]: services.save_person(
            name=p["name"], slack_user_id=p["slack_user_id"], phone=p["phone"], role=p["role"]
        )
        for p in services.demo_people()
    }
    policy = services.ensure_default_policy(people)
    return {**people, "policy": policy}


@pytest.fixture
def start() -> dt.datetime:
    clock.set_now(T0)
    return T0
