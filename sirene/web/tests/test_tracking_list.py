from __future__ import annotations

from typing import Any

import pytest

from sirene.cases import services
from sirene.cases.models import Case, Status
from sirene.flows.intake import report_case

pytestmark = pytest.mark.django_db


def make(n: int, **kw: Any) -> Case:
    result = report_case(
        services.IntakeData(
            source="t",
            external_id=str(n),
            subject=kw.get("subject", f"Video lädt nicht {n}"),
            body="Lektion hängt",
            customer=services.CustomerData(email=f"k{n}@example.de"),
            tags=kw.get("tags", ["technik"]),
        )
    )
    assert result.case is not None
    return result.case


def test_the_list_needs_a_login(client: Any) -> None:
    response = client.get("/cases/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_list_is_german_by_default_and_english_on_request(client: Any, agent: Any) -> None:
    make(1)
    client.force_login(agent)
    german = client.get("/cases/").content.decode()
    assert "Technikfälle" in german and "Neu" in german
    english = client.get("/cases/", headers={"Accept-Language": "en"}).content.decode()
    assert "Tech cases" in english


def test_filters_search_and_pagination(client: Any, agent: Any) -> None:
    for i in range(55):
        make(i)
    make(100, subject="Zahlung abgelehnt", tags=["technik", "paypal"])
    client.force_login(agent)
    page = client.get("/cases/").context["page"]
    assert page.paginator.count == 56 and len(page.object_list) == 50
    assert client.get("/cases/", {"q": "Zahlung"}).context["page"].paginator.count == 1
    assert client.get("/cases/", {"tag": "paypal"}).context["page"].paginator.count == 1
    assert client.get("/cases/", {"status": "solved"}).context["page"].paginator.count == 0
    assert client.get("/cases/", {"page": 2}).context["page"].number == 2


def test_take_ownership_and_change_status_from_the_case_page(client: Any, agent: Any) -> None:
    case = make(1)
    client.force_login(agent)
    assert client.get(f"/cases/{case.pk}/").status_code == 200
    client.post(f"/cases/{case.pk}/take/")
    client.post(f"/cases/{case.pk}/status/", {"status": "solved", "note": "Cache geleert"})
    case.refresh_from_db()
    assert case.owner == agent and case.status == Status.SOLVED and case.solution == "Cache geleert"
    history = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Cache geleert" in history


def test_a_case_can_be_added_by_hand(client: Any, agent: Any) -> None:
    client.force_login(agent)
    response = client.post(
        "/cases/new/",
        {
            "email": "neu@example.de",
            "subject": "Checkout hängt",
            "body": "Zahlung bricht ab",
            "category": "",
            "tags": "technik",
        },
    )
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    assert case.owner == agent and case.category == "checkout" and case.channel == "web"


def test_a_hand_made_case_with_the_application_error_tag_is_not_tracked(client: Any, agent: Any) -> None:
    client.force_login(agent)
    client.post("/cases/new/", {"email": "x@example.de", "subject": "s", "body": "b", "tags": "#helga"})
    assert not Case.objects.exists()
