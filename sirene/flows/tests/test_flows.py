"""The flows are where the domains meet: the domain services alone stay in their domain."""

from __future__ import annotations

from typing import Any

import pytest

from sirene.cases import services as cases
from sirene.escalation.models import Run, RunStatus
from sirene.flows import incidents as incident_flows
from sirene.flows import intake
from sirene.incidents import services as incidents
from sirene.incidents.models import IncidentStatus
from sirene.knowledge.models import CaseMatch

pytestmark = pytest.mark.django_db


def _data(external_id: str) -> cases.IntakeData:
    return cases.IntakeData(
        source="test",
        external_id=external_id,
        subject="Login geht nicht",
        body="Seit heute früh kommt beim Login Fehler 502.",
        customer=cases.CustomerData(email=f"k{external_id}@example.de"),
    )


def test_cases_intake_only_stores_and_the_flow_analyses() -> None:
    stored = cases.intake(_data("1"))
    assert stored.created and stored.case is not None
    assert stored.case.analysed_at is None and not stored.case.embedding
    assert not CaseMatch.objects.filter(case=stored.case).exists()

    reported = intake.report_case(_data("2"))
    assert reported.case is not None and reported.case.analysed_at is not None
    assert reported.case.embedding and CaseMatch.objects.filter(case=reported.case).exists()
    assert reported.case.problem_membership is not None

    # The worker's step picks up what was only stored.
    assert intake.analyse_pending() == 1
    stored.case.refresh_from_db()
    assert stored.case.analysed_at is not None


def test_an_incident_gets_its_run_from_the_flow_not_from_the_incidents_domain(lead: Any) -> None:
    bare = incidents.open_incident(title="Nur die Domäne")
    assert not Run.objects.filter(incident=bare).exists()

    incident = incident_flows.open_incident(title="Über den Flow")
    run = Run.objects.get(incident=incident)
    assert run.status == RunStatus.ACTIVE

    assert incident_flows.acknowledge(incident, user=lead, via="web")
    assert not incident_flows.acknowledge(incident, user=lead, via="web")  # first one wins
    run.refresh_from_db()
    incident.refresh_from_db()
    assert run.status == RunStatus.ACKNOWLEDGED and incident.status == IncidentStatus.ACKNOWLEDGED

    assert incident_flows.resolve(incident, resolution="Behoben.", user=lead)
    run.refresh_from_db()
    assert run.status == RunStatus.RESOLVED


def test_the_reported_case_comes_back_as_stored_after_the_analysis() -> None:
    from sirene.cases.models import Case

    result = intake.report_case(_data("adopt-1"))
    assert result.case is not None
    stored = Case.objects.get(pk=result.case.pk)
    for field in Case._meta.concrete_fields:
        mine, theirs = getattr(result.case, field.attname), getattr(stored, field.attname)
        if isinstance(theirs, memoryview):
            theirs = bytes(theirs)
        if isinstance(mine, memoryview):
            mine = bytes(mine)
        assert mine == theirs, field.name
    assert result.case.analysed_at is not None and result.case.embedding
    assert result.case.customer.email == "kadopt-1@example.de"
