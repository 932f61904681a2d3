"""The tracking list finds customers however their names are typed, shows badges and acts on many cases.

Runs on SQLite and, with SIRENE_DATABASE_URL pointing at PostgreSQL, on PostgreSQL (the search key and its
LIKE must behave the same on both)."""

from __future__ import annotations

from typing import Any

import pytest

from sirene.cases import services
from sirene.cases.models import Case, Customer, Status
from sirene.cases.search import fold, search_key

pytestmark = pytest.mark.django_db


def make(n: int, *, email: str, name: str = "", subject: str = "Login geht nicht") -> Case:
    result = services.intake(
        services.IntakeData(
            source="t",
            external_id=str(n),
            subject=subject,
            body="…",
            customer=services.CustomerData(email=email, name=name),
            tags=["technik"],
        )
    )
    assert result.case is not None
    return result.case


def found(client: Any, q: str) -> set[int]:
    return {row.case.pk for row in client.get("/cases/", {"q": q}).context["rows"]}


def test_folding_treats_umlauts_sharp_s_and_case_alike() -> None:
    assert fold("Jürgen GRÖßER") == "juergen groesser"
    assert fold("Ku\u0308hn") == fold("Kühn") == "kuehn"  # combining diaeresis
    assert "kruger" in search_key("Krüger") and "krueger" in search_key("Krüger")
    assert search_key("Anna Meier") == "anna meier"


def test_customer_names_are_found_with_and_without_umlauts(client: Any, agent: Any) -> None:
    anna = make(1, email="anna.k@gmx.de", name="Anna Krüger")
    juergen = make(2, email="j.groesser@web.de", name="Jürgen Größer", subject="Zertifikat falsch")
    other = make(3, email="lea@example.de", name="Lea Schmidt")
    client.force_login(agent)
    for q in ("Krüger", "krueger", "KRUGER", "Anna Krüger"):
        assert found(client, q) == {anna.pk}, q
    for q in ("Größer", "groesser", "Grösser", "GROSSER", "jürgen"):
        assert found(client, q) == {juergen.pk}, q
    assert found(client, "SCHMIDT") == {other.pk}
    assert found(client, "GMX.DE") == {anna.pk}


def test_subjects_match_without_umlauts_too(client: Any, agent: Any) -> None:
    case = make(1, email="a@example.de", subject="Bestätigung kommt nicht an")
    make(2, email="b@example.de", subject="Video hängt")
    client.force_login(agent)
    assert found(client, "bestaetigung") == {case.pk}
    assert found(client, "BESTÄTIGUNG") == {case.pk}


def test_a_renamed_customer_is_found_by_the_new_name(client: Any, agent: Any) -> None:
    case = make(1, email="x@example.de", name="")
    customer = Customer.objects.get(pk=case.customer_id)
    customer.name = "Özlem Weiß"
    customer.save(update_fields=["name"])
    client.force_login(agent)
    assert found(client, "oezlem weiss") == {case.pk}


def test_rows_carry_group_incident_and_last_contact(client: Any, agent: Any) -> None:
    case = make(1, email="a@example.de")
    client.force_login(agent)
    html = client.get("/cases/").content.decode()
    assert "noch nicht" in html  # last contact: never
    services.mark_customer_contacted(case, how="Antwort gesendet")
    row = client.get("/cases/").context["rows"][0]
    assert row.last_contact is not None


def test_bulk_assign_and_status_change_all_ticked_cases(client: Any, agent: Any, lead: Any) -> None:
    cases = [make(i, email=f"k{i}@example.de") for i in range(4)]
    client.force_login(lead)
    ids = [c.pk for c in cases[:3]]
    response = client.post("/cases/bulk/", {"ids": ids, "action": "assign", "value": agent.username})
    assert response.status_code == 302
    assert set(Case.objects.filter(owner=agent).values_list("pk", flat=True)) == set(ids)
    client.post("/cases/bulk/", {"ids": ids, "action": "status", "value": "waiting"})
    assert set(Case.objects.filter(status=Status.WAITING).values_list("pk", flat=True)) == set(ids)
    assert Case.objects.get(pk=cases[3].pk).owner is None


def test_bulk_with_bad_input_changes_nothing(client: Any, agent: Any) -> None:
    cases = [make(i, email=f"k{i}@example.de") for i in range(2)]
    client.force_login(agent)
    ids = [c.pk for c in cases]
    response = client.post("/cases/bulk/", {"ids": ids, "action": "status", "value": "kaputt"}, follow=True)
    assert "Status" in response.content.decode()
    client.post("/cases/bulk/", {"ids": [*ids, 99999], "action": "assign", "value": agent.username})
    assert not Case.objects.filter(owner__isnull=False).exists()
    response = client.post("/cases/bulk/", {"ids": [], "action": "assign", "value": ""}, follow=True)
    assert "mindestens einen Fall" in response.content.decode()


def test_bulk_moves_cases_into_an_open_incident(client: Any, lead: Any) -> None:
    from sirene.incidents.services import open_incident

    first = make(1, email="a@example.de")
    incident = open_incident(title="Fehler 502", description="", category="app_error", origin="manual", cases=[first])
    others = [make(i, email=f"k{i}@example.de", subject="Seite lädt nicht – 502") for i in range(2, 4)]
    client.force_login(lead)
    client.post("/cases/bulk/", {"ids": [c.pk for c in others], "action": "incident", "value": incident.pk})
    assert set(incident.cases.values_list("pk", flat=True)) == {first.pk, *[c.pk for c in others]}
    html = client.get("/cases/").content.decode()
    assert f"INC-{incident.pk}" in html
