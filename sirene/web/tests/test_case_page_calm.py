"""The case page does not wear people out (issue 19): only the current stage open, incident cases ask the
customer nothing, one overdue rule, past tense after resolve, visible filter chips, no preselected merge
target, no empty groups to move into."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from sirene.cases import services
from sirene.cases.models import Case, Status
from sirene.core import clock
from sirene.flows import incidents as incident_flows
from sirene.flows.intake import report_case
from sirene.incidents.models import ProblemGroup

pytestmark = pytest.mark.django_db


def make(n: int, subject: str = "Video lädt nicht") -> Case:
    result = report_case(
        services.IntakeData(
            source="groove", external_id=str(9000 + n), subject=subject, body="Seit heute lädt es nicht.",
            customer=services.CustomerData(email=f"c{n}@gmx.de"), tags=["technik"],
        )
    )
    assert result.case is not None
    return result.case


def _open_stages(html: str) -> list[str]:
    return re.findall(r'<li id="stage-(\w+)"[^>]*><details open>', html)


def test_a_new_case_opens_only_the_current_stage(client: Any, agent: Any) -> None:
    case = make(1)
    client.force_login(agent)
    html = client.get(case.get_absolute_url()).content.decode()
    assert _open_stages(html) == ["preparation"], re.findall(r'<li id="stage-\w+"[^>]*><details[^>]*>', html)


def test_an_incident_case_asks_the_customer_nothing_and_speaks_in_the_past_once_resolved(
    client: Any, lead: Any
) -> None:
    case = make(2)
    incident = incident_flows.open_incident(title="Videos laden nicht", cases=[case])
    client.force_login(lead)
    html = client.get(case.get_absolute_url()).content.decode()
    assert 'id="questions-incident"' in html and 'id="save-answers"' not in html
    assert "questions" not in _open_stages(html)
    incident_flows.resolve(incident, resolution="CDN repariert", user=lead)
    html = client.get(case.get_absolute_url()).content.decode()
    assert 'id="incident-resolved-note"' in html and "gelöst wurde" in html
    assert "sobald sie behoben ist" not in html


def test_the_overdue_badge_follows_the_overdue_list(client: Any, lead: Any) -> None:
    case = make(3)
    Case.objects.filter(pk=case.pk).update(
        status=Status.WAITING, received_at=clock.now() - timedelta(days=10), owner=lead
    )
    client.force_login(lead)
    html = client.get(case.get_absolute_url()).content.decode()
    overdue_list = client.get("/overdue/").content.decode() if client.get("/overdue/").status_code == 200 else ""
    assert 'id="workspace-overdue"' not in html
    assert f"/cases/{case.pk}/" not in overdue_list


def test_the_incident_filter_from_slack_is_visible_and_can_be_cleared(client: Any, agent: Any) -> None:
    cases = [make(10 + n) for n in range(3)]
    incident = incident_flows.open_incident(title="Videos laden nicht", cases=cases[:2])
    client.force_login(agent)
    html = client.get("/cases/", {"incident": incident.pk}).content.decode()
    chips = html[html.index('id="filter-chips"'):]
    assert f"Störung: INC-{incident.pk}" in chips and "Filter aufheben" in chips


def test_the_merge_select_preselects_nothing_and_empty_groups_are_no_target(client: Any, agent: Any) -> None:
    a, b = make(20, "Login geht nicht"), make(21, "Zertifikat falsch")
    empty = ProblemGroup.objects.create(title="Leere Gruppe", count=0)
    group = ProblemGroup.objects.get(memberships__case=a)
    client.force_login(agent)
    html = client.get(group.get_absolute_url()).content.decode()
    select = html[html.index('name="into"'):]
    select = select[: select.index("</select>")]
    assert 'value="" selected disabled' in select
    assert f'value="{empty.pk}"' not in select
    page = client.get(b.get_absolute_url()).content.decode()
    assert f">G-{empty.pk} " not in page
