"""Issue 22, point 2: when nobody reacts it is loud. Every call is announced in the siren's thread,
the policy repeats (default once), and at its end the lead gets a DM and the channel a last line.
"Jetzt eskalieren" (Slack button, page) and "2" on the phone go to the next person now."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from sirene.escalation.models import Attempt, Run
from sirene.escalation.tests.helpers import (
    call_status,
    calls,
    open_incident,
    press,
    run_until,
    slack_action,
    work,
)
from sirene.incidents import timeline
from sirene.incidents.models import IncidentStatus
from sirene.integrations.fakes.slack import block_action

pytestmark = pytest.mark.django_db


def _no_answer(client: Any, fake_twilio: Any) -> None:
    """Twilio reports every call placed so far as not answered (a signed status callback each)."""
    for attempt in Attempt.objects.filter(kind="call", status="sent"):
        call_status(client, fake_twilio, attempt, "no-answer")


def _thread(fake_slack: Any) -> list[str]:
    siren = fake_slack.messages[0]
    return [m["text"] for m in fake_slack.messages if m.get("thread_ts") == siren["ts"]]


def test_nobody_reacts_every_call_is_announced_the_policy_repeats_once_then_lead_and_channel_are_told(
    client: Any, fake_slack: Any, fake_twilio: Any, team: Any, start: Any
) -> None:
    incident = open_incident()
    for _ in range(40):
        run_until(5, step_seconds=30)
        _no_answer(client, fake_twilio)
        if Run.objects.get().status != "active":
            break
    run = Run.objects.get()
    assert run.status == "exhausted"
    # Default policy: Tara ×2, Piwi ×2, then once more from the wait: 8 calls in all.
    assert [c.person_name for c in calls()] == ["Tara", "Tara", "Piwi", "Piwi"] * 2
    thread = _thread(fake_slack)
    announced = [t for t in thread if "Niemand hat reagiert – sirene ruft jetzt" in t]
    assert len(announced) == 8
    assert "sirene ruft jetzt Tara an (1 von 2)" in announced[0]
    assert "sirene ruft jetzt Piwi an (2 von 2)" in announced[3]
    assert any("beginnt von vorn (Runde 2)" in t for t in thread)
    # The end: a DM to the lead (Tara is the team's lead) and a last line in the channel itself.
    dms = [m for m in fake_slack.messages if m["channel"] == "U0000TARA1"]
    assert any("Niemand hat reagiert" in m["text"] and f"INC-{incident.pk}" in m["text"] for m in dms)
    channel_lines = [m for m in fake_slack.posted_to("#customer-success") if not m.get("thread_ts")]
    assert "niemand hat reagiert, alle Anrufe sind durch" in channel_lines[-1]["text"]
    with translation.override("de"):
        texts = [line.text for line in timeline.lines(incident.events.all())]
    assert "Niemand hat reagiert: die Eskalation beginnt von vorn (Runde 2)" in texts


def test_jetzt_eskalieren_in_slack_skips_the_wait_and_calls_the_first_person_now(
    client: Any, fake_slack: Any, fake_twilio: Any, team: Any, start: Any
) -> None:
    open_incident()
    work()
    assert fake_twilio.calls == []  # the policy waits 15 minutes first
    siren = fake_slack.messages[0]
    buttons = [e["action_id"] for b in siren["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons == ["sirene_ack", "sirene_escalate"]
    run = Run.objects.get()
    response = slack_action(
        client, block_action(siren["channel"], siren["ts"], "U0STRANGER", "sirene_escalate", str(run.pk))
    )
    assert response.json() == {"ok": True, "escalated": True}
    work()
    assert [c.person_name for c in calls()] == ["Tara"]
    assert any("„Jetzt eskalieren“ gewählt" in t for t in _thread(fake_slack))


def test_jetzt_eskalieren_on_the_page_moves_from_tara_to_piwi(
    client: Any, fake_slack: Any, fake_twilio: Any, team: Any, start: Any, lead: Any
) -> None:
    incident = open_incident()
    run_until(16)
    assert [c.person_name for c in calls()] == ["Tara"]
    client.force_login(lead)
    page = client.get(f"/incidents/{incident.pk}/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Jetzt eskalieren" in page
    client.post(f"/escalation/incidents/{incident.pk}/escalate-now/")
    work()
    # A call already ringing cannot be recalled; the next step's person is called now.
    assert [c.person_name for c in calls()] == ["Tara", "Piwi"]


def test_pressing_2_passes_on_to_the_next_person_and_1_takes_over(
    client: Any, fake_slack: Any, fake_twilio: Any, team: Any, start: Any
) -> None:
    incident = open_incident()
    run_until(16)
    tara = calls()[0]
    twiml = fake_twilio.calls[0]["params"]["Twiml"]
    assert "die 2, um an die nächste Person weiterzugeben" in twiml
    answer = press(client, fake_twilio, tara, "2")
    assert "weiter" in answer.content.decode()
    work()
    assert [c.person_name for c in calls()] == ["Tara", "Piwi"]
    tara.refresh_from_db()
    assert tara.status == "unanswered" and tara.digits == "2"
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.OPEN
    piwi = calls()[1]
    press(client, fake_twilio, piwi, "1")
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.ACKNOWLEDGED and incident.acknowledged_label == "Piwi"
