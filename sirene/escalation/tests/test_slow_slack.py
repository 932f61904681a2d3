"""Issue 22, point 4 (security review probe #1): a slow Slack never delays a call.

The real worker lanes run in threads (escalation lane: decisions and calls; chat lane: every Slack
message). The fake Slack answers chat.postMessage only after 3 s. Every incident's first call must reach
the fake Twilio before Slack answered its first post: ordered by the fakes' own receipt times, not by a
wall-clock threshold."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from sirene.core import clock
from sirene.escalation.models import Step
from sirene.escalation.tests.helpers import open_incident
from sirene.worker import loop

pytestmark = pytest.mark.django_db(transaction=True)


def test_calls_go_out_while_slack_is_still_answering_the_sirens(
    fake_slack: Any, fake_twilio: Any, team: Any
) -> None:
    clock.set_now(None)  # the lanes run on the real clock
    Step.objects.filter(kind="wait_ack").update(minutes=0)
    fake_slack.delays["chat.postMessage"] = 3.0
    for n in range(3):
        open_incident(f"Störung {n}")
    stop = threading.Event()
    threads = loop.start_lanes(stop, poll=0.05, lanes=[loop.ESCALATION, loop.CHAT])
    try:
        for _ in range(300):  # at most 30 s; normally done after the first slow answer
            if len(fake_twilio.calls) >= 3 and any(m == "chat.postMessage" for m, _t in fake_slack.answered):
                break
            time.sleep(0.1)
    finally:
        fake_slack.delays.clear()  # let the lanes finish quickly
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
    first_answer = min(t for m, t in fake_slack.answered if m == "chat.postMessage")
    numbers = {c["to"] for c in fake_twilio.calls}
    assert numbers == {"+4915550000002"}  # Tara, the policy's first call
    assert len(fake_twilio.calls) >= 3
    assert all(c["received_monotonic"] < first_answer for c in fake_twilio.calls[:3])
