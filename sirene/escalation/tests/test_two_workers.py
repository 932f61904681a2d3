"""Two workers on PostgreSQL: threads with their own connections share due runs; each step once."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from sirene.escalation import tasks
from sirene.escalation.models import Attempt, Run
from sirene.escalation.tests.helpers import open_incident

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_two_workers_on_postgresql_post_each_siren_exactly_once(
    fake_slack: Any, fake_twilio: Any, team: Any, start: Any
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (row locks across connections)")
    for n in range(30):
        open_incident(f"Störung {n}")
    errors: list[BaseException] = []
    done = [0, 0]
    barrier = threading.Barrier(2)

    def worker(slot: int) -> None:
        from django.db import connections

        try:
            barrier.wait()
            for _ in range(40):
                did = tasks.tick()
                done[slot] += did
                if not did and not Run.objects.filter(slack_ts="").exists():
                    break
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    # Each incident also gives its opening tasks (the Facebook DM, the test-account line in the
    # post's thread): every message exactly once per incident, whichever worker sent it.
    sirens = [m for m in fake_slack.messages if m["text"].startswith(":rotating_light:") and not m.get("thread_ts")]
    assert len(sirens) == 30
    assert len({m["text"] for m in sirens}) == 30
    assert len(fake_slack.messages) == len({(m["channel"], m["text"]) for m in fake_slack.messages})
    assert Attempt.objects.filter(kind="slack_post", status="sent").count() == 30
