"""★ Probelauf (issue 21): a proposed detection rule replayed over the stored reports through the
production clustering (`similarity.window.Window`) and rule (`rules.decide`): earlier / later / extra /
missing incidents against the current rules, and nothing written or sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sirene.cases.models import Case
from sirene.core import clock
from sirene.detection import store as detection_store
from sirene.escalation.models import Attempt, Run
from sirene.incidents.models import GroupMembership, Incident, IncidentEvent, ProblemGroup
from sirene.incidents.tests.conftest import LOGIN_REPORTS
from sirene.integrations.models import OutboxMessage

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
EVERYDAY = [
    ("Rechnung", "Wo finde ich meine Rechnung für Oktober?"),
    ("Kurs", "Wann startet der nächste Yoga-Kurs?"),
    ("Adresse", "Ich bin umgezogen, bitte ändern Sie meine Adresse."),
]


@pytest.fixture
def history(report: Any) -> Incident:
    """Ten days ago six customers reported the login failure (the real intake and detector opened
    the incident at the 6th); around it a few everyday questions."""
    for n, (subject, body) in enumerate(EVERYDAY):
        with clock.frozen(T0 - timedelta(days=2, hours=n)):
            report(subject, body, email=f"frage{n}@example.com")
    for n, (subject, body) in enumerate(LOGIN_REPORTS):
        with clock.frozen(T0 + timedelta(minutes=10 * n)):
            report(subject, body, email=f"kunde{n}@example.com")
    clock.set_now(T0 + timedelta(days=10))
    incident = Incident.objects.get()
    assert incident.origin == "auto" and incident.customers_affected == 6
    return incident


def _rule(incident: Incident, **changes: Any) -> dict[str, Any]:
    return {"category": incident.category, "threshold": 5, "window_hours": 24, "pages": True, "days": 30, **changes}


def _counts() -> tuple[int, ...]:
    return (
        Incident.objects.count(),
        IncidentEvent.objects.count(),
        ProblemGroup.objects.count(),
        GroupMembership.objects.count(),
        Run.objects.count(),
        Attempt.objects.count(),
        OutboxMessage.objects.count(),
        Case.objects.count(),
    )


def test_the_current_rule_replays_to_exactly_what_the_detector_opened(history: Incident, lead_api: Any) -> None:
    before = _counts()
    view = detection_store.STORE._view
    assert view is not None
    keys = set(view.window.reports)
    response = lead_api.post("/api/v1/incidents/rules/dry-run", _rule(history))
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["current"], body["proposed"], body["unchanged"]) == (1, 1, 1)
    assert body["earlier"] == body["later"] == body["extra"] == body["missing"] == []
    assert body["reports"] == 9
    assert _counts() == before, "a dry run writes nothing"
    assert detection_store.STORE._view is view and set(view.window.reports) == keys, (
        "the detector's window is untouched"
    )


def test_a_lower_threshold_opens_earlier_and_never_page_opens_nothing(history: Incident, lead_api: Any) -> None:
    body = lead_api.post("/api/v1/incidents/rules/dry-run", _rule(history, threshold=3)).json()
    [earlier] = body["earlier"]
    real = sorted(history.cases.values_list("pk", flat=True))
    assert earlier["minutes"] == -20 and earlier["customers_at_open"] == 4 and earlier["customers"] == 6 and set(earlier["case_ids"]) <= set(real)
    assert earlier["opened_at"].startswith("2026-11-10T09:30")

    body = lead_api.post("/api/v1/incidents/rules/dry-run", _rule(history, pages=False)).json()
    [missing] = body["missing"]
    assert missing["case_ids"] == real and body["proposed"] == 0
    assert lead_api.post("/api/v1/incidents/rules/dry-run", _rule(history, threshold=6)).json()["missing"]


def test_a_rule_for_another_category_leaves_this_incident_alone(history: Incident, lead_api: Any) -> None:
    other = "checkout" if history.category != "checkout" else "content"
    body = lead_api.post("/api/v1/incidents/rules/dry-run", _rule(history, category=other, threshold=1)).json()
    assert body["unchanged"] == 1 and not body["missing"] and not body["earlier"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"days": 0}, "days"), ({"days": 91}, "days"), ({"threshold": 0}, "threshold"),
     ({"window_hours": 0}, "window_hours"), ({"category": "nope"}, "category")],
)
def test_bad_input_is_a_422_naming_the_field(history: Incident, lead_api: Any, changes: dict[str, Any], field: str) -> None:
    response = lead_api.post("/api/v1/incidents/rules/dry-run", _rule(history, **changes))
    assert response.status_code == 422 and response.json()["field"] == field


def test_agents_may_not_run_it(history: Incident, api: Any) -> None:
    assert api.post("/api/v1/incidents/rules/dry-run", _rule(history)).status_code == 403


def test_the_probelauf_page_in_german(history: Incident, client: Any, lead: Any) -> None:
    client.force_login(lead)
    page = client.get("/incidents/rules/dry-run/", HTTP_ACCEPT_LANGUAGE="de")
    assert page.status_code == 200 and "Probelauf einer Störungsregel" in page.content.decode()
    data = {**_rule(history, threshold=3), "pages": "on"}
    html = client.post("/incidents/rules/dry-run/", data, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Würde früher öffnen (1)" in html and "(-20 min)" in html and "Würde gar nicht öffnen (0)" in html
    bad = client.post("/incidents/rules/dry-run/", {**data, "days": "500"}, HTTP_ACCEPT_LANGUAGE="de")
    assert bad.status_code == 422 and "days" in bad.content.decode()
    settings_page = client.get("/settings/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert 'id="rule-dry-run"' in settings_page and ">Probelauf<" in settings_page
