"""The everyday bugs a lead found in the walkthrough (shared/reviews/walkthrough.md), one test each."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from sirene.cases import services
from sirene.cases.models import Case, Status
from sirene.core import clock
from sirene.flows import cases as case_flows
from sirene.flows import intake as intake_flow
from sirene.incidents.models import GroupMembership

pytestmark = pytest.mark.django_db


BODY_502 = "Seit heute früh kommt beim Öffnen des Mitgliederbereichs nur Fehler 502 Bad Gateway."


def report(n: int, email: str, subject: str = "Fehler 502 im Mitgliederbereich", body: str = BODY_502) -> Case:
    result = intake_flow.report_case(
        services.IntakeData(
            source="groove", external_id=str(n), subject=subject,
            body=body,
            customer=services.CustomerData(email=email), tags=["technik"],
        )
    )
    assert result.case is not None
    return result.case


def test_b11_a_case_in_a_group_of_seven_does_not_say_nobody_else_reports_it(client: Any, agent: Any) -> None:
    # Seven reports from three customers: a group of 7, below the incident rule (distinct customers).
    cases = [report(i, f"k{i % 3}@example.de") for i in range(7)]
    group_ids = set(GroupMembership.objects.filter(case__in=cases).values_list("group_id", flat=True))
    assert len(group_ids) == 1
    client.force_login(agent)
    html = client.get(f"/cases/{cases[-1].pk}/").content.decode()
    assert "Gerade meldet das niemand sonst" not in html
    assert "6 weitere Meldungen in Problemgruppe" in html
    lonely = report(
        99, "solo@example.de", subject="Zertifikat zeigt falschen Namen", body="Im PDF steht mein Name falsch."
    )
    assert "Gerade meldet das niemand sonst" in client.get(f"/cases/{lonely.pk}/").content.decode()


def test_b18_last_message_from_us_is_empty_until_we_wrote(client: Any, lead: Any) -> None:
    clock.set_now(dt.datetime(2026, 11, 18, 4, 42, tzinfo=dt.UTC))
    case = report(1, "a@example.de")
    case_flows.change_status(case, Status.IN_PROGRESS, actor=lead)
    clock.set_now(dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC))
    client.force_login(lead)
    html = client.get("/troubleshooting/overdue/").content.decode()
    row = html[html.index(f'data-case="{case.pk}"'):]
    row = row[: row.index("</tr>")]
    assert "noch nicht" in row and "18.11.2026" not in row.split('class="last-contact"')[1]


def test_b18_waiting_for_the_customer_is_not_overdue(client: Any, lead: Any) -> None:
    clock.set_now(dt.datetime(2026, 11, 18, 4, 42, tzinfo=dt.UTC))
    waiting = report(1, "a@example.de")
    case_flows.change_status(waiting, Status.WAITING, actor=lead)
    ours = report(2, "b@example.de", subject="Video startet nicht", body="Das Video in Lektion 3 startet nicht.")
    case_flows.change_status(ours, Status.IN_PROGRESS, actor=lead)
    clock.set_now(dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC))
    client.force_login(lead)
    rows = client.get("/troubleshooting/overdue/").context["rows"]
    assert [r["id"] for r in rows] == [ours.pk]


def test_b19_move_to_group_preselects_nothing(client: Any, agent: Any) -> None:
    report(1, "a@example.de")
    other = report(2, "b@example.de", subject="Zertifikat zeigt falschen Namen", body="Im PDF steht mein Name falsch.")
    client.force_login(agent)
    html = client.get(f"/cases/{other.pk}/").content.decode()
    select = html[html.index('<select name="group"'):]
    select = select[: select.index("</select>")]
    assert '<option value="" selected disabled>– Gruppe wählen –</option>' in select
    assert select.count("selected") == 1
    before = GroupMembership.objects.get(case=other).group_id
    response = client.post(f"/incidents/cases/{other.pk}/move/", {"group": ""}, follow=True)
    assert response.status_code == 200
    assert GroupMembership.objects.get(case=other).group_id == before


def test_favicon_is_served(client: Any) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in response.content
