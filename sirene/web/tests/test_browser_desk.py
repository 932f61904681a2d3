"""The everyday desk in a real browser: a lead bulk-assigns three cases with the keyboard and mouse, and
edits the escalation policy while watching the preview change."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import login
from sirene.cases import services
from sirene.cases.models import Case, Status

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def make(n: int, name: str) -> Case:
    result = services.intake(
        services.IntakeData(
            source="groove", external_id=str(6000 + n), subject=f"Login klappt nicht ({n})", body="…",
            customer=services.CustomerData(email=f"k{n}@gmx.de", name=name), tags=["technik"],
        )
    )
    assert result.case is not None
    return result.case


def test_a_lead_finds_customers_by_name_and_bulk_assigns_three_cases(
    browser_page: Any, lead: Any, agent: Any
) -> None:
    cases = [make(1, "Anna Krüger"), make(2, "Jürgen Größer"), make(3, "Heike Weiß"), make(4, "Lea Schmidt")]
    page = browser_page
    login(page, "tara", "lead-pass-123")
    page.goto("/cases/")
    page.keyboard.press("/")
    page.keyboard.type("groesser")
    page.keyboard.press("Enter")
    page.wait_for_url("**q=groesser**")
    assert page.locator("tr.case-row").count() == 1 and "Jürgen Größer" in page.inner_text("#case-list")
    page.goto("/cases/")
    # Newest first: cases 4, 3, 2, 1. Tick the first three rows with the keyboard (j moves, x ticks).
    for _ in range(3):
        page.keyboard.press("j")
        page.keyboard.press("x")
    assert page.inner_text("#bulk-count") == "3 ausgewählt"
    page.select_option("#bulk-action", "assign")
    page.select_option("#bulk-value", agent.username)
    page.click("#bulk-apply")
    page.wait_for_selector("text=3 Fälle geändert.")
    owned = set(Case.objects.filter(owner=agent).values_list("pk", flat=True))
    assert owned == {cases[3].pk, cases[2].pk, cases[1].pk}
    assert Case.objects.get(pk=cases[0].pk).owner is None
    assert set(Case.objects.filter(pk__in=owned).values_list("status", flat=True)) == {Status.IN_PROGRESS}
    assert page.locator("tr.case-row", has_text="Anna Krüger").locator("td").nth(7).inner_text() == "–"


def test_a_lead_edits_the_wait_and_the_preview_changes(browser_page: Any, lead: Any) -> None:
    from sirene.escalation import services as escalation

    people = {
        p["key"]: escalation.save_person(
            name=p["name"], slack_user_id=p["slack_user_id"], phone=p["phone"], role=p["role"]
        )
        for p in escalation.demo_people()
    }
    policy = escalation.ensure_default_policy(people)
    page = browser_page
    login(page, "tara", "lead-pass-123")
    page.goto(f"/escalation/policies/{policy.pk}/")
    page.check("input[name=absent][value=Tara]")
    page.click("form[method=get] button:has-text('Anzeigen')")
    page.wait_for_url("**absent=Tara**")
    preview = page.inner_text("#preview")
    assert "nach 15 min\tPiwi" not in preview
    assert "Tara wird übersprungen (abwesend)" in preview and "nach 15 min" in preview
    wait = policy.steps.get(kind="wait_ack")
    page.click(f"#step-edit-{wait.pk} summary")
    page.fill(f"#step-edit-{wait.pk} input[name=minutes]", "10")
    page.click(f"#step-edit-{wait.pk} button[name=save-step]")
    page.wait_for_selector("text=Schritt gespeichert.")
    preview = page.inner_text("#preview")
    # The scenario (Tara absent) is kept, and the calls now start after 10 minutes.
    assert "Tara wird übersprungen (abwesend)" in preview
    assert "nach 10 min" in preview and "Anruf bei Piwi (1 von 2)" in preview
    assert "nach 15 min" not in preview
