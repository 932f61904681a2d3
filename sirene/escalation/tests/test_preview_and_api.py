from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def preview(*args: str) -> Any:
    out = io.StringIO()
    call_command("escalation", "preview", *args, stdout=out)
    return out.getvalue()


def test_preview_shows_the_default_process(team: Any) -> None:
    text = preview("--no-answer", "Tara", "--no-answer", "Piwi")
    lines = text.splitlines()
    assert lines[1].startswith("00:00 Slack post in #customer-success")
    assert lines[2] == "15:00 call Tara (1/2)"
    assert "call Tara (2/2)" in lines[3] and "call Piwi (1/2)" in lines[4]
    # The Facebook task is no longer a step after the calls: it is assigned when the incident opens.
    assert not any("task for" in line for line in lines)


def test_preview_json_with_tara_absent_calls_piwi_at_minute_15(team: Any) -> None:
    data = json.loads(preview("--absent", "Tara", "--json"))
    assert data[0] == {"at": 0, "action": "slack_post", "person": None}
    assert data[1] == {"at": 900, "action": "call", "person": "Piwi"}
    assert data[-1]["action"] == "stop"


def test_preview_with_ack_at_3_has_no_call(team: Any) -> None:
    data = json.loads(preview("--ack-at", "3", "--json"))
    assert [d["action"] for d in data] == ["slack_post", "status_update", "stop"]
    assert data[-1]["at"] == 180


def test_preview_names_an_unknown_person(team: Any) -> None:
    with pytest.raises(CommandError, match="--absent"):
        preview("--absent", "Bob")


def test_api_preview_and_runs(api: Any, team: Any, start: Any, fake_slack: Any) -> None:
    from sirene.escalation.tests.helpers import open_incident, work

    response = api.get(f"/api/v1/escalation/policies/{team['policy'].pk}/preview", absent=["Tara"])
    assert response.status_code == 200
    first_call = next(line for line in response.json() if line["action"] == "call")
    assert first_call == {"at": 900, "action": "call", "person": "Piwi", "text": "call Piwi (1/2)"}
    incident = open_incident()
    work()
    runs = api.get("/api/v1/escalation/runs").json()
    assert runs[0]["incident_id"] == incident.pk
    detail = api.get(f"/api/v1/escalation/runs/{runs[0]['id']}").json()
    post = next(a for a in detail["attempts"] if a["kind"] == "slack_post")
    assert post["status"] == "sent"
    assert {a["kind"] for a in detail["attempts"]} >= {"slack_post", "dm", "thread_reply"}


def test_api_refuses_people_changes_from_agents_and_names_bad_fields(
    api: Any, admin_user: Any, client: Any
) -> None:
    assert api.post("/api/v1/escalation/people", {"name": "Max"}).status_code == 403
    client.force_login(admin_user)
    response = client.post(
        "/api/v1/escalation/people",
        json.dumps({"name": "Max", "phone": "12"}),
        content_type="application/json",
    )
    assert response.status_code == 422 and "phone" in response.json()["error"]
    assert response.json()["field"] == "phone"  # the one 422 shape: {"error", "field"}


def test_policy_page_shows_the_preview(client: Any, lead: Any, team: Any) -> None:
    client.force_login(lead)
    page = client.get(f"/escalation/policies/{team['policy'].pk}/", {"absent": "Tara"}).content.decode()
    assert "nach 15 min</span> Anruf bei Piwi (1 von 2)" in page


def test_opening_an_incident_by_hand_over_the_api_starts_the_policy(
    api: Any, team: Any, start: Any, fake_slack: Any
) -> None:
    from sirene.escalation.models import Run
    from sirene.escalation.tests.helpers import work

    response = api.post(
        "/api/v1/incidents", {"title": "Login geht nicht", "description": "Seit 3 Uhr", "category": "other"}
    )
    assert response.status_code in (200, 201), response.content
    run = Run.objects.get()
    assert run.snapshot["name"] == "Standard"
    work()
    assert "Login geht nicht" in fake_slack.messages[0]["text"]
