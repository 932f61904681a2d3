"""In a real browser: an agent sees the suggestion on the case page, confirms it, and finds it by search."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import login
from sirene.knowledge.models import Phrasing
from sirene.knowledge.tests.conftest import report

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_agent_confirms_a_suggestion_on_the_case_page(
    browser_page: Any, agent: Any, starter_kb: Any
) -> None:
    case = report(
        "1", "Kein Zugang", "Ich habe den Club gekauft, sehe ihn aber nicht in meinem Mitgliederbereich."
    )
    page = browser_page
    login(page, "anna", "agent-pass-123")
    page.goto(case.get_absolute_url())
    panel = page.locator("#kb-panel")
    assert "Bekannte Probleme" in panel.locator("h2").first.inner_text()
    first = panel.locator(".kb-suggestion").first
    assert "Kein Zugang zum Club / Kurs nach dem Kauf" in first.inner_text()
    first.locator("button.kb-confirm").click()
    page.wait_for_selector("text=Bestätigt. Die Wissensdatenbank hat die Formulierung dieses Falls gelernt.")
    assert page.locator(".kb-suggestion").first.get_attribute("data-state") == "confirmed"
    assert Phrasing.objects.filter(case=case, source=Phrasing.Source.CONFIRMED).count() == 1

    page.goto("/knowledge/")
    page.fill("input[name=q]", "payment declined")
    page.click("form.filters button[type=submit]")
    assert "Zahlung fehlgeschlagen im Checkout" in page.locator("#kb-results li").first.inner_text()
