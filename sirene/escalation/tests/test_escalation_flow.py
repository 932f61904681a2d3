"""The escalation process end to end: real Slack/Twilio SDKs against local fake servers, time moved
with the clock, callbacks posted the way the vendors post them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from sirene.core import clock
from sirene.escalation.models import Absence, Attempt, AttemptStatus, Run, RunStatus, Task
from sirene.escalation.tests.helpers import call_status, calls, open_incident, press, run_until, work
from sirene.flows import incidents as incident_flows
from sirene.incidents.models import IncidentStatus

pytestmark = pytest.mark.django_db


def minute(at: dt.datetime, start: dt.datetime) -> float:
    return (at - start).total_seconds() / 60


def test_it_posts_the_siren_mentioning_all_four_responders(
    fake_slack: Any, fake_twilio: Any, team: Any, start: Any
) -> None:
    incident = open_incident()
    work()
    [message] = [m for m in fake_slack.posted_to("#customer-success") if not m.get("thread_ts")]
    assert message["text"].startswith(":rotating_light:")
    for uid in ("U0000LEA01", "U0000TARA1", "U0000LUCA1", "U0000PIWI1"):
        assert f"<@{uid}>" in message["text"]
    assert message["blocks"][1]["elements"][0]["text"]["text"] == "Ich kümmere mich"
    assert message["metadata"]["event_payload"]["incident_id"] == str(incident.pk)
    run = Run.objects.get(incident=incident)
    assert run.slack_ts == message["ts"]
    assert fake_twilio.calls == []


def test_nobody_reacts_so_it_calls_tara_twice_then_piwi_then_assigns_the_facebook_task(
    client: Any, fake_slack: Any, fake_twilio: Any, team: Any, start: Any
) -> None:
    open_incident()
    run_until(15.5)
    [first] = calls()
    assert first.person_name == "Tara" and minute(first.created_at, start) == 15
    assert [c["to"] for c in fake_twilio.calls] == ["+4915550000002"]
    call_status(client, fake_twilio, first, "no-answer")
    run_until(4.5)
    assert len(calls()) == 1, "the gap of 5 minutes after the unanswered call is respected"
    run_until(1)
    second = calls()[1]
    assert second.person_name == "Tara" and second.number == 2
    assert 20 <= minute(second.created_at, start) <= 21
    call_status(client, fake_twilio, second, "busy")
    run_until(1)
    third = calls()[2]
    assert third.person_name == "Piwi"
    assert [c["to"] for c in fake_twilio.calls] == ["+4915550000002"] * 2 + ["+4915550000004"]
    # Piwi does not pick up either (no callback at all): the deadline counts it as unanswered.
    run_until(15)
    assert [c.person_name for c in calls()] == ["Tara", "Tara", "Piwi", "Piwi"]
    # The Facebook task went out at open (issue 12), not after the calls.
    task = Task.objects.get(kind="facebook")
    assert "Unser Technik-Team weiß Bescheid" in task.text
    assert task.person is not None and task.person.name == "Lea"


def test_tara_absent_means_piwi_is_called_at_minute_15(
    fake_slack: Any, fake_twilio: Any, team: Any, start: Any
) -> None:
    Absence.objects.create(
        person=team["tara"], starts_at=start - dt.timedelta(days=2), ends_at=start + dt.timedelta(days=5)
    )
    open_incident()
    run_until(16)
    [first] = calls()
    assert first.person_name == "Piwi" and minute(first.created_at, start) == 15
    assert fake_twilio.calls_to("+4915550000002") == []


@pytest.mark.parametrize(
    ("status", "answered_by"),
    [
        ("busy", ""),
        ("no-answer", ""),
        ("completed", "machine_end_beep"),
        ("completed", "human"),
        ("failed", ""),
    ],
)
def test_a_call_without_keypress_counts_as_unanswered(
    client: Any, fake_slack: Any, fake_twilio: Any, team: Any, start: Any, status: str, answered_by: str
) -> None:
    incident = open_incident()
    run_until(15.5)
    [call] = calls()
    response = call_status(client, fake_twilio, call, status, answered_by=answered_by)
    assert response.status_code == 200
    call.refresh_from_db()
    assert call.status == AttemptStatus.UNANSWERED
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.OPEN


def test_pressing_1_acknowledges_and_stops_further_calls(
    client: Any, fake_slack: Any, fake_twilio: Any, team: Any, start: Any
) -> None:
    incident = open_incident()
    run_until(15.5)
    [call] = calls()
    response = press(client, fake_twilio, call, "1")
    assert b"<Say" in response.content
    call_status(client, fake_twilio, call, "completed", answered_by="human")
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.ACKNOWLEDGED
    assert incident.acknowledged_label == "Tara" and incident.acknowledged_via == "phone"
    call.refresh_from_db()
    assert call.status == AttemptStatus.ANSWERED
    run_until(60)
    assert len(calls()) == 1
    assert "*Übernommen* von Tara" in fake_slack.posted_to("#customer-success")[0]["text"]


def test_pressing_another_key_is_not_an_answer(
    client: Any, fake_slack: Any, fake_twilio: Any, team: Any, start: Any
) -> None:
    incident = open_incident()
    run_until(15.5)
    [call] = calls()
    press(client, fake_twilio, call, "5")
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.OPEN


def test_ack_at_minute_3_means_no_call(
    client: Any, fake_slack: Any, fake_twilio: Any, team: Any, start: Any
) -> None:
    from sirene.escalation.tests.helpers import slack_event
    from sirene.integrations.fakes.slack import event_callback, reaction_added

    incident = open_incident()
    run_until(3)
    message = fake_slack.messages[0]
    response = slack_event(
        client, event_callback(reaction_added(message["channel"], message["ts"], "U0000LUCA1"), "Ev001")
    )
    assert response.status_code == 200
    run_until(60)
    assert fake_twilio.calls == []
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.ACKNOWLEDGED and incident.acknowledged_label == "Luca"
    assert Run.objects.get().status == RunStatus.ACKNOWLEDGED
    assert fake_slack.updates and "*Übernommen* von Luca" in fake_slack.updates[-1]["text"]


def test_duplicate_status_callbacks_change_nothing(
    client: Any, fake_slack: Any, fake_twilio: Any, team: Any, start: Any
) -> None:
    open_incident()
    run_until(15.5)
    [call] = calls()
    assert call_status(client, fake_twilio, call, "no-answer").json()["changed"] is True
    clock.advance(seconds=10)
    again = call_status(client, fake_twilio, call, "no-answer")
    assert again.json() == {"ok": True, "duplicate": True}
    call.refresh_from_db()
    assert call.finished_at == start + dt.timedelta(minutes=15, seconds=30)


def test_a_bad_twilio_signature_is_refused_and_changes_nothing(
    client: Any, fake_slack: Any, fake_twilio: Any, team: Any, start: Any
) -> None:
    from sirene.escalation.tests.helpers import twilio_post

    open_incident()
    run_until(15.5)
    [call] = calls()
    fake_call = fake_twilio.calls[0]
    params = fake_twilio.gather_params(fake_call, "1")
    for signature in ("", "bm90LXRoZS1zaWduYXR1cmU="):
        response = twilio_post(client, f"/hooks/twilio/gather?attempt={call.pk}", params, signature=signature)
        assert response.status_code == 403
    call.refresh_from_db()
    assert call.status == AttemptStatus.SENT
    assert call.run.incident.status == IncidentStatus.OPEN


def test_a_worker_killed_between_call_placed_and_recorded_does_not_call_twice(
    fake_slack: Any, fake_twilio: Any, team: Any, start: Any
) -> None:
    from sirene.integrations.registry import phone_transport

    open_incident()
    run_until(14.5)
    clock.advance(minutes=1)
    # The dead worker's story: it decided the call, marked the attempt `sending`, placed the call at
    # Twilio — and was killed before it could write the CallSid down. Its lease then ran out.
    from sirene.escalation import worker

    owner = "dead-worker"
    [run_id] = worker.claim_due(owner)
    run = Run.objects.get(pk=run_id)
    worker._decide_and_record(run, owner)
    attempt = Attempt.objects.get(kind="call")
    Attempt.objects.filter(pk=attempt.pk).update(status=AttemptStatus.SENDING, sending_at=clock.now())
    phone_transport().place_call(attempt.target, twiml="<Response/>", status_callback="https://x/cb")
    Run.objects.filter(pk=run_id).update(next_action_at=clock.now())
    clock.advance(seconds=31)  # lease (30 s) expired
    work()
    assert len(fake_twilio.calls) == 1, "the call found at Twilio is adopted, not placed again"
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SENT and attempt.provider_id == fake_twilio.calls[0]["sid"]


def test_a_worker_killed_after_marking_sending_but_before_calling_does_place_the_call(
    fake_slack: Any, fake_twilio: Any, team: Any, start: Any
) -> None:
    from sirene.escalation import worker

    open_incident()
    run_until(14.5)
    clock.advance(minutes=1)
    [run_id] = worker.claim_due("dead-worker")
    worker._decide_and_record(Run.objects.get(pk=run_id), "dead-worker")
    Attempt.objects.filter(kind="call").update(status=AttemptStatus.SENDING, sending_at=clock.now())
    Run.objects.filter(pk=run_id).update(next_action_at=clock.now())
    clock.advance(seconds=31)
    work()
    assert len(fake_twilio.calls) == 1
    assert Attempt.objects.get(kind="call").status == AttemptStatus.SENT


def test_a_slack_post_interrupted_mid_call_is_found_by_its_metadata(
    fake_slack: Any, fake_twilio: Any, team: Any, start: Any
) -> None:
    from sirene.escalation import worker
    from sirene.integrations.registry import chat_transport

    open_incident()
    [run_id] = worker.claim_due("dead-worker")
    worker._decide_and_record(Run.objects.get(pk=run_id), "dead-worker")
    attempt = Attempt.objects.get(kind="slack_post")
    Attempt.objects.filter(pk=attempt.pk).update(status=AttemptStatus.SENDING, sending_at=clock.now())
    chat_transport().post_message("#customer-success", attempt.text, metadata={"attempt_id": str(attempt.pk)})
    Run.objects.filter(pk=run_id).update(next_action_at=clock.now())
    clock.advance(seconds=31)
    work()
    sirens = [m for m in fake_slack.posted_to("#customer-success") if not m.get("thread_ts")]
    assert len(sirens) == 1
    assert Run.objects.get().slack_ts == sirens[0]["ts"]


def test_a_rate_limited_post_is_retried_after_retry_after(
    fake_slack: Any, fake_twilio: Any, team: Any, start: Any
) -> None:
    fake_slack.fail_next("chat.postMessage", "ratelimited", status=429, retry_after=20)
    open_incident()
    work()
    attempt = Attempt.objects.get(kind="slack_post")
    assert attempt.status == AttemptStatus.PENDING and attempt.retry_at == start + dt.timedelta(seconds=20)
    clock.advance(seconds=10)
    work()
    assert fake_slack.posted_to("#customer-success") == []
    clock.advance(seconds=10)
    work()
    assert len([m for m in fake_slack.posted_to("#customer-success") if not m.get("thread_ts")]) == 1


def test_channel_not_found_is_a_permanent_error_shown_to_admins_and_calls_still_go_out(
    admin_user: Any, client: Any, fake_slack: Any, fake_twilio: Any, team: Any, start: Any
) -> None:
    from sirene.escalation import services

    fake_slack.fail_next("chat.postMessage", "channel_not_found")
    open_incident()
    run_until(15.5)
    [problem] = services.integration_problems()
    assert "channel_not_found" in problem.error
    assert len(calls()) == 1
    client.force_login(admin_user)
    page = client.get("/escalation/")
    assert "channel_not_found" in page.content.decode()


def test_an_ack_while_the_siren_is_rate_limited_updates_it_once_it_is_posted(
    fake_slack: Any, fake_twilio: Any, team: Any, start: Any
) -> None:

    fake_slack.fail_next("chat.postMessage", "ratelimited", status=429, retry_after=30)
    incident = open_incident()
    work()
    incident_flows.acknowledge(incident, label="Lea", via="web")
    run_until(2)
    [siren] = [m for m in fake_slack.posted_to("#customer-success") if not m.get("thread_ts")]
    assert "*Übernommen* von Lea" in siren["text"]


def test_a_number_twilio_refuses_fails_for_good_and_the_chain_moves_on(
    fake_slack: Any, fake_twilio: Any, team: Any, start: Any
) -> None:
    fake_twilio.fail_status = [(400, 21211), (400, 21211)]
    open_incident()
    run_until(16)
    failed = [c for c in calls() if c.status == AttemptStatus.FAILED]
    assert failed and failed[0].permanent_error and "21211" in failed[0].error
    run_until(10)
    assert "Piwi" in [c.person_name for c in calls()]
    assert fake_twilio.calls_to("+4915550000004")


def test_a_task_dm_interrupted_mid_send_is_found_by_its_metadata_and_not_sent_twice(
    fake_slack: Any, fake_twilio: Any, team: Any, start: Any
) -> None:
    from sirene.escalation.models import AttemptKind
    from sirene.integrations.registry import chat_transport

    open_incident()
    work()
    run = Run.objects.get()
    # The dead worker marked the Facebook-task DM `sending`, sent it, and died before recording it.
    attempt = Attempt.objects.create(
        run=run,
        kind=AttemptKind.TASK,
        target="U0000LEA01",
        text="Bitte Facebook-Gruppen prüfen",
        status=AttemptStatus.SENDING,
        sending_at=clock.now(),
    )
    chat_transport().send_dm("U0000LEA01", attempt.text, metadata={"attempt_id": str(attempt.pk)})
    Run.objects.filter(pk=run.pk).update(next_action_at=clock.now())
    clock.advance(seconds=31)  # the dead worker's lease expired
    work()
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SENT and attempt.provider_id
    dms = [m for m in fake_slack.posted_to("U0000LEA01") if m["text"] == attempt.text]
    assert len(dms) == 1, "the DM found at Slack is adopted, not sent again"
