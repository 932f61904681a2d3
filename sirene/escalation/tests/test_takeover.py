"""Issue 22, point 1: only a responder of the incident's policy or a lead stops the calls, through a
deliberate act. Everything goes through the signed Slack hooks (fake Slack, fake Twilio)."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from sirene.escalation.models import Run
from sirene.escalation.tests.helpers import calls, open_incident, run_until, slack_action, slack_event, work
from sirene.incidents import timeline
from sirene.incidents.models import IncidentEvent, IncidentStatus
from sirene.integrations.fakes.slack import block_action, event_callback, reaction_added, thread_reply

pytestmark = pytest.mark.django_db


@pytest.fixture
def posted(fake_slack: Any, fake_twilio: Any, team: Any, start: Any) -> dict[str, Any]:
    incident = open_incident()
    work()
    return {"incident": incident, "message": fake_slack.messages[0]}


def _react(client: Any, message: dict[str, Any], user: str, reaction: str, event_id: str) -> Any:
    return slack_event(
        client, event_callback(reaction_added(message["channel"], message["ts"], user, reaction), event_id)
    )


def _reply(client: Any, message: dict[str, Any], user: str, text: str, event_id: str) -> Any:
    return slack_event(
        client, event_callback(thread_reply(message["channel"], message["ts"], user, text), event_id)
    )


def _german_timeline(incident: Any) -> list[str]:
    with translation.override("de"):
        return [line.text for line in timeline.lines(incident.events.all())]


def test_a_strangers_thumbs_down_and_same_here_do_not_stop_the_calls(
    client: Any, posted: dict[str, Any], fake_twilio: Any
) -> None:
    message = posted["message"]
    assert _react(client, message, "U0STRANGER", "-1", "Ev1").json()["outcome"] == "no takeover"
    assert _reply(client, message, "U0JONAS01", "Bei mir auch!", "Ev2").json()["outcome"] == "no takeover"
    incident = posted["incident"]
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.OPEN
    run_until(20)
    assert [c.person_name for c in calls()][:1] == ["Tara"]
    assert fake_twilio.calls, "the phone escalation must still happen"
    lines = _german_timeline(incident)
    assert "U0JONAS01: „Bei mir auch!“ – keine Übernahme (nicht in der Eskalation dieser Störung)" in lines
    assert any(line.startswith("U0STRANGER hat mit :-1: reagiert – keine Übernahme") for line in lines)


def test_a_responders_eyes_reaction_takes_over_and_no_call_follows(
    client: Any, posted: dict[str, Any], fake_twilio: Any
) -> None:
    response = _react(client, posted["message"], "U0000LUCA1", "eyes", "Ev3")
    assert response.json()["outcome"] == "acknowledged"
    incident = posted["incident"]
    incident.refresh_from_db()
    assert incident.acknowledged_label == "Luca" and incident.acknowledged_via == "slack reaction"
    run_until(60)
    assert fake_twilio.calls == []


def test_a_responders_thumbs_up_is_not_a_takeover_but_a_leads_raised_hand_with_skin_tone_is(
    client: Any, posted: dict[str, Any]
) -> None:
    message = posted["message"]
    assert _react(client, message, "U0000LEA01", "+1", "Ev4").json()["outcome"] == "no takeover"
    incident = posted["incident"]
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.OPEN
    event = IncidentEvent.objects.get(incident=incident, kind="no_takeover")
    assert event.data["reason"] == "reaction" and event.data["who"] == "Lea"
    assert _react(client, message, "U0000TARA1", "raising_hand::skin-tone-3", "Ev5").json()["outcome"] == (
        "acknowledged"
    )


def test_the_reaction_set_is_configurable(client: Any, posted: dict[str, Any], settings: Any) -> None:
    settings.ACK_REACTIONS = ["fire_engine"]
    message = posted["message"]
    assert _react(client, message, "U0000LUCA1", "eyes", "Ev6").json()["outcome"] == "no takeover"
    assert _react(client, message, "U0000LUCA1", "fire_engine", "Ev7").json()["outcome"] == "acknowledged"


def test_a_lead_who_is_not_in_the_policy_may_take_over(client: Any, posted: dict[str, Any]) -> None:
    from sirene.escalation import services
    from sirene.escalation.models import PersonRole

    services.save_person(name="Mara", slack_user_id="U0000MARA1", role=PersonRole.LEAD)
    assert _reply(client, posted["message"], "U0000MARA1", "Ich übernehme", "Ev8").json()["outcome"] == (
        "acknowledged"
    )


def test_the_button_by_a_stranger_is_recorded_and_the_calls_still_come(
    client: Any, posted: dict[str, Any], fake_twilio: Any
) -> None:
    message = posted["message"]
    run = Run.objects.get()
    response = slack_action(
        client, block_action(message["channel"], message["ts"], "U0STRANGER", "sirene_ack", str(run.pk))
    )
    assert response.json() == {"ok": True, "acknowledged": False, "outcome": "no takeover"}
    run_until(20)
    assert fake_twilio.calls


def test_web_and_api_take_over_only_for_responders_or_leads(
    client: Any, posted: dict[str, Any], agent: Any, lead: Any, api: Any
) -> None:
    incident = posted["incident"]
    response = api.post(f"/api/v1/incidents/{incident.pk}/ack")
    assert response.status_code == 403 and "responder" in response.json()["error"]
    client.force_login(agent)
    client.post(f"/incidents/{incident.pk}/ack/")
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.OPEN
    assert IncidentEvent.objects.filter(incident=incident, kind="no_takeover").count() == 2
    # An agent who is a responder (Luca's Person row linked to the agent) may.
    from sirene.escalation.models import Person

    Person.objects.filter(name="Luca").update(user=agent)
    assert api.post(f"/api/v1/incidents/{incident.pk}/ack").json()["status"] == "acknowledged"


def test_the_incident_page_names_who_took_over_at_the_top(
    client: Any, posted: dict[str, Any], lead: Any
) -> None:
    _react(client, posted["message"], "U0000TARA1", "white_check_mark", "Ev9")
    incident = posted["incident"]
    incident.refresh_from_db()
    client.force_login(lead)
    page = client.get(f"/incidents/{incident.pk}/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    from django.utils import timezone

    at = timezone.localtime(incident.acknowledged_at).strftime("%H:%M")
    assert f"Übernommen von Tara, {at}" in page
