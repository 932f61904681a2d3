"""In a real browser: the lead sees the escalation on the incident page, acknowledges it and posts a
status update that reaches the internal channel (outbox, since nothing is configured)."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import login
from sirene.escalation.models import Run
from sirene.escalation.tests.helpers import open_incident, work
from sirene.integrations.models import OutboxMessage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_lead_acknowledges_and_posts_a_status_update_on_the_incident_page(
    browser_page: Any, lead: Any, team: Any
) -> None:
    incident = open_incident()
    work()
    page = browser_page
    login(page, "tara", "lead-pass-123")
    page.goto(incident.get_absolute_url())
    panel = page.locator("#escalation-panel")
    assert "Eskaliert" in panel.inner_text()
    # By form, not label: the wording of "Acknowledge" is shared with the incidents catalogue.
    panel.locator(f"form[action='/escalation/incidents/{incident.pk}/ack/'] button").click()
    page.wait_for_selector("text=Übernommen: die Eskalation wird beendet.")
    assert Run.objects.get().status == "acknowledged"
    page.locator("#escalation-panel textarea[name=text]").fill("Fix ist ausgerollt, wir beobachten.")
    page.locator("#escalation-panel button", has_text="Statusmeldung senden").click()
    page.wait_for_selector("text=Statusmeldung gesendet.")
    work()
    update = OutboxMessage.objects.get(kind="post", recipient="#customer-success-intern")
    assert "Fix ist ausgerollt" in update.body
