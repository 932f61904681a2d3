from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import override_settings

from sirene.cases import services as cases
from sirene.cases.models import CaseEvent, Status
from sirene.core import clock
from sirene.flows import cases as case_flows
from sirene.troubleshooting import queries, services

from .conftest import make_case


def test_forwarding_to_tech_keeps_the_owner_and_records_it(case: Any, agent: Any, lead: Any) -> None:
    cases.take_ownership(case, agent)
    services.forward_to_tech(case, actor=lead, note="Bitte Sync-Logs prüfen")
    case.refresh_from_db()
    assert case.owner == agent
    assert CaseEvent.objects.filter(
        case=case, field="forwarded_to_tech", message="Bitte Sync-Logs prüfen"
    ).exists()


def test_forwarding_an_unowned_case_makes_the_forwarder_its_one_owner(case: Any, agent: Any) -> None:
    services.forward_to_tech(case, actor=agent)
    case.refresh_from_db()
    assert case.owner == agent and case.status == Status.IN_PROGRESS


def test_a_case_is_overdue_once_the_customer_has_not_heard_from_us_for_24_hours(
    case: Any, agent: Any
) -> None:
    cases.take_ownership(case, agent)
    clock.advance(hours=23)
    assert list(queries.overdue_cases(agent)) == []
    clock.advance(hours=2)
    assert list(queries.overdue_cases(agent)) == [case]
    cases.mark_customer_contacted(case, how="Zwischenstand geschickt")
    assert list(queries.overdue_cases(agent)) == []


@override_settings(CUSTOMER_REPLY_DUE_HOURS=4)
def test_the_overdue_time_is_configurable(case: Any, agent: Any) -> None:
    cases.take_ownership(case, agent)
    clock.advance(hours=5)
    assert queries.is_overdue(case)


def test_overdue_cases_show_to_their_owner_and_to_leads_but_not_to_other_agents(
    case: Any, agent: Any, lead: Any, django_user_model: Any
) -> None:
    other = django_user_model.objects.create_user("ben", "ben@example.com", "pw-123456789")
    cases.take_ownership(case, agent)
    clock.advance(hours=30)
    assert list(queries.overdue_cases(agent)) == [case]
    assert list(queries.overdue_cases(lead)) == [case]
    assert list(queries.overdue_cases(other)) == []


def test_a_solved_case_is_never_overdue(case: Any, agent: Any) -> None:
    cases.take_ownership(case, agent)
    case_flows.change_status(case, Status.SOLVED, actor=agent, note="Cache geleert")
    clock.advance(days=3)
    assert list(queries.overdue_cases(agent)) == []


def test_a_missed_follow_up_makes_the_case_overdue(case: Any, agent: Any) -> None:
    cases.take_ownership(case, agent)
    cases.mark_customer_contacted(case)
    services.schedule_follow_up(case, clock.now() + dt.timedelta(hours=2), actor=agent, note="Anruf")
    clock.advance(hours=3)
    assert queries.is_overdue(case)
    assert list(queries.overdue_cases(agent)) == [case]


def test_open_questions_leads_see_all_agents_see_theirs_and_unowned(
    db: Any, now: Any, agent: Any, lead: Any, django_user_model: Any
) -> None:
    other = django_user_model.objects.create_user("ben", "ben@example.com", "pw-123456789")
    mine = make_case("Q-1", email="a@example.com")
    theirs = make_case("Q-2", email="b@example.com")
    unowned = make_case("Q-3", email="c@example.com")
    make_case("Q-4", email="d@example.com")  # in progress, not an open question
    case_flows.change_status(mine, Status.OPEN_QUESTION, actor=agent)
    case_flows.change_status(theirs, Status.OPEN_QUESTION, actor=other)
    case_flows.change_status(unowned, Status.OPEN_QUESTION, actor=None)
    assert {c.pk for c in queries.open_questions(lead)} == {mine.pk, theirs.pk, unowned.pk}
    assert {c.pk for c in queries.open_questions(agent)} == {mine.pk, unowned.pk}


def test_the_open_questions_api_gives_age_owner_and_holding_reply_state(
    api: Any, case: Any, agent: Any
) -> None:
    case_flows.change_status(case, Status.OPEN_QUESTION, actor=agent)
    clock.advance(hours=5)
    rows = api.get("/api/v1/workspace/open-questions").json()
    assert rows[0]["id"] == case.pk
    assert rows[0]["age_hours"] == 5.0
    assert rows[0]["owner"] == "anna"
    assert rows[0]["holding_reply"] in {"none", "queued", "sent", "failed"}


def test_my_cases_lists_only_my_open_cases(api: Any, case: Any, agent: Any, lead: Any) -> None:
    other = make_case("T-9", email="x@example.com")
    cases.take_ownership(case, agent)
    cases.take_ownership(other, lead)
    assert [r["id"] for r in api.get("/api/v1/workspace/my-cases").json()] == [case.pk]
