"""Slack rewrites are a core.jobs queue: a crash at any point loses nothing and posts nothing twice
(real slack_sdk against the local fake Slack)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import transaction

from sirene.core import clock
from sirene.escalation.tests.helpers import work
from sirene.privacy import services, tasks
from sirene.privacy.models import SlackRewrite
from sirene.privacy.tests.helpers import EMAIL, open_incident_with

pytestmark = pytest.mark.django_db


def erased_with_siren(fake_slack: Any) -> dict[str, Any]:
    open_incident_with(EMAIL)
    work()
    siren: dict[str, Any] = next(m for m in fake_slack.messages if "Fälle" in m["text"])
    assert EMAIL in siren["text"]
    services.erase(EMAIL, actor_label="test")
    return siren


def test_a_worker_that_dies_after_claiming_leaves_the_rewrite_to_the_next(
    fake_slack: Any, team: Any, start: Any, settings: Any
) -> None:
    siren = erased_with_siren(fake_slack)
    posts = len(fake_slack.messages)
    with transaction.atomic():
        assert tasks.REWRITES.claim("dead-worker:1:1", limit=10)  # claimed, then the worker died
    assert tasks.send_rewrites() == 0  # leased to the dead worker: nobody else touches it yet
    clock.advance(seconds=settings.WORKER_LEASE_SECONDS + 1)
    assert tasks.send_rewrites() == 1
    assert EMAIL not in next(m for m in fake_slack.messages if m["ts"] == siren["ts"])["text"]
    assert len(fake_slack.messages) == posts  # rewritten in place, nothing posted


def test_a_worker_that_dies_after_slack_answered_repeats_the_same_rewrite_only(
    fake_slack: Any, team: Any, start: Any, settings: Any
) -> None:
    siren = erased_with_siren(fake_slack)
    row = SlackRewrite.objects.get()
    with transaction.atomic():
        tasks.REWRITES.claim("dead-worker:1:1", limit=10)
    tasks.rewrite(row)  # Slack got the update, then the worker died before `complete`
    clock.advance(seconds=settings.WORKER_LEASE_SECONDS + 1)
    assert tasks.send_rewrites() == 1
    updates = [u for u in fake_slack.updates if u["ts"] == siren["ts"]]
    assert len(updates) == 2 and updates[0]["text"] == updates[1]["text"]  # the same text: idempotent
    assert SlackRewrite.objects.get().done_at is not None
    assert tasks.send_rewrites() == 0


def test_a_slack_outage_is_retried_with_backoff_and_a_dead_channel_ends_visibly(
    fake_slack: Any, team: Any, start: Any
) -> None:
    erased_with_siren(fake_slack)
    fake_slack.fail_next("chat.update", "internal_error", status=500)
    assert tasks.send_rewrites() == 0
    row = SlackRewrite.objects.get()
    assert row.tries == 1 and row.dead_at is None and row.due_at is not None and row.due_at > clock.now()
    assert "internal_error" in row.last_error or "500" in row.last_error
    clock.advance(minutes=2)
    assert tasks.send_rewrites() == 1
    # a message that is gone in Slack: a permanent error, dead at once (shown, not retried forever)
    SlackRewrite.objects.update(done_at=None, due_at=clock.now(), tries=0)
    fake_slack.fail_next("chat.update", "message_not_found")
    tasks.send_rewrites()
    assert SlackRewrite.objects.get().dead_at is not None


def test_the_rewrite_waits_while_an_escalation_update_of_the_post_is_in_flight(
    fake_slack: Any, team: Any, start: Any
) -> None:
    from sirene.escalation.models import Attempt, AttemptKind, AttemptStatus

    erased_with_siren(fake_slack)
    row = SlackRewrite.objects.get()
    assert row.run is not None
    Attempt.objects.create(run=row.run, kind=AttemptKind.SLACK_UPDATE, status=AttemptStatus.SENDING, text="…")
    assert tasks.send_rewrites() == 0
    row.refresh_from_db()
    assert row.due_at is not None and row.due_at - clock.now() >= dt.timedelta(seconds=29)
    Attempt.objects.filter(status=AttemptStatus.SENDING).update(status=AttemptStatus.SENT)
    clock.advance(seconds=31)
    assert tasks.send_rewrites() == 1
