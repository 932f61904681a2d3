from __future__ import annotations

import json
from typing import Any

import pytest

from sirene.core import clock
from sirene.escalation.models import Run
from sirene.escalation.tests.helpers import open_incident, run_until, slack_action, slack_event, work
from sirene.incidents.models import IncidentStatus
from sirene.integrations import slack
from sirene.integrations.fakes.slack import block_action, event_callback, reaction_added, thread_reply
from sirene.integrations.models import WebhookDelivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def posted(fake_slack: Any, fake_twilio: Any, team: Any, start: Any) -> dict[str, Any]:
    incident = open_incident()
    work()
    return {"incident": incident, "message": fake_slack.messages[0]}


def test_it_answers_the_url_verification_challenge(fake_slack: Any, client: Any) -> None:
    response = slack_event(client, {"type": "url_verification", "challenge": "abc123", "token": "x"})
    assert response.json() == {"challenge": "abc123"}


@pytest.mark.parametrize(
    "headers", [{}, {"X-Slack-Request-Timestamp": "1", "X-Slack-Signature": "v0=00"}, "wrong-secret", "stale"]
)
def test_a_missing_bad_or_stale_signature_is_refused_and_changes_nothing(
    client: Any, posted: dict[str, Any], headers: Any
) -> None:
    message = posted["message"]
    payload = event_callback(reaction_added(message["channel"], message["ts"], "U0000LUCA1"), "EvBAD")
    body = json.dumps(payload).encode()
    if headers == "wrong-secret":
        headers = slack.sign(body, secret="not-the-secret")
    elif headers == "stale":
        headers = slack.sign(body, timestamp=int(clock.now().timestamp()) - 301)
    response = slack_event(client, payload, headers=headers)
    assert response.status_code == 403
    posted["incident"].refresh_from_db()
    assert posted["incident"].status == IncidentStatus.OPEN
    assert not WebhookDelivery.objects.filter(source="slack").exists()


def test_the_same_event_id_twice_changes_nothing(client: Any, posted: dict[str, Any]) -> None:
    message = posted["message"]
    first = slack_event(
        client, event_callback(reaction_added(message["channel"], message["ts"], "U0000LUCA1"), "Ev42")
    )
    assert first.json()["outcome"] == "acknowledged"
    second = slack_event(
        client, event_callback(reaction_added(message["channel"], message["ts"], "U0000TARA1"), "Ev42")
    )
    assert second.json()["duplicate"] is True
    posted["incident"].refresh_from_db()
    assert posted["incident"].acknowledged_label == "Luca"
    assert WebhookDelivery.objects.filter(source="slack").count() == 1


def test_a_thread_reply_acknowledges(client: Any, posted: dict[str, Any], fake_slack: Any) -> None:
    message = posted["message"]
    response = slack_event(
        client, event_callback(thread_reply(message["channel"], message["ts"], "U0000TARA1"), "Ev7")
    )
    assert response.json()["outcome"] == "acknowledged"
    posted["incident"].refresh_from_db()
    assert (
        posted["incident"].acknowledged_label == "Tara"
        and posted["incident"].acknowledged_via == "slack reply"
    )
    work()
    assert "*Übernommen* von Tara" in fake_slack.posted_to("#customer-success")[0]["text"]


def test_a_message_that_is_not_a_thread_reply_does_not_acknowledge(
    client: Any, posted: dict[str, Any]
) -> None:
    message = posted["message"]
    event = thread_reply(message["channel"], message["ts"], "U0000TARA1")
    event["thread_ts"] = event["ts"]
    slack_event(client, event_callback(event, "Ev8"))
    posted["incident"].refresh_from_db()
    assert posted["incident"].status == IncidentStatus.OPEN


def test_the_button_acknowledges_and_the_second_click_changes_nothing(
    client: Any, posted: dict[str, Any], fake_twilio: Any
) -> None:
    message = posted["message"]
    run = Run.objects.get()
    response = slack_action(
        client, block_action(message["channel"], message["ts"], "U0000PIWI1", "sirene_ack", str(run.pk))
    )
    assert response.json()["acknowledged"] is True
    again = slack_action(
        client, block_action(message["channel"], message["ts"], "U0000LEA01", "sirene_ack", str(run.pk))
    )
    assert again.json()["acknowledged"] is False
    posted["incident"].refresh_from_db()
    assert posted["incident"].acknowledged_label == "Piwi"
    run_until(30)
    assert fake_twilio.calls == []


def test_malformed_interactivity_payload_is_a_clear_400(client: Any, fake_slack: Any) -> None:
    from urllib.parse import urlencode

    body = urlencode({"payload": "{not json"}).encode()
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in slack.sign(body).items()}
    response = client.post(
        "/hooks/slack/interactivity", body, content_type="application/x-www-form-urlencoded", **extra
    )
    assert response.status_code == 400 and "payload" in response.json()["error"]


@pytest.mark.parametrize("field", ["user", "channel", "container", "message"])
def test_a_signed_interactivity_payload_with_a_wrong_field_type_is_a_400(
    client: Any, fake_slack: Any, field: str
) -> None:
    """Security review §5: a string `user` or `channel` in a correctly signed payload answered 500."""
    payload: dict[str, Any] = {"type": "block_actions", "actions": [{"action_id": "sirene_ack"}], field: "U0ATTACK"}
    response = slack_action(client, payload)
    assert response.status_code == 400 and field in response.json()["error"]
    assert not WebhookDelivery.objects.exists()
