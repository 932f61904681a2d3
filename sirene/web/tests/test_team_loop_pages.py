"""The team in the loop on the pages (issue 18): "Gleiches Problem wie …?" on the case page and the
Vorwarnung, „möglicherweise zwei Probleme“ with „Aufteilen“ on the incident page, „Störung
eröffnen“ on the case page, the group page and as a bulk action; German by default, English
available. Real intake API and detector; a browser test drives the yes."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from conftest import login
from sirene.cases.models import Case
from sirene.flows.tests.test_team_loop import BURST, SIXTH, _five, _incident_of_two
from sirene.incidents import services, team_loop
from sirene.incidents.models import EarlyWarning, GroupMembership, Incident, ProblemGroup, SameProblemAnswer


@pytest.fixture
def send(api: Any) -> Callable[..., int]:
    counter = {"n": 0}

    def post(subject: str, body: str, email: str) -> int:
        counter["n"] += 1
        payload = {
            "source": "test",
            "external_id": f"page-{counter['n']}",
            "subject": subject,
            "body": body,
            "customer": {"email": email},
            "tags": ["technik"],
        }
        response = api.post("/api/v1/cases", payload)
        assert response.status_code in (200, 201), response.content
        return int(response.json()["id"])

    return post


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _page(c: Client, url: str, lang: str = "de") -> str:
    response = c.get(url, HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 200, url
    return html.unescape(response.content.decode())


def test_the_case_page_asks_and_the_yes_opens_the_incident(send: Callable[..., int], agent: Any) -> None:
    ids = _five(send)
    sixth = send(*SIXTH, "sechste@web.de")
    group = ProblemGroup.objects.get(pk=GroupMembership.objects.get(case_id=ids[0]).group_id)
    c = _client(agent)
    page = _page(c, f"/cases/{sixth}/")
    assert f"Gleiches Problem wie G-{group.pk} „" in page and "(5 Kund:innen)?" in page
    assert "Störung eröffnen" in page
    english = _page(c, f"/cases/{sixth}/", "en")
    assert f"Same problem as G-{group.pk} „" in english and "(5 customers)?" in english
    response = c.post(
        f"/team/cases/{sixth}/same-problem/",
        {"answer": "yes", "group": group.pk, "source": "case", "back": f"/cases/{sixth}/"},
        HTTP_ACCEPT_LANGUAGE="de",
    )
    assert response.status_code == 302 and response["Location"] == f"/cases/{sixth}/"
    incident = Incident.objects.get()
    assert incident.customers_affected == 6
    page = _page(c, incident.get_absolute_url())
    assert "vom Team bestätigt: 1" in page
    assert f"Team: Fall #{sixth} ist dasselbe Problem" in page  # the timeline, from the event's data
    after = _page(c, f"/cases/{sixth}/")
    assert "Gleiches Problem wie" not in after and "Störung eröffnen" not in after


def test_the_answer_refuses_bad_input_and_strangers(send: Callable[..., int], agent: Any) -> None:
    ids = _five(send)
    sixth = send(*SIXTH, "sechste@web.de")
    group_id = GroupMembership.objects.get(case_id=ids[0]).group_id
    c = _client(agent)
    c.post(f"/team/cases/{sixth}/same-problem/", {"answer": "vielleicht", "group": group_id})
    c.post(f"/team/cases/{sixth}/same-problem/", {"answer": "yes", "group": 999999})
    assert SameProblemAnswer.objects.count() == 0
    assert "Bitte mit ja oder nein antworten." in _page(c, f"/cases/{sixth}/")
    anonymous = Client().post(f"/team/cases/{sixth}/same-problem/", {"answer": "yes", "group": group_id})
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert SameProblemAnswer.objects.count() == 0 and Incident.objects.count() == 0
    assert c.get(f"/team/cases/{sixth}/same-problem/").status_code == 405


def test_the_no_keeps_them_apart_and_is_counted(send: Callable[..., int], agent: Any) -> None:
    ids = _five(send)
    sixth = send(*SIXTH, "sechste@web.de")
    group_id = GroupMembership.objects.get(case_id=ids[0]).group_id
    c = _client(agent)
    c.post(f"/team/cases/{sixth}/same-problem/", {"answer": "no", "group": group_id, "source": "case"})
    answer = SameProblemAnswer.objects.get()
    assert (answer.answer, answer.case_id, answer.group_id, answer.user) == ("no", sixth, group_id, agent)
    assert sorted(answer.case_ids) == sorted(ids)
    assert Incident.objects.count() == 0
    assert "Gleiches Problem wie" not in _page(c, f"/cases/{sixth}/")
    metrics = _page(c, "/metrics/")
    assert "als gleiches Problem bestätigt: 0 · getrennt: 1 · in zwei Probleme aufgeteilt: 0" in metrics
    assert "confirmed as the same problem: 0 · kept apart: 1" in _page(c, "/metrics/", "en")


def test_the_early_warning_asks_about_the_uncounted_report(send: Callable[..., int], agent: Any) -> None:
    ids = _five(send)
    warning = EarlyWarning.objects.get()
    sixth = send(*SIXTH, "sechste@web.de")
    c = _client(agent)
    page = _page(c, "/incidents/")
    assert f"#{sixth}" in page and "Gleiches Problem wie G-" in page
    group_id = GroupMembership.objects.get(case_id=ids[0]).group_id
    c.post(
        f"/team/cases/{sixth}/same-problem/",
        {"answer": "yes", "group": group_id, "source": "warning", "warning": warning.pk, "back": "/incidents/"},
    )
    incident = Incident.objects.get()
    assert sixth in set(incident.cases.values_list("pk", flat=True)) and incident.customers_affected == 6
    assert SameProblemAnswer.objects.get().source == "warning"


def test_the_incident_page_shows_the_near_miss_and_splits_in_one_click(
    send: Callable[..., int], agent: Any
) -> None:
    incident, a, b = _incident_of_two(send)
    services.note_possible_split(incident, a, b)
    parts = team_loop.split_parts(Incident.objects.get(pk=incident.pk))
    c = _client(agent)
    page = _page(c, incident.get_absolute_url())
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split()).replace(" :", ":")
    assert f"möglicherweise zwei Probleme: „{parts[0].quote}“ (4) / „{parts[1].quote}“ (3)" in text
    assert "Aufteilen" in page and "Ein Problem" in page
    assert "possibly two problems" in _page(c, incident.get_absolute_url(), "en")
    response = c.post(f"/team/incidents/{incident.pk}/split/")
    assert response.status_code == 302
    incident.refresh_from_db()
    assert sorted(incident.cases.values_list("pk", flat=True)) == sorted(a)
    page = _page(c, incident.get_absolute_url())
    assert "möglicherweise zwei Probleme:" not in page
    assert "vom Team getrennt: 1" in page
    assert "Team: 3 Fälle in Problemgruppe G-" in page


def test_open_an_incident_from_the_case_the_group_and_the_list(send: Callable[..., int], agent: Any) -> None:
    ids = _five(send)
    c = _client(agent)
    group = ProblemGroup.objects.get(pk=GroupMembership.objects.get(case_id=ids[0]).group_id)
    assert "Störung eröffnen" in _page(c, group.get_absolute_url())
    response = c.post(f"/team/groups/{group.pk}/open-incident/", {"title": "Meditationen spielen nicht"})
    incident = Incident.objects.get()
    assert response["Location"] == incident.get_absolute_url()
    assert (incident.title, incident.origin, incident.opened_by, incident.group) == (
        "Meditationen spielen nicht",
        "manual",
        agent,
        group,
    )
    assert 'id="open-incident-group"' not in _page(c, group.get_absolute_url()), "one live incident per group"

    other = send("Rechnung", "Ich brauche bitte eine Rechnung.", "r@web.de")
    response = c.post(f"/team/cases/{other}/open-incident/", {"title": ""})
    second = Incident.objects.exclude(pk=incident.pk).get()
    assert response["Location"] == second.get_absolute_url()
    assert list(second.cases.values_list("pk", flat=True)) == [other] and second.title == "Rechnung"

    third_ids = [send("Export", f"Der Export bricht ab ({i}).", f"e{i}@web.de") for i in range(2)]
    assert 'value="open_incident"' in _page(c, "/cases/")
    response = c.post(
        "/cases/bulk/", {"ids": [str(i) for i in third_ids], "action": "open_incident", "value": "new", "back": "/cases/"}
    )
    third = Incident.objects.order_by("-pk").first()
    assert third is not None and response["Location"] == third.get_absolute_url()
    assert sorted(third.cases.values_list("pk", flat=True)) == sorted(third_ids)
    bad = c.post("/cases/bulk/", {"ids": ["999999"], "action": "open_incident", "value": "new"})
    assert bad.status_code == 302 and Incident.objects.count() == 3


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_in_a_browser_an_agent_answers_yes_and_the_incident_opens(
    browser_page: Any, agent: Any, api: Any
) -> None:
    def post(subject: str, body: str, email: str, n: int) -> int:
        payload = {
            "source": "test",
            "external_id": f"b-{n}",
            "subject": subject,
            "body": body,
            "customer": {"email": email},
            "tags": ["technik"],
        }
        return int(api.post("/api/v1/cases", payload).json()["id"])

    for i, (s, b) in enumerate(BURST):
        post(s, b, f"kundin{i}@gmx.de", i)
    sixth = post(*SIXTH, "sechste@web.de", 99)
    assert Incident.objects.count() == 0
    page = browser_page
    login(page, "anna", "agent-pass-123")
    page.goto(f"/cases/{sixth}/")
    page.wait_for_selector("#team-loop-panel")
    assert "Gleiches Problem wie" in page.inner_text("#team-loop-panel")
    page.click("#team-loop-panel button.same-yes")
    page.wait_for_selector("text=Als gleiches Problem verknüpft")
    incident = Incident.objects.get()
    assert incident.customers_affected == 6
    assert Case.objects.get(pk=sixth) in incident.cases.all()
    page.goto(incident.get_absolute_url())
    assert "vom Team bestätigt: 1" in page.inner_text("#brief")
