"""In a real browser: an agent finds the auto-opened incident in the list, reads the brief in
German and acknowledges it."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from conftest import login
from sirene.flows import intake as intake_flow
from sirene.incidents.models import Incident
from sirene.incidents.tests.conftest import make_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_agent_reads_the_brief_and_acknowledges_the_incident(browser_page: Any, agent: Any) -> None:
    from sirene.escalation.models import Person

    Person.objects.create(name="Anna", user=agent)  # a responder (issue 22): without a policy, everyone known is
    for i in range(6):
        with transaction.atomic():
            intake_flow.group_and_escalate(make_case(f"k{i}@gmx.de", "Login geht nicht, Fehler 502"))
    incident = Incident.objects.get()
    page = browser_page
    login(page, "anna", "agent-pass-123")
    page.goto("/incidents/")
    page.click(f"text=INC-{incident.pk}")
    page.wait_for_selector("#brief")
    assert "Roter Faden" in page.inner_text("#brief")
    assert "k0@gmx.de" in page.inner_text("#examples")
    page.click("#ack")
    page.wait_for_selector("text=Störung übernommen.")
    incident.refresh_from_db()
    assert incident.status == "acknowledged"
