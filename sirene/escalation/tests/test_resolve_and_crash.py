"""Issue 22, point 5 (security review F9/F10): nothing of a resolved incident is sent afterwards, and a
Slack message a dead worker left `sending` is looked up at Slack before anything is redone."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from sirene.core import clock
from sirene.escalation import worker
from sirene.escalation.models import Attempt, Task
from sirene.escalation.tests.helpers import open_incident, run_until, work
from sirene.flows import incidents as incident_flows

pytestmark = pytest.mark.django_db


def test_tasks_and_posts_queued_before_the_resolve_are_not_sent_after_it(
    fake_slack: Any, fake_twilio: Any, team: Any, start: Any, lead: Any
) -> None:
    # Slack is down while the incident is open: the siren, the Facebook DM and the test-account line
    # stay queued (transient errors, retried with backoff).
    for _ in range(6):
        fake_slack.fail_next("chat.postMessage", "service_unavailable", status=503)
        fake_slack.fail_next("conversations.open", "service_unavailable", status=503)
    incident = open_incident()
    work()
    assert fake_slack.messages == []
    incident_flows.resolve(incident, resolution="CDN neu gestartet", user=lead)
    fake_slack.failures.clear()
    run_until(10)
    texts = [m["text"] for m in fake_slack.messages]
    assert not any("Facebook" in t or "Testkonto" in t or t.startswith(":rotating_light:") for t in texts)
    assert any("gelöst" in t for t in texts)  # the resolution itself is said
    assert fake_twilio.calls == []
    assert not Task.objects.filter(done_at__isnull=True).exists()
    canceled = set(Attempt.objects.filter(status="canceled").values_list("kind", flat=True))
    assert {"slack_post", "dm", "thread_reply"} <= canceled


def test_a_siren_left_sending_by_a_dead_worker_is_adopted_not_posted_twice(
    fake_slack: Any, fake_twilio: Any, team: Any, start: Any
) -> None:
    open_incident()
    worker.tick(worker.worker_id())  # the escalation lane decided: the siren is recorded, pending
    siren = Attempt.objects.get(kind="slack_post")
    # A chat worker claimed it, posted it at Slack, and was killed before recording it.
    Attempt.objects.filter(pk=siren.pk).update(status="sending", sending_at=clock.now(), tries=1)
    from sirene.integrations.registry import chat_transport

    chat_transport().post_message(siren.target, siren.text, metadata={"attempt_id": str(siren.pk)})
    worker.send_chat("other-worker")
    assert Attempt.objects.get(pk=siren.pk).status == "sending"  # too early: its worker may be alive
    clock.advance(seconds=25)
    worker.send_chat("other-worker")
    siren.refresh_from_db()
    assert siren.status == "sent" and siren.provider_id
    sirens = [m for m in fake_slack.messages if m["text"].startswith(":rotating_light:")]
    assert len(sirens) == 1


def test_the_run_lease_is_short_and_renewed_before_a_call(
    fake_slack: Any, fake_twilio: Any, team: Any, start: Any, settings: Any
) -> None:
    from sirene.escalation.models import Run

    open_incident()
    ids = worker.RUNS.claim("w1", now=clock.now())
    run = Run.objects.get(pk=ids[0])
    assert run.lease_until is not None
    assert run.lease_until - clock.now() <= dt.timedelta(seconds=settings.ESCALATION_LEASE_SECONDS)
    lease = worker._Lease(run.pk, "w1", clock.now())
    clock.advance(seconds=3)
    lease.ensure()  # less than a provider timeout (+1 s) left: renewed
    run.refresh_from_db()
    assert run.lease_until == clock.now() + dt.timedelta(seconds=settings.ESCALATION_LEASE_SECONDS)
