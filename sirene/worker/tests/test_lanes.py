"""Lanes: escalation has its own thread, so a hung helpdesk never delays a call; every outbound client
gives up after its timeout with a transient error."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sirene.cases.models import Status
from sirene.core import clock
from sirene.escalation.models import Attempt, AttemptKind, AttemptStatus
from sirene.escalation.tests.helpers import open_incident, work
from sirene.flows import cases as case_flows
from sirene.helpdesk.models import CustomerReply, ReplyStatus
from sirene.helpdesk.tests.conftest import make_groove_case
from sirene.integrations.base import TransientError
from sirene.integrations.fakes.groove import FakeGroove
from sirene.worker import loop

T0 = dt.datetime(2024, 3, 5, 2, 0, tzinfo=dt.UTC)


def wait_for(condition: Callable[[], bool], what: str, limit: float = 60.0) -> None:
    """Poll until `condition` holds. The limit only keeps a broken build from hanging; it is no assertion
    about speed (the assertions are about order: what happened while Groove still hung)."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for: {what}")
        time.sleep(0.05)


@pytest.fixture
def hung_groove(settings: Any) -> Iterator[FakeGroove]:
    fake = FakeGroove().start()
    settings.GROOVE_TOKEN = fake.token
    settings.GROOVE_API_URL = fake.url
    settings.OUTBOUND_TIMEOUT_SECONDS = 120.0  # longer than the test: the background lane stays stuck
    try:
        yield fake
    finally:
        fake.stop()


@pytest.mark.django_db(transaction=True)
def test_a_hung_groove_does_not_delay_a_due_call(
    hung_groove: FakeGroove, fake_slack: Any, fake_twilio: Any, team: Any, agent: Any
) -> None:
    clock.set_now(T0)
    hung_groove.add_ticket(101, email="anna.k@example.com", tags=["technik"])
    case = make_groove_case(101, "anna.k@example.com")
    case_flows.change_status(case, Status.OPEN_QUESTION, actor=agent)  # a holding reply, due now
    open_incident()
    work()  # the siren is posted; the first call is due 15 minutes later
    assert fake_slack.messages and not fake_twilio.calls

    hung_groove.hang = True
    stop = threading.Event()
    lanes = loop.start_lanes(stop, poll=0.05)
    try:
        wait_for(
            lambda: any(r.method == "POST" for r in hung_groove.requests), "the reply POST reached Groove"
        )
        clock.advance(minutes=15, seconds=30)  # now the call is due
        wait_for(
            lambda: Attempt.objects.filter(kind=AttemptKind.CALL, status=AttemptStatus.SENT).exists(),
            "the call was placed",
        )
        assert len(fake_twilio.calls) == 1
        reply = CustomerReply.objects.get(case=case)
        assert reply.status == ReplyStatus.SENDING, "Groove still hangs: the call did not wait for it"
    finally:
        stop.set()
        hung_groove.stop()  # lets the hung request end (as a transient error) so the lane can stop
        for lane in lanes:
            lane.join(timeout=30)
    assert not any(lane.is_alive() for lane in lanes)


@pytest.mark.django_db
def test_every_outbound_client_times_out_with_a_transient_error(settings: Any) -> None:
    from sirene.integrations.groove import GrooveHelpdesk
    from sirene.integrations.slack import SlackTransport
    from sirene.integrations.twilio import TwilioTransport

    settings.OUTBOUND_TIMEOUT_SECONDS = 0.5
    hung = FakeGroove(hang=True).start()
    base = hung.url.removesuffix("/v1")
    try:
        clients: list[tuple[str, Callable[[], object]]] = [
            ("slack", lambda: SlackTransport("xoxb-t", f"{base}/api/").post_message("#c", "hallo")),
            (
                "twilio",
                lambda: TwilioTransport("AC" + "0" * 32, "tok", "+4930000000", base).place_call(
                    "+4915550000002", twiml="<Response/>", status_callback="https://x/cb"
                ),
            ),
            ("groove", lambda: GrooveHelpdesk(hung.token, hung.url, timeout=0.5).reply(101, "Hallo")),
        ]
        for name, call in clients:
            with pytest.raises(TransientError):
                call()
            assert any(r for r in hung.requests), name
    finally:
        hung.stop()
    # The POST to Groove was not repeated inline after its timeout (it may have arrived).
    assert sum(1 for r in hung.requests if r.path == "/v1/tickets/101/messages") == 1
