"""The foundation's walk in a real browser: log in, open the tracking list, open a case, take ownership."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import login
from sirene.cases import services
from sirene.cases.models import Case
from sirene.flows.intake import report_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_agent_logs_in_opens_a_case_and_takes_ownership(browser_page: Any, agent: Any) -> None:
    result = report_case(
        services.IntakeData(
            source="groove",
            external_id="5001",
            subject="Video in Lektion 3 lädt nicht",
            body="Das Video dreht sich nur im Kreis.",
            customer=services.CustomerData(email="jana@web.de"),
            tags=["technik"],
        )
    )
    assert result.case is not None
    page = browser_page
    login(page, "anna", "agent-pass-123")
    page.goto("/cases/")
    assert page.locator("h1").inner_text().startswith("Technikfälle")
    page.click("text=Video in Lektion 3 lädt nicht")
    page.wait_for_url(f"**/cases/{result.case.pk}/")
    page.click("#take-ownership")
    page.wait_for_selector("text=Du bist jetzt für diesen Fall verantwortlich.")
    assert page.locator("#case-owner").inner_text() == "Anna"
    assert page.locator("#case-status").inner_text() == "In Bearbeitung"
    case = Case.objects.get(pk=result.case.pk)
    assert case.owner == agent
