"""★ Sweep at resolve (issue 21): the resolve preview lists the unlinked reports of the last 30 days
that look like the incident's problem (a same-problem report from 3 days earlier, in other words),
with why; the ones the lead ticks are linked, solved and answered like the others, exactly once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sirene.cases import services as cases
from sirene.cases.models import Case, Status
from sirene.core import clock
from sirene.flows import incidents as incident_flows
from sirene.flows import sweep
from sirene.flows.intake import report_case
from sirene.helpdesk import tasks
from sirene.helpdesk.models import CustomerReply, ReplyKind
from sirene.incidents import events
from sirene.incidents.models import Incident, IncidentEvent
from sirene.incidents.tests.conftest import LOGIN_REPORTS

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
CUSTOMER = "Der Login funktioniert wieder. Bitte laden Sie die Seite einmal neu."


def _groove_report(groove: Any, number: int, email: str, subject: str, body: str, at: datetime) -> Case:
    groove.add_ticket(number, email=email, tags=["technik"])
    with clock.frozen(at):
        result = report_case(
            cases.IntakeData(
                source="groove",
                external_id=str(number),
                subject=subject,
                body=body,
                customer=cases.CustomerData(email=email, name=""),
                tags=["technik"],
                received_at=at,
            ),
            actor_label="groove",
        )
    assert result.case is not None
    return result.case


@pytest.fixture
def lead_client(client: Any, lead: Any) -> Any:
    from sirene.accounts.models import ApiToken

    headers = {"Authorization": f"Bearer {ApiToken.issue(lead, name='lead')[1]}"}

    class Api:
        def get(self, path: str) -> Any:
            return client.get(path, headers=headers)

        def post(self, path: str, data: Any) -> Any:
            return client.post(path, json.dumps(data), content_type="application/json", headers=headers)

    return Api()


@pytest.fixture
def scene(groove: Any) -> dict[str, Any]:
    """Six customers' login reports in one hour open the incident; three days earlier one customer
    wrote about the same problem in other words (before the window: never linked); two days earlier
    somebody asked about an invoice (another problem)."""
    earlier = _groove_report(
        groove, 801, "frieda@example.com", "Mitgliederbereich",
        "Ich komme nicht mehr in meinen Mitgliederbereich, beim Einloggen erscheint Fehler 502.",
        NOW - timedelta(days=3),
    )
    other = _groove_report(
        groove, 802, "gustav@example.com", "Rechnung doppelt",
        "Mir wurde die Rechnung für November zweimal abgebucht, bitte erstatten Sie einen Betrag.",
        NOW - timedelta(days=2),
    )
    near = [
        _groove_report(groove, 803, "hanna@example.com", "Passwort vergessen",
                       "Ich habe mein Passwort vergessen, wie kann ich es zurücksetzen?", NOW - timedelta(days=4)),
        _groove_report(groove, 804, "ida@example.com", "Fehler 500 im Checkout",
                       "Beim Bezahlen kommt Fehler 500.", NOW - timedelta(days=1)),
    ]
    for n, (subject, body) in enumerate(LOGIN_REPORTS):
        _groove_report(groove, 810 + n, f"kunde{n}@example.com", subject, body, NOW + timedelta(minutes=5 * n))
    incident = Incident.objects.get()
    assert not incident.cases.filter(pk__in=[earlier.pk, other.pk]).exists()
    clock.set_now(NOW + timedelta(hours=2))
    return {"incident": incident, "earlier": earlier, "other": other, "near": near}


def test_the_preview_finds_the_same_problem_three_days_earlier_and_not_the_other_one(
    scene: dict[str, Any], lead_client: Any, groove: Any
) -> None:
    incident, earlier, other = scene["incident"], scene["earlier"], scene["other"]
    response = lead_client.post(f"/api/v1/incidents/{incident.pk}/resolve/preview", {"customer_text": CUSTOMER})
    assert response.status_code == 200, response.content
    found = {c["case_id"]: c for c in response.json()["candidates"]}
    assert earlier.pk in found and other.pk not in found
    # the same area or another error code is not "this problem"
    assert not {c.pk for c in scene["near"]} & set(found)
    hit = found[earlier.pk]
    assert hit["score"] >= sweep.SIMILAR and "similar" in hit["reasons"] and "error_code" in hit["reasons"]
    assert hit["codes"] == ["502"]
    assert not [p for p in groove.posted() if "wieder" in p.body["body"]], "a preview sends nothing"


def test_also_notify_links_solves_and_answers_exactly_once(
    scene: dict[str, Any], lead_client: Any, groove: Any
) -> None:
    incident, earlier = scene["incident"], scene["earlier"]
    url = f"/api/v1/incidents/{incident.pk}/resolve"
    payload = {"resolution": "Zertifikat erneuert", "customer_text": CUSTOMER, "also_notify": [earlier.pk]}
    response = lead_client.post(url, payload)
    assert response.status_code == 200, response.content
    assert earlier.pk in response.json()["case_ids"]
    earlier.refresh_from_db()
    assert earlier.status == Status.SOLVED
    event = IncidentEvent.objects.get(incident=incident, kind="also_notified")
    assert event.data == {"v": events.VERSION, "case_ids": [earlier.pk]}
    tasks.tick()
    assert len(groove.posted(801)) == 1 and CUSTOMER in groove.posted(801)[0].body["body"]
    # twice is once: a second resolve (with the same tick) changes nothing and sends nothing
    again = lead_client.post(url, payload)
    assert again.status_code == 409
    tasks.tick()
    assert len(groove.posted(801)) == 1
    assert CustomerReply.objects.filter(incident=incident, case=earlier, kind=ReplyKind.RESOLUTION).count() == 1
    # after the resolve the preview proposes nobody any more
    assert incident_flows.resolve_preview(incident, CUSTOMER)["candidates"] == []


def test_bad_also_notify_is_a_422_naming_the_field_and_nothing_is_written(
    scene: dict[str, Any], lead_client: Any, groove: Any
) -> None:
    incident = scene["incident"]
    url = f"/api/v1/incidents/{incident.pk}/resolve"
    response = lead_client.post(url, {"resolution": "x", "customer_text": CUSTOMER, "also_notify": [999999]})
    assert response.status_code == 422 and response.json()["field"] == "also_notify"
    linked_elsewhere = incident.cases.first()
    second = incident_flows.open_incident(title="Anderes")
    response = lead_client.post(
        f"/api/v1/incidents/{second.pk}/resolve",
        {"resolution": "x", "customer_text": CUSTOMER, "also_notify": [linked_elsewhere.pk]},
    )
    assert response.status_code == 422 and response.json()["field"] == "also_notify"
    second.refresh_from_db()
    incident.refresh_from_db()
    assert second.status != "resolved" and incident.status != "resolved"
    assert not second.cases.exists()


def test_the_web_preview_offers_auch_benachrichtigen_in_german(
    scene: dict[str, Any], client: Any, lead: Any
) -> None:
    client.force_login(lead)
    incident, earlier = scene["incident"], scene["earlier"]
    page = client.post(
        f"/incidents/{incident.pk}/resolve/preview/",
        {"resolution": "Zertifikat erneuert", "customer_text": CUSTOMER},
        HTTP_ACCEPT_LANGUAGE="de",
    )
    html = page.content.decode()
    assert page.status_code == 200 and 'name="also_notify"' in html and f'value="{earlier.pk}"' in html
    assert "auch benachrichtigen" in html and "gleicher Fehlercode 502" in html
    done = client.post(
        f"/incidents/{incident.pk}/resolve/",
        {"resolution": "Zertifikat erneuert", "customer_text": CUSTOMER, "also_notify": [str(earlier.pk)]},
    )
    assert done.status_code == 302
    assert incident.cases.filter(pk=earlier.pk).exists()


def test_a_report_confirmed_to_the_same_known_problem_is_a_candidate_whatever_its_words(
    scene: dict[str, Any], lead: Any
) -> None:
    from sirene.knowledge.models import KnownProblem, Suggestion, SuggestionState

    incident, odd = scene["incident"], scene["near"][0]
    problem = KnownProblem.objects.create(key="login-502", title="Login: Fehler 502")
    for case in [*incident.cases.all(), odd]:
        Suggestion.objects.create(case=case, known_problem=problem, state=SuggestionState.CONFIRMED)
    found = {c.case_id: c for c in sweep.candidates(incident)}
    assert found[odd.pk].reason == "known_problem" and "similar" not in found[odd.pk].reasons
    assert found[odd.pk].score == pytest.approx(found[odd.pk].similarity + sweep.KNOWN_BONUS, abs=1e-3)
