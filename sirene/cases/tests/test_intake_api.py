from __future__ import annotations

import json
from typing import Any

import pytest

from sirene.cases.models import Case, CaseEvent, Customer, UntrackedReport

pytestmark = pytest.mark.django_db


def report(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "source": "groove",
        "external_id": "4711",
        "subject": "Login geht nicht",
        "body": "Hallo, seit heute Morgen kann ich mich nicht mehr im Mitgliederbereich einloggen.",
        "customer": {
            "email": " Maria.Muster@GMX.de ",
            "name": "Maria Muster",
            "attributes": {"platform": "ios"},
        },
        "tags": ["#technik"],
    }
    data.update(overrides)
    return data


def test_it_creates_a_case_and_answers_201(api: Any) -> None:
    response = api.post("/api/v1/cases", report())
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"] == Case.objects.get().pk
    assert body["status"] == "new"
    assert body["category"] == "login"
    assert body["tags"] == ["technik"]
    assert body["customer"]["email"] == "maria.muster@gmx.de"
    assert body["customer"]["attributes"] == {"platform": "ios"}
    case = Case.objects.get()
    assert case.raw_payload["external_id"] == "4711"
    assert case.events.filter(kind=CaseEvent.Kind.CREATED).count() == 1


def test_a_second_delivery_returns_the_same_case_with_200_and_duplicates_nothing(api: Any) -> None:
    first = api.post("/api/v1/cases", report()).json()
    again = api.post("/api/v1/cases", report(subject="changed subject"))
    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert again.json()["subject"] == "Login geht nicht"
    assert Case.objects.count() == 1
    assert Customer.objects.count() == 1
    assert CaseEvent.objects.count() == 1


@pytest.mark.parametrize("tag", ["helga", "#helga", "HELGA", " #Helga "])
def test_an_application_error_tag_is_not_tracked_and_nothing_is_stored(api: Any, tag: str) -> None:
    response = api.post("/api/v1/cases", report(tags=["technik", tag]))
    assert response.status_code == 200
    body = response.json()
    assert body["tracked"] is False
    assert "helga" in body["reason"]
    assert Case.objects.count() == 0
    assert Customer.objects.count() == 0


def test_excluded_tags_are_configurable(api: Any, settings: Any) -> None:
    settings.EXCLUDE_TAGS = ["anwenderfehler"]
    assert api.post("/api/v1/cases", report(tags=["technik", "helga"])).status_code == 201
    response = api.post("/api/v1/cases", report(external_id="2", tags=["#Anwenderfehler"]))
    assert response.json()["tracked"] is False


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"customer": {"email": "not-an-address"}}, "customer.email"),
        ({"customer": {"name": "no identity"}}, "customer.email"),
        ({"category": "weather"}, "category"),
        ({"subject": 123}, "subject"),
        ({"tags": "technik"}, "tags"),
        ({"external_id": ""}, "external_id"),
        ({"received_at": "yesterday"}, "received_at"),
        ({"customer": {"email": "a@b.de", "attributes": [1, 2]}}, "customer.attributes"),
    ],
)
def test_invalid_input_gets_422_naming_the_field_and_stores_nothing(
    api: Any, overrides: dict[str, Any], field: str
) -> None:
    response = api.post("/api/v1/cases", report(**overrides))
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["field"] == field
    assert field in body["error"]
    assert Case.objects.count() == 0
    assert Customer.objects.count() == 0


def test_missing_source_is_named(api: Any) -> None:
    data = report()
    del data["source"]
    response = api.post("/api/v1/cases", data)
    assert response.status_code == 422
    assert response.json()["field"] == "source"


def test_a_customer_without_email_is_accepted_with_a_stable_external_id(api: Any) -> None:
    response = api.post("/api/v1/cases", report(customer={"external_id": "cust-99"}))
    assert response.status_code == 201
    assert response.json()["customer"]["external_id"] == "cust-99"
    again = api.post("/api/v1/cases", report(external_id="4712", customer={"external_id": "cust-99"}))
    assert again.json()["customer"]["id"] == response.json()["customer"]["id"]


def test_malformed_json_gets_400_and_stores_nothing(api: Any) -> None:
    response = api.post("/api/v1/cases", raw='{"source": "groove", ')
    assert response.status_code == 400
    assert "malformed JSON" in response.json()["error"]
    assert Case.objects.count() == 0


def test_a_body_over_one_megabyte_is_refused_with_413(api: Any) -> None:
    data = report(body="x" * (1024 * 1024 + 10))
    response = api.post("/api/v1/cases", raw=json.dumps(data))
    assert response.status_code == 413
    assert Case.objects.count() == 0


def test_without_a_valid_token_it_answers_401(client: Any, api_token: str) -> None:
    response = client.post("/api/v1/cases", json.dumps(report()), content_type="application/json")
    assert response.status_code == 401
    response = client.post(
        "/api/v1/cases",
        json.dumps(report()),
        content_type="application/json",
        headers={"Authorization": "Bearer nope"},
    )
    assert response.status_code == 401
    assert Case.objects.count() == 0


def test_a_revoked_token_is_refused(api: Any) -> None:
    from sirene.accounts.models import ApiToken
    from sirene.accounts.services import revoke_token

    revoke_token(ApiToken.objects.get())
    assert api.post("/api/v1/cases", report()).status_code == 401


def test_list_filters_and_paginates(api: Any) -> None:
    for i in range(5):
        api.post(
            "/api/v1/cases",
            report(external_id=f"l{i}", subject=f"Video lädt nicht {i}", tags=["technik", "video"]),
        )
    api.post(
        "/api/v1/cases",
        report(external_id="c1", subject="Zahlung fehlgeschlagen", body="PayPal Fehler", tags=["technik"]),
    )
    page = api.get("/api/v1/cases", per_page=2).json()
    assert page["total"] == 6 and len(page["items"]) == 2 and page["next_page"] == 2
    assert api.get("/api/v1/cases", category="checkout").json()["total"] == 1
    assert api.get("/api/v1/cases", tag="#Video").json()["total"] == 5
    assert api.get("/api/v1/cases", q="Zahlung").json()["total"] == 1
    assert api.get("/api/v1/cases", status="solved").json()["total"] == 0
    assert api.get("/api/v1/cases", status="bogus").status_code == 422


def test_get_unknown_case_is_404(api: Any) -> None:
    response = api.get("/api/v1/cases/999999")
    assert response.status_code == 404


def test_openapi_schema_is_served(client: Any) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert "/api/v1/cases" in response.json()["paths"]


def test_nul_characters_are_dropped_instead_of_failing_on_postgresql(api: Any) -> None:
    response = api.post(
        "/api/v1/cases",
        report(
            subject="Lo\u0000gin",
            body="kaputt\u0000",
            customer={"email": "a@b.de", "name": "A\u0000", "attributes": {"x\u0000": "y\u0000"}},
        ),
    )
    assert response.status_code == 201, response.content
    case = Case.objects.get()
    assert case.subject == "Login" and case.body == "kaputt"
    assert case.customer.attributes == {"x": "y"}


def test_a_report_tagged_but_not_technik_is_kept_for_the_audit_only(api: Any) -> None:
    """The walkthrough's #buchhaltung invoice request joined the "Rechnung fehlt" group: only #technik is a tech case."""
    response = api.post(
        "/api/v1/cases",
        report(external_id="b1", subject="Rechnung bitte", body="Bitte schicken Sie mir die Rechnung.", tags=["#buchhaltung"]),
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["tracked"] is False
    assert "#buchhaltung" in body["reason"] and "#technik" in body["reason"]
    assert Case.objects.count() == 0 and Customer.objects.count() == 0
    row = UntrackedReport.objects.get()
    assert (row.source, row.external_id, row.tags) == ("groove", "b1", ["buchhaltung"])
    # A second delivery changes nothing.
    again = api.post("/api/v1/cases", report(external_id="b1", tags=["#buchhaltung"]))
    assert again.json()["tracked"] is False
    assert UntrackedReport.objects.count() == 1
    # Not in the list, so not in a group and not in detection either (those read cases only).
    assert api.get("/api/v1/cases").json()["total"] == 0


def test_untagged_and_technik_tagged_reports_stay_tech_cases(api: Any) -> None:
    assert api.post("/api/v1/cases", report(external_id="u1", tags=[])).status_code == 201
    assert api.post("/api/v1/cases", report(external_id="u2", tags=["Technik", "video"])).status_code == 201
    assert Case.objects.count() == 2
    assert UntrackedReport.objects.count() == 0


def test_the_spreadsheet_import_keeps_its_label_tags(tmp_path: Any) -> None:
    from sirene.flows.intake import import_csv

    sheet = tmp_path / "sheet.csv"
    sheet.write_text("E-Mail;Betreff;Tags\nkundin@gmx.de;Video lädt nicht;video\n", encoding="utf-8")
    import_csv(sheet)
    assert Case.objects.get().tags == ["video"]
