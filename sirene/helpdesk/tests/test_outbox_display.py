"""The outbox reads like what happened: a call as "Anruf an Tara (+49…): <spoken text>", Slack
mentions as names, long texts expandable; the stored rows stay exactly what was sent."""

from __future__ import annotations

from typing import Any

import pytest

from sirene.escalation import services as escalation
from sirene.integrations.outbox import OutboxChatTransport, OutboxPhoneTransport

pytestmark = pytest.mark.django_db


def test_calls_and_mentions_show_names_and_spoken_text(client: Any, lead: Any) -> None:
    escalation.save_person(name="Tara", phone="+4915550000001", slack_user_id="U0000TARA1", role="lead")
    OutboxPhoneTransport().place_call(
        "+4915550000001",
        twiml='<?xml version="1.0"?><Response><Gather numDigits="1"><Say language="de-DE">Kritische Störung INC-3: '
        "Zwei-Faktor-Code kommt nicht an. Drücke 1, um zu übernehmen.</Say></Gather></Response>",
        status_callback="https://sirene.example/hooks/twilio/status",
    )
    OutboxChatTransport().post_message("#customer-success", "Störung INC-3 <@U0000TARA1> bitte reagieren " + "x" * 500)
    client.force_login(lead)
    html = client.get("/helpdesk/outbox/").content.decode()
    assert "Anruf an Tara (+4915550000001): Kritische Störung INC-3: Zwei-Faktor-Code kommt nicht an." in html
    assert "&lt;Response&gt;" not in html and "<Say" not in html
    assert "@Tara bitte reagieren" in html and "&lt;@U0000TARA1&gt;" not in html
    assert "<details" in html  # the long post opens to its full text
    assert "Slack-Nachricht" in html and "<td>post</td>" not in html and "<td>call</td>" not in html
