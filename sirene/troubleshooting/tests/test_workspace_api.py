from __future__ import annotations

from typing import Any

from sirene.cases.models import CaseEvent, Customer
from sirene.troubleshooting.models import Stage, StageState

from .conftest import make_case


def test_the_workspace_lists_every_stage_of_the_guide_in_order(api: Any, case: Any) -> None:
    data = api.get(f"/api/v1/workspace/{case.pk}").json()
    assert [s["stage"] for s in data["stages"]] == list(Stage.values)
    assert {s["state"] for s in data["stages"]} == {StageState.OPEN}


def test_a_stage_records_state_who_when_and_notes(api: Any, case: Any, agent: Any) -> None:
    response = api.post(
        f"/api/v1/workspace/{case.pk}/stages/history", {"state": "done", "notes": "Nichts Neues"}
    )
    assert response.status_code == 200, response.content
    stage = next(s for s in response.json()["stages"] if s["stage"] == "history")
    assert (stage["state"], stage["by"], stage["notes"]) == ("done", "anna", "Nichts Neues")
    assert CaseEvent.objects.filter(case=case, field="stage:history", new_value="done").exists()


def test_an_unknown_stage_or_state_is_a_422_naming_the_field(api: Any, case: Any) -> None:
    bad_stage = api.post(f"/api/v1/workspace/{case.pk}/stages/astrology", {"state": "done"})
    bad_state = api.post(f"/api/v1/workspace/{case.pk}/stages/history", {"state": "finished"})
    assert bad_stage.status_code == 422 and bad_stage.json()["field"] == "stage"
    assert bad_state.status_code == 422 and bad_state.json()["field"] == "state"


def test_an_unknown_case_is_a_404(api: Any, db: Any) -> None:
    assert api.get("/api/v1/workspace/999999").status_code == 404


def test_the_project_stage_cannot_be_done_before_a_backup_exists(api: Any, case: Any) -> None:
    refused = api.post(f"/api/v1/workspace/{case.pk}/stages/project", {"state": "done"})
    assert refused.status_code == 422
    assert "backup" in refused.json()["error"]
    assert (
        api.post(
            f"/api/v1/workspace/{case.pk}/backups", {"kind": "export", "data": {"projects": []}}
        ).status_code
        == 201
    )
    assert api.post(f"/api/v1/workspace/{case.pk}/stages/project", {"state": "done"}).status_code == 200


def test_a_reconversion_is_refused_without_a_backup_and_recorded_with_one(api: Any, case: Any) -> None:
    refused = api.post(f"/api/v1/workspace/{case.pk}/conversions", {"result": "success"})
    assert refused.status_code == 422 and refused.json()["field"] == "backup"
    backup = api.post(
        f"/api/v1/workspace/{case.pk}/backups",
        {"kind": "reference", "location": "s3://exports/4711.json", "checksum": "a" * 64},
    ).json()
    done = api.post(f"/api/v1/workspace/{case.pk}/conversions", {"result": "failed", "note": "Timeout"})
    assert done.status_code == 201
    assert done.json()["backup_id"] == backup["id"]
    assert api.get(f"/api/v1/workspace/{case.pk}").json()["conversions"][0]["result"] == "failed"


def test_the_reply_asks_exactly_the_questions_still_unanswered(api: Any, case: Any) -> None:
    first = api.get(f"/api/v1/workspace/{case.pk}/reply").json()
    assert len(first["questions"]) == 4
    assert "Hallo Maria Müller" in first["text"] and "zum ersten Mal" in first["text"]
    api.post(
        f"/api/v1/workspace/{case.pk}/answers",
        {"answers": {"first_seen": "Montag früh", "app_version": "3.4.1"}},
    )
    second = api.get(f"/api/v1/workspace/{case.pk}/reply").json()
    assert [q["key"] for q in second["questions"]] == ["action_before", "device"]
    assert "zum ersten Mal" not in second["text"]
    assert "Version" not in second["text"]
    assert "1. Was haben Sie direkt davor gemacht" in second["text"]


def test_setup_answers_become_customer_attributes_with_an_audit_event(api: Any, case: Any) -> None:
    api.post(f"/api/v1/workspace/{case.pk}/answers", {"answers": {"device": "iPhone 13", "os": "iOS 17"}})
    customer = Customer.objects.get(pk=case.customer_id)
    assert customer.attributes["device"] == "iPhone 13"
    assert CaseEvent.objects.filter(case=case, field="customer.device", new_value="iPhone 13").exists()


def test_an_answer_to_an_unknown_question_is_refused_and_nothing_is_stored(api: Any, case: Any) -> None:
    response = api.post(
        f"/api/v1/workspace/{case.pk}/answers", {"answers": {"device": "Pixel 8", "shoe_size": "42"}}
    )
    assert response.status_code == 422 and response.json()["field"] == "answers.shoe_size"
    assert "device" not in Customer.objects.get(pk=case.customer_id).attributes


def test_the_customers_other_open_cases_are_shown_and_can_be_linked(api: Any, case: Any) -> None:
    other = make_case("T-2", subject="Login geht nicht")
    data = api.get(f"/api/v1/workspace/{case.pk}").json()
    assert [c["id"] for c in data["open_cases"]] == [other.pk]
    assert api.post(f"/api/v1/workspace/{case.pk}/links", {"case_id": other.pk}).status_code == 201
    again = api.post(f"/api/v1/workspace/{other.pk}/links", {"case_id": case.pk})
    assert again.json()["linked_case_ids"] == [case.pk]
    assert api.get(f"/api/v1/workspace/{other.pk}").json()["linked_cases"][0]["id"] == case.pk
    assert api.post(f"/api/v1/workspace/{case.pk}/links", {"case_id": "zwei"}).json()["field"] == "case_id"
    assert api.post(f"/api/v1/workspace/{case.pk}/links", {"case_id": 987654}).status_code == 422


def test_the_customers_open_cases_endpoint_gives_the_joint_view(api: Any, case: Any) -> None:
    make_case("T-3", subject="Video lädt nicht")
    rows = api.get(f"/api/v1/customers/{case.customer_id}/open-cases").json()
    assert len(rows) == 2 and {"owner", "overdue", "holding_reply"} <= set(rows[0])


def test_an_article_the_customer_read_is_recorded_from_the_workspace(api: Any, case: Any) -> None:
    response = api.post(
        f"/api/v1/workspace/{case.pk}/article-views",
        {"article": "https://hilfe.example.com/sync", "title": "Sync reparieren"},
    )
    assert response.status_code == 201
    assert response.json()["articles_read"][0]["title"] == "Sync reparieren"
    assert api.post(f"/api/v1/workspace/{case.pk}/article-views", {"article": ""}).status_code == 422
