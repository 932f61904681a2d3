from __future__ import annotations

from typing import Any

from django.db import transaction
from django.test import Client

from sirene.flows import intake as intake_flow
from sirene.incidents.models import Incident, ProblemGroup
from sirene.incidents.tests.conftest import make_case


def _burst(n: int = 6) -> list[Any]:
    cases = []
    for i in range(n):
        with transaction.atomic():
            case = make_case(
                f"k{i}@gmx.de", "Login geht nicht auf dem iPhone, Fehler 502", attributes={"plan": "pro"}
            )
            intake_flow.group_and_escalate(case)
        cases.append(case)
    return cases


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_the_incident_page_shows_the_brief_in_german_and_acknowledge_works(agent: Any, lead: Any) -> None:
    from sirene.escalation.models import Person

    Person.objects.create(name="Anna", user=agent)  # a responder (issue 22): without a policy, everyone known is
    _burst()
    incident = Incident.objects.get()
    c = _client(agent)
    page = c.get(incident.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Lagebild" in page and "Roter Faden" in page
    assert "k0@gmx.de" in page and "502" in page
    assert "<svg" in page
    c.post(f"/incidents/{incident.pk}/ack/")
    incident.refresh_from_db()
    assert incident.status == "acknowledged" and incident.acknowledged_by == agent
    assert c.post(f"/incidents/{incident.pk}/resolve/", {"resolution": "x"}).status_code == 403  # leads only
    c = _client(lead)
    c.post(f"/incidents/{incident.pk}/resolve/", {"resolution": ""})
    incident.refresh_from_db()
    assert incident.status == "acknowledged"  # an empty resolution is refused
    c.post(f"/incidents/{incident.pk}/resolve/", {"resolution": "Server neu gestartet"})
    incident.refresh_from_db()
    assert incident.status == "resolved"


def test_the_list_has_a_sparkline_per_incident(agent: Any) -> None:
    _burst()
    page = _client(agent).get("/incidents/").content.decode()
    assert 'class="sparkline"' in page and "INC-" in page


def test_a_single_case_shows_a_ready_german_reply_and_a_case_in_an_incident_shows_the_incident(
    agent: Any,
) -> None:
    with transaction.atomic():
        lonely = make_case("solo@web.de", "Video ruckelt in Chrome", category="content")
        intake_flow.group_and_escalate(lonely)
    c = _client(agent)
    page = c.get(lonely.get_absolute_url()).content.decode()
    assert 'id="hints-reply"' in page
    assert "Cache" in page and "anderen Browser" in page and "Chrome" in page
    cases = _burst()
    page = c.get(cases[0].get_absolute_url()).content.decode()
    assert 'id="hints-reply"' not in page
    assert f"INC-{Incident.objects.get().pk}" in page


def test_an_agent_moves_a_case_from_the_case_page(agent: Any) -> None:
    import numpy as np

    other = np.zeros(8, dtype=np.float32)
    other[2] = 1
    with transaction.atomic():
        a = make_case("a@web.de", "Checkout bricht ab", category="checkout", vector=other)
        intake_flow.group_and_escalate(a)
    cases = _burst(2)
    target = ProblemGroup.objects.get(memberships__case=cases[0])
    _client(agent).post(f"/incidents/cases/{a.pk}/move/", {"group": target.pk})
    target.refresh_from_db()
    assert target.count == 3
    page = _client(agent).get(target.get_absolute_url()).content.decode()
    assert "a@web.de" in page


def test_the_dashboard_draws_cases_per_category_per_day(agent: Any) -> None:
    _burst(2)
    page = _client(agent).get("/").content.decode()
    assert 'id="category-chart"' in page and "<svg" in page and "<rect" in page


def test_the_worker_tick_catches_up_stale_briefs(db: None) -> None:
    from sirene.incidents import tasks

    _burst()
    incident = Incident.objects.get()
    Incident.objects.filter(pk=incident.pk).update(brief_updated_at=None)
    assert tasks.tick() == 2  # the stale brief, and the burst's early-warning line posted once
    assert tasks.tick() == 0


def test_the_demo_adds_one_resolved_incident_and_running_it_twice_changes_nothing(db: None) -> None:
    import io

    from sirene.incidents import demo

    demo.load(io.StringIO())
    demo.load(io.StringIO())
    past = Incident.objects.get()
    assert past.status == "resolved" and past.test_reproduced == "yes"


def test_the_group_page_and_the_incident_page_name_the_rule_in_german(agent: Any) -> None:
    _burst()
    incident = Incident.objects.get()
    assert incident.group is not None
    c = _client(agent)
    rule = "ab der 6. Kundin / dem 6. Kunden innerhalb von 24 h"
    group_page = c.get(incident.group.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert rule in group_page and "Alarm ab 7" not in group_page
    incident_page = c.get(incident.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert rule in incident_page
