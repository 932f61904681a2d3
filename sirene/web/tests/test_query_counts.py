"""Query counts of the busiest pages and of resolve, pinned so an N+1 cannot creep back in.

Each page is measured with realistic content (suggestions, an incident, workspace entries, many
linked cases). The limits are maxima over both stores (SQLite and PostgreSQL); where a count must
not grow with the data, the test compares a small and a large data set directly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sirene.cases.models import Case, Customer
from sirene.core import clock
from sirene.incidents.tests.conftest import LOGIN_REPORTS

pytestmark = pytest.mark.django_db

# 26: the single-case ready reply reads the case's confirmed known problem (issue 12).
# +2 for issue 19: the conversation's voice (its first reply) and the case's incident for the workspace.
CASE_PAGE_MAX = 28
TRACKING_LIST_MAX = 12
INCIDENT_LIST_MAX = 10
INCIDENT_PAGE_MAX = 30
# 52 (issue 12): resolving also solves every linked case in bulk (4 queries), counts the replies per
# customer text for the siren thread and the answer (3 each) and queues the thread reply and the post update.
# 56 (issues 21/22): the answer carries "Hat der Fix gehalten?" (replies, answers and the alert: 3 reads) and
# resolving closes the run's open tasks and cancels its queued attempts (constant, not per case: 53 for 10
# cases, 55 for 50 — the case history is inserted in batches).
RESOLVE_MAX = 56


def count(fn: Callable[[], Any]) -> tuple[int, Any]:
    with CaptureQueriesContext(connection) as ctx:
        result = fn()
    return len(ctx.captured_queries), result


def groove_cases(n: int, *, start: int = 1000) -> list[Case]:
    """`n` cases from Groove tickets (so resolving their incident queues a reply to each)."""
    cases = []
    now = clock.now()
    for i in range(start, start + n):
        customer = Customer.objects.create(email=f"kunde{i}@example.de", name=f"Kundin {i}")
        cases.append(
            Case.objects.create(
                source="groove",
                external_id=str(i),
                subject=f"Login geht nicht ({i})",
                body="Fehler 502 beim Anmelden",
                customer=customer,
                category="login",
                received_at=now,
                created_at=now,
                updated_at=now,
            )
        )
    return cases


def open_incident(api: Any, title: str, cases: list[Case]) -> int:
    response = api.post(
        "/api/v1/incidents", {"title": title, "category": "login", "case_ids": [c.pk for c in cases]}
    )
    assert response.status_code == 201, response.content
    return int(response.json()["id"])


@pytest.fixture(autouse=True)
def _fresh_caches() -> Any:
    from sirene.incidents import brief, rules

    rules.clear_cache()
    brief.clear_baseline_cache()
    yield
    rules.clear_cache()
    brief.clear_baseline_cache()


def report(api: Any, n: int, subject: str, body: str, email: str) -> int:
    """One report through the real intake API (stored, embedded, matched, grouped)."""
    payload = {
        "source": "groove",
        "external_id": str(9000 + n),
        "subject": subject,
        "body": body,
        "customer": {"email": email, "attributes": {"platform": "mobile"}},
    }
    response = api.post("/api/v1/cases", payload)
    assert response.status_code == 201, response.content
    return int(response.json()["id"])


@pytest.fixture
def login_case(api: Any) -> int:
    """A case with everything its page shows: suggestions, similar cases, an incident, workspace
    entries (snapshot, follow-up, link, article read) and a history."""
    problem = api.post(
        "/api/v1/knowledge/problems",
        {
            "title": "Login im Mitgliederbereich: Fehler 502",
            "category": "login",
            "solution_steps": "Cache leeren, erneut anmelden",
            "articles": [{"url": "https://hilfe.example.de/login", "title": "Login-Hilfe"}],
            "phrasings": [body for _subject, body in LOGIN_REPORTS[:3]],
        },
    )
    assert problem.status_code == 201, problem.content
    ids = [
        report(api, i, subject, body, email=f"k{i}@example.de")
        for i, (subject, body) in enumerate(LOGIN_REPORTS)
    ]
    case_id = ids[-1]
    assert api.post(f"/api/v1/cases/{case_id}/status", {"status": "open_question"}).status_code == 200
    snapshot = api.post(f"/api/v1/workspace/{case_id}/snapshots", {"kind": "original", "data": {"a": 1}})
    assert snapshot.status_code == 201, snapshot.content
    api.post(f"/api/v1/workspace/{case_id}/follow-ups", {"due_at": "2030-01-01T10:00:00+00:00"})
    api.post(f"/api/v1/workspace/{case_id}/links", {"case_id": ids[0]})
    api.post(f"/api/v1/workspace/{case_id}/article-views", {"article": "https://hilfe.example.de/login"})
    return case_id


def test_the_case_page_stays_within_its_query_budget(
    client: Any, agent: Any, login_case: int, django_assert_max_num_queries: Any
) -> None:
    client.force_login(agent)
    client.get(f"/cases/{login_case}/")  # warm per-process caches (encoder, rules)
    with django_assert_max_num_queries(CASE_PAGE_MAX):
        response = client.get(f"/cases/{login_case}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Login im Mitgliederbereich" in page  # the suggestion panel is really rendered


def test_the_tracking_list_does_not_grow_with_the_cases_shown(
    client: Any, agent: Any, django_assert_max_num_queries: Any
) -> None:
    client.force_login(agent)
    groove_cases(2)
    few, _ = count(lambda: client.get("/cases/"))
    groove_cases(40, start=5000)
    with django_assert_max_num_queries(TRACKING_LIST_MAX):
        response = client.get("/cases/")
    many, _ = count(lambda: client.get("/cases/"))
    assert response.status_code == 200 and len(response.context["page"].object_list) == 42
    assert many == few


def test_the_incident_list_costs_the_same_for_2_and_30_incidents(
    client: Any, agent: Any, api: Any, django_assert_max_num_queries: Any
) -> None:
    client.force_login(agent)
    for n in range(2):
        open_incident(api, f"Störung {n}", groove_cases(3, start=100 * n))
    two, response = count(lambda: client.get("/incidents/"))
    assert len(response.context["rows"]) == 2
    for n in range(2, 30):
        open_incident(api, f"Störung {n}", groove_cases(3, start=100 * n))
    with django_assert_max_num_queries(INCIDENT_LIST_MAX):
        response = client.get("/incidents/")
    thirty, _ = count(lambda: client.get("/incidents/"))
    assert len(response.context["rows"]) == 30
    assert thirty == two


def test_the_incident_page_does_not_grow_with_its_cases(
    client: Any, agent: Any, api: Any, lead_api: Any, django_assert_max_num_queries: Any
) -> None:
    client.force_login(agent)
    small = open_incident(api, "Login kaputt", groove_cases(3))
    large = open_incident(api, "Zahlung kaputt", groove_cases(50, start=2000))
    for incident_id in (small, large):  # the page then lists a resolution reply per case
        resolved = lead_api.post(f"/api/v1/incidents/{incident_id}/resolve", {"resolution": "Behoben"})
        assert resolved.status_code == 200, resolved.content
    few, _ = count(lambda: client.get(f"/incidents/{small}/"))
    with django_assert_max_num_queries(INCIDENT_PAGE_MAX):
        response = client.get(f"/incidents/{large}/")
    many, _ = count(lambda: client.get(f"/incidents/{large}/"))
    assert response.status_code == 200 and "kunde2049@example.de" in response.content.decode()
    assert many == few


def test_resolving_an_incident_with_50_cases_stays_within_its_budget(
    api: Any, lead_api: Any, django_assert_max_num_queries: Any
) -> None:
    from sirene.helpdesk.models import CustomerReply

    incident_id = open_incident(api, "Login kaputt", groove_cases(50))
    with django_assert_max_num_queries(RESOLVE_MAX):
        response = lead_api.post(
            f"/api/v1/incidents/{incident_id}/resolve", {"resolution": "Server neu gestartet"}
        )
    assert response.status_code == 200, response.content
    # Behaviour unchanged: one resolution reply per ticket, and the timeline says so.
    assert CustomerReply.objects.filter(incident_id=incident_id, kind="resolution").count() == 50
    timeline = [e["kind"] for e in response.json()["timeline"]]
    assert "resolved" in timeline and "customer_replies" in timeline
