"""The case history reads as sentences in the viewer's language, also for rows written before."""

from __future__ import annotations

from typing import Any

import pytest

from sirene.cases import services
from sirene.cases.models import Case, Customer

pytestmark = pytest.mark.django_db


def make() -> Case:
    result = services.intake(
        services.IntakeData(
            source="groove",
            external_id="5004",
            subject="Login geht nicht",
            body="…",
            customer=services.CustomerData(
                email="heike@example.de", attributes={"platform": "mobile", "app_version": "3.4.1", "club_member": True}
            ),
            tags=["technik"],
        )
    )
    assert result.case is not None
    return result.case


def history(client: Any, case: Case, lang: str = "de") -> str:
    response = client.get(f"/cases/{case.pk}/", headers={"Accept-Language": lang})
    return " ".join(line.text for line in response.context["history"])


def test_status_and_owner_changes_read_as_german_sentences(client: Any, agent: Any) -> None:
    case = make()
    services.take_ownership(case, agent)
    services.change_status(case, "waiting", actor=agent)
    client.force_login(agent)
    text = history(client, case)
    assert "Fall aus Groove-Ticket #5004 angelegt" in text
    assert "Status von Neu auf In Bearbeitung geändert" in text
    assert "Status von In Bearbeitung auf Wartet auf Kunde geändert" in text
    assert f"{agent.display_name()} ist jetzt verantwortlich" in text
    assert "in_progress" not in text and "owner" not in text


def test_the_same_history_is_english_for_an_english_viewer(client: Any, agent: Any) -> None:
    case = make()
    services.change_status(case, "in_progress", actor=agent)
    client.force_login(agent)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    text = history(client, case, "en")
    assert "Status changed from New to In progress" in text


def test_old_rows_with_technical_messages_are_translated(client: Any, agent: Any) -> None:
    case = make()
    services.record(case, "system", message="Known problem confirmed: Zahlung fehlgeschlagen im Checkout")
    services.record(case, "note", message="reproduction: repro_steps, repro_environment, repro_test_account_result")
    services.record(case, "note", message="backup #2 sha256 cb2f00aa11bb22cc33dd")
    services.record(case, "note", message="follow-up on 03.12.2026 10:00: Rückruf vereinbart")
    services.record(case, "changed", field="customer.browser", new="Firefox 133")
    services.record(case, "changed", field="reproduced", old="not_tried", new="yes")
    client.force_login(agent)
    response = client.get(f"/cases/{case.pk}/")
    html = response.content.decode()
    text = history(client, case)
    assert "Bekanntes Problem bestätigt: Zahlung fehlgeschlagen im Checkout" in text
    assert "Nachstellung gespeichert (Schritte, Umgebung, Ergebnis im Testkonto)" in text
    assert "Datensicherung #2 gespeichert" in text
    assert "Folgetermin mit der Kundschaft am 03.12.2026 10:00 geplant" in text and "Rückruf vereinbart" in html
    assert "Kundenangabe Browser: Firefox 133" in text
    assert "Im Testkonto nachgestellt: Ja" in text
    for raw in ("sha256", "repro_steps", "customer.browser", "not_tried", "follow-up"):
        assert raw not in text


def test_attributes_have_german_labels(client: Any, agent: Any) -> None:
    case = make()
    client.force_login(agent)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Plattform: <strong>mobil</strong>" in html
    assert "App-Version: <strong>3.4.1</strong>" in html
    assert "Club-Mitglied: <strong>ja</strong>" in html
    assert "app_version:" not in html
    assert Customer.objects.get().attributes["platform"] == "mobile"  # stored keys stay stable
