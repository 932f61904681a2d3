from __future__ import annotations

from typing import Any

from sirene.incidents.models import Incident, ProblemGroup
from sirene.incidents.tests.conftest import LOGIN_REPORTS


def test_six_customers_with_the_same_login_failure_open_one_incident_with_a_brief(
    report: Any, api: Any
) -> None:
    ids = []
    for i, (subject, body) in enumerate(LOGIN_REPORTS):
        ids.append(report(subject, body, email=f"kunde{i}@gmx.de", attributes={"platform": "mobile"}))
        if i < 5:
            assert Incident.objects.count() == 0, f"opened after only {i + 1} customers"
    assert Incident.objects.count() == 1
    incident = Incident.objects.get()
    assert incident.origin == "auto"
    assert sorted(incident.cases.values_list("id", flat=True)) == sorted(ids)
    body = api.get(f"/api/v1/incidents/{incident.pk}").json()
    assert body["status"] == "open"
    assert body["customers_affected"] == 6
    assert body["reports"] == 6
    assert body["category"] == "login"
    assert body["critical_category"] is True
    assert len(body["examples"]) >= 3
    assert body["examples"][0]["email"] == "kunde0@gmx.de"
    assert "502" in body["what"]["error_codes"]


def test_five_customers_do_not_open_an_incident(report: Any) -> None:
    for i, (subject, body) in enumerate(LOGIN_REPORTS[:5]):
        report(subject, body, email=f"kunde{i}@example.org")
    assert Incident.objects.count() == 0
    assert ProblemGroup.objects.count() == 1
