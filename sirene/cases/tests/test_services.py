from __future__ import annotations

from typing import Any

import pytest

from sirene.cases import services
from sirene.cases.models import Case, CaseEvent, Status
from sirene.flows import cases as case_flows
from sirene.flows.intake import report_case

pytestmark = pytest.mark.django_db


def new_case(external_id: str = "1", **customer: Any) -> Case:
    result = report_case(
        services.IntakeData(
            source="test",
            external_id=external_id,
            subject="App synchronisiert nicht",
            body="Mein Fortschritt aus der App fehlt im Mitgliederbereich.",
            customer=services.CustomerData(**({"email": "kim@example.de"} | customer)),
        )
    )
    assert result.case is not None
    return result.case


def test_every_change_is_recorded_with_who_what_and_when(agent: Any, lead: Any) -> None:
    case = new_case()
    services.take_ownership(case, agent)
    case_flows.change_status(case, Status.OPEN_QUESTION, actor=agent, note="an Technik")
    services.assign(case, lead, actor=lead)
    changes = list(
        CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.CHANGED).values_list(
            "field", "old_value", "new_value", "actor__username"
        )
    )
    assert changes == [
        ("owner", "", "Anna", "anna"),
        ("status", "new", "in_progress", "anna"),
        ("status", "in_progress", "open_question", "anna"),
        ("owner", "Anna", "Tara", "tara"),
    ]
    assert CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.NOTE, message="an Technik").exists()


def test_moving_an_unowned_case_forward_makes_the_actor_its_owner(agent: Any) -> None:
    case = new_case()
    case = case_flows.change_status(case, Status.WAITING, actor=agent)
    assert case.owner == agent


def test_solving_stores_the_solution_and_time(agent: Any) -> None:
    case = case_flows.change_status(new_case(), Status.SOLVED, actor=agent, note="App neu installiert")
    assert case.solution == "App neu installiert" and case.solved_at is not None


def test_an_unknown_status_is_refused_and_nothing_changes(agent: Any) -> None:
    case = new_case()
    with pytest.raises(services.IntakeError) as err:
        case_flows.change_status(case, "vanished", actor=agent)
    assert err.value.field == "status"
    case.refresh_from_db()
    assert case.status == Status.NEW
    assert not CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.CHANGED).exists()


def test_the_same_customer_is_recognised_by_email_in_any_spelling() -> None:
    first = new_case("1", email="Kim@Example.DE")
    second = new_case("2", email=" kim@example.de ")
    assert first.customer_id == second.customer_id


def test_customer_attributes_are_merged_not_replaced() -> None:
    new_case("1", attributes={"platform": "mobile"})
    case = new_case("2", attributes={"app_version": "3.2"})
    case.customer.refresh_from_db()
    assert case.customer.attributes == {"platform": "mobile", "app_version": "3.2"}


def test_a_category_is_guessed_when_none_is_given() -> None:
    assert new_case().category == "sync"


def test_intake_analyses_the_case_text() -> None:
    case = new_case()
    case.refresh_from_db()
    assert case.analysed_at is not None
    assert "Fortschritt" in case.clean_text
    assert case.embedding is not None and len(bytes(case.embedding)) > 0
