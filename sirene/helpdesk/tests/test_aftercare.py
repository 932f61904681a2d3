"""★ "Hat der Fix gehalten?" (issue 21): customers' answers after the resolution reply arrive through
the Groove webhook, are sorted (fixed / still broken / other / thanks), counted on the incident
("4 von 7 bestätigt, 2 noch kaputt"), two "still broken" within 48 h send one quiet line to the lead
and offer "Störung wieder öffnen" (the same incident escalates again from the first step)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sirene.cases import services as cases
from sirene.cases.embedding import embed
from sirene.core import clock
from sirene.escalation.models import Run, RunStatus
from sirene.flows import incidents as incident_flows
from sirene.flows.intake import report_case
from sirene.helpdesk import aftercare, tasks
from sirene.helpdesk.models import AfterAlert, AfterAnswer
from sirene.helpdesk.tests import after_answers
from sirene.incidents import events
from sirene.incidents.models import Incident, IncidentEvent
from sirene.incidents.tests.conftest import LOGIN_REPORTS
from sirene.integrations.models import OutboxMessage

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
LABELS = ("fixed", "still_broken", "other", "thanks")


def _measure(data: list[tuple[str, str]]) -> tuple[float, Counter[tuple[str, str]]]:
    vectors = [embed(s, b)[1] for s, b in LOGIN_REPORTS]
    confusion: Counter[tuple[str, str]] = Counter()
    for text, label in data:
        verdict = aftercare.classify(text, aftercare.similarity_among(vectors, text))
        confusion[(label, verdict.verdict)] += 1
    right = sum(n for (truth, guess), n in confusion.items() if truth == guess)
    return right / len(data), confusion


def _table(confusion: Counter[tuple[str, str]]) -> str:
    rows = ["true \\ sorted as: " + " ".join(LABELS)]
    rows += [f"{t}: " + " ".join(str(confusion[(t, g)]) for g in LABELS) for t in LABELS]
    return "\n".join(rows)


def test_the_labelled_answers_are_sorted_well_enough() -> None:
    """The measure (numbers in the issue's closing note): the development set was used to choose the
    cue words, the held-out set was written after they were frozen."""
    assert len(after_answers.DEVELOPMENT) + len(after_answers.HELD_OUT) >= 40
    dev, dev_confusion = _measure(after_answers.DEVELOPMENT)
    held, held_confusion = _measure(after_answers.HELD_OUT)
    print(f"\ndevelopment {dev:.3f}\n{_table(dev_confusion)}\nheld out {held:.3f}\n{_table(held_confusion)}")
    assert dev >= 0.95, _table(dev_confusion)
    assert held >= 0.8, _table(held_confusion)
    # the costly mistake: a "still broken" answer counted as a confirmation
    assert dev_confusion[("still_broken", "fixed")] == 0 and held_confusion[("still_broken", "fixed")] == 0


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("Geht wieder nicht.", "still_broken"),
        ("Geht wieder.", "fixed"),
        ("Danke!\n\nAm 20.11.2026 um 12:00 schrieb Support:\n> Es ist behoben und funktioniert wieder.", "thanks"),
        ("", "other"),
    ],
)
def test_negation_and_the_quoted_reply(text: str, verdict: str) -> None:
    assert aftercare.classify(text).verdict == verdict


def _groove_report(groove: Any, number: int, email: str, subject: str, body: str, at: datetime) -> Any:
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
    return result.case


@pytest.fixture
def resolved(groove: Any, lead: Any) -> dict[str, Any]:
    """Seven customers' login reports open (and join) an incident; the lead resolves it and the
    worker sends the seven resolution replies."""
    reports = [*LOGIN_REPORTS, ("Login kaputt", "Ich kann mich nicht einloggen, Fehler 502 im Mitgliederbereich.")]
    numbers = {}
    for n, (subject, body) in enumerate(reports):
        numbers[f"k{n}@example.com"] = 900 + n
        _groove_report(groove, 900 + n, f"k{n}@example.com", subject, body, NOW + timedelta(minutes=5 * n))
    incident = Incident.objects.get()
    assert incident.cases.count() == 7
    lead.slack_user_id = "U0LEAD0001"
    lead.save()
    clock.set_now(NOW + timedelta(hours=2))
    assert incident_flows.resolve(incident, resolution="Zertifikat", customer_text="Behoben.", user=lead)
    tasks.tick()
    return {"incident": incident, "numbers": numbers}


def _answer(groove: Any, post_hook: Any, number: int, email: str, text: str) -> dict[str, Any]:
    message: dict[str, Any] = groove.add_message(number, text, email=email)
    assert post_hook("customer_replied", json.dumps(message)).status_code == 202
    tasks.tick()
    return message


@pytest.mark.django_db
def test_answers_are_counted_alerted_once_and_the_incident_can_be_reopened(
    resolved: dict[str, Any], groove: Any, post_hook: Any, client: Any, lead: Any
) -> None:
    incident, numbers = resolved["incident"], resolved["numbers"]
    clock.advance(hours=1)
    texts = [
        "Danke, funktioniert wieder!",
        "Login geht wieder.",
        "Works again, thank you.",
        "Alles wieder gut.",
        "Bei mir geht es immer noch nicht.",
    ]
    sent = [_answer(groove, post_hook, numbers[f"k{n}@example.com"], f"k{n}@example.com", t) for n, t in enumerate(texts)]
    # one "still broken" is no alert yet
    assert not AfterAlert.objects.exists()
    clock.advance(hours=3)
    _answer(groove, post_hook, numbers["k5@example.com"], "k5@example.com", "Leider kommt weiterhin Fehler 502.")
    # a repeated delivery changes nothing
    assert post_hook("customer_replied", json.dumps(sent[0])).status_code in (200, 202)
    tasks.tick()
    tasks.tick()
    assert AfterAnswer.objects.filter(incident=incident).count() == 6

    lead_api = _lead_api(client, lead)
    after = lead_api(f"/api/v1/incidents/{incident.pk}")["after_resolution"]
    assert after == {
        "fixed": 4, "still_broken": 2, "other": 0, "thanks": 0, "no_answer": 1, "answered_to": 7, "alert": True
    }
    quiet = OutboxMessage.objects.filter(kind="dm", recipient="U0LEAD0001", body__startswith="Hat der Fix gehalten?")
    assert quiet.count() == 1 and f"INC-{incident.pk}" in quiet.get().body and "2 Kundinnen/Kunden" in quiet.get().body

    client.force_login(lead)
    html = client.get(incident.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "4 von 7 bestätigt, 2 noch kaputt" in html and "Störung wieder öffnen" in html

    response = client.post(f"/incidents/{incident.pk}/reopen/")
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == "open" and incident.resolved_at is None and incident.cases.count() == 7
    run = Run.objects.get(incident=incident)
    assert run.status == RunStatus.ACTIVE and run.step_index == 0 and run.finished_at is None
    assert IncidentEvent.objects.get(incident=incident, kind="reopened").data == {"v": events.VERSION, "still_broken": 2}
    # the escalation lane takes the restarted run up again: its first step (the siren post) goes out anew
    from sirene.escalation import worker as escalation_worker
    from sirene.escalation.models import Attempt

    posts_before = Attempt.objects.filter(run=run, kind="slack_post").count()
    escalation_worker.tick("test")
    assert Attempt.objects.filter(run=run, kind="slack_post").count() == posts_before + 1
    # reopening an open incident: 409 over the API, nothing changes
    from sirene.accounts.models import ApiToken

    token = ApiToken.issue(lead, name="reopen")[1]
    again = client.post(
        f"/api/v1/incidents/{incident.pk}/reopen", "{}", content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert again.status_code == 409 and again.json()["status"] == "open"


@pytest.mark.django_db
def test_an_answer_before_the_resolution_is_not_sorted(groove: Any, post_hook: Any, lead: Any) -> None:
    for n, (subject, body) in enumerate(LOGIN_REPORTS):
        _groove_report(groove, 950 + n, f"v{n}@example.com", subject, body, NOW + timedelta(minutes=n))
    incident = Incident.objects.get()
    _answer(groove, post_hook, 950, "v0@example.com", "Es geht immer noch nicht.")
    assert not AfterAnswer.objects.exists()
    assert incident_flows.after_resolution(incident)["still_broken"] == 0


def _lead_api(client: Any, lead: Any) -> Any:
    from sirene.accounts.models import ApiToken

    headers = {"Authorization": f"Bearer {ApiToken.issue(lead, name='t')[1]}"}

    def get(path: str) -> Any:
        response = client.get(path, headers=headers)
        assert response.status_code == 200, response.content
        return response.json()

    return get


@pytest.mark.django_db
def test_teams_without_webhooks_get_the_answers_by_sync(resolved: dict[str, Any], groove: Any) -> None:
    from sirene.helpdesk import inbound

    incident, numbers = resolved["incident"], resolved["numbers"]
    clock.advance(hours=1)
    groove.add_message(numbers["k0@example.com"], "Geht wieder, danke!", email="k0@example.com")
    groove.add_message(numbers["k1@example.com"], "Leider immer noch Fehler 502.", email="k1@example.com")
    groove.add_message(numbers["k2@example.com"], "Danke!", email="k2@example.com")
    result = inbound.sync_tickets()
    assert result.completed and result.answers == 3
    again = inbound.sync_tickets()
    assert again.answers == 0
    summary = incident_flows.after_resolution(incident)
    assert (summary["fixed"], summary["still_broken"], summary["thanks"], summary["no_answer"]) == (1, 1, 1, 4)
