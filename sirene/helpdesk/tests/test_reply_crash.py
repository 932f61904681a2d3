"""Customer replies survive a worker crash like Slack posts and calls: nothing is sent twice.

The dying worker is the real sending code with the real Groove client; its HTTP transport lets the fake
Groove accept the POST and then ends the worker with a BaseException (nothing in sirene catches it, as
nothing runs after a SIGKILL): the `sending` mark is committed, the response is never recorded.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sirene.cases.models import Status
from sirene.core import clock
from sirene.flows import cases as case_flows
from sirene.helpdesk import services, tasks
from sirene.helpdesk.models import CustomerReply, ReplyAttempt, ReplyStatus
from sirene.helpdesk.tests.conftest import make_groove_case
from sirene.integrations.groove import GrooveHelpdesk

pytestmark = pytest.mark.django_db


class WorkerKilled(BaseException):
    """The process is gone: no except clause in sirene runs (SIGKILL)."""


class DyingTransport(httpx.HTTPTransport):
    def __init__(self, *, after_groove_accepted: bool) -> None:
        super().__init__()
        self.after = after_groove_accepted

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        posting = request.method == "POST" and request.url.path.endswith("/messages")
        if posting and not self.after:
            raise WorkerKilled("killed before the POST left")
        response = super().handle_request(request)
        if posting:
            response.read()
            raise WorkerKilled("killed after Groove accepted the reply, before sirene recorded it")
        return response


def _queue_holding_reply(groove: Any, agent: Any, number: int = 101) -> CustomerReply:
    clock.set_now(clock.now())
    groove.add_ticket(number, email="anna.k@example.com", tags=["technik"])
    case = make_groove_case(number, "anna.k@example.com", name="Anna K.")
    case_flows.change_status(case, Status.OPEN_QUESTION, actor=agent)
    return CustomerReply.objects.get(case=case)


def _die_while_sending(groove: Any, *, after_groove_accepted: bool) -> None:
    dying = GrooveHelpdesk(
        groove.token, groove.url, transport=DyingTransport(after_groove_accepted=after_groove_accepted)
    )
    with pytest.raises(WorkerKilled):
        services.send_due(client=dying, owner="dead-worker")


def test_a_worker_killed_after_groove_accepted_the_reply_sends_it_exactly_once(
    groove: Any, agent: Any
) -> None:
    reply = _queue_holding_reply(groove, agent)
    _die_while_sending(groove, after_groove_accepted=True)
    assert len(groove.posted(101)) == 1
    reply.refresh_from_db()
    assert reply.status == ReplyStatus.SENDING and reply.sending_at is not None

    tasks.tick()  # the lease of the dead worker still holds: nobody touches the reply
    clock.advance(seconds=services.CLAIM_SECONDS + 1)
    tasks.tick()  # a new worker: looks the reply up on the ticket instead of posting again
    tasks.tick()

    assert len(groove.posted(101)) == 1, "exactly one reply reached the customer"
    reply.refresh_from_db()
    [message] = groove.ticket_messages(101)
    assert reply.status == ReplyStatus.SENT and reply.provider_message_id == message["id"]
    assert ReplyAttempt.objects.get(reply=reply).outcome == ReplyAttempt.Outcome.FOUND
    assert reply.case.events.filter(message__contains="sent via Groove").count() == 1


def test_a_worker_killed_before_the_post_left_sends_it_once_after_looking(groove: Any, agent: Any) -> None:
    reply = _queue_holding_reply(groove, agent)
    _die_while_sending(groove, after_groove_accepted=False)
    assert groove.posted() == []
    clock.advance(seconds=services.CLAIM_SECONDS + 1)
    tasks.tick()
    assert len(groove.posted(101)) == 1
    lookups = [r for r in groove.requests if r.method == "GET" and r.path == "/v1/tickets/101/messages"]
    assert len(lookups) == 1, "the ticket was searched before the reply was posted"
    reply.refresh_from_db()
    assert reply.status == ReplyStatus.SENT


def test_a_timed_out_post_is_looked_up_not_repeated_blindly(groove: Any, agent: Any) -> None:
    reply = _queue_holding_reply(groove, agent)
    # An earlier POST timed out (or got a proxy's 502) after Groove had stored the reply: the row is due
    # again with its `sending_at` kept.
    html = f"{reply.body}\n\n<!-- sirene:{reply.marker} -->"
    groove.add_message(101, "", email="agent@example.com", html=html)
    CustomerReply.objects.filter(pk=reply.pk).update(sending_at=clock.now())
    tasks.tick()
    reply.refresh_from_db()
    assert reply.status == ReplyStatus.SENT and groove.posted() == []


def test_where_groove_cannot_be_searched_the_reply_is_unknown_and_a_person_decides(
    groove: Any, agent: Any, client: Any
) -> None:
    reply = _queue_holding_reply(groove, agent)
    _die_while_sending(groove, after_groove_accepted=True)
    groove.messages_status = 403  # e.g. a token without read access to messages
    clock.advance(seconds=services.CLAIM_SECONDS + 1)
    tasks.tick()
    clock.advance(hours=2)
    tasks.tick()
    reply.refresh_from_db()
    assert reply.status == ReplyStatus.UNKNOWN, "at most once: sirene does not guess"
    assert len(groove.posted(101)) == 1
    assert services.holding_reply_status(reply.case)[0] == "unknown"

    client.force_login(agent)
    html = client.get(reply.case.get_absolute_url()).content.decode()
    assert "Unbekannt – in Groove prüfen" in html
    assert (
        f"/helpdesk/replies/{reply.pk}/mark-sent/" in html and f"/helpdesk/replies/{reply.pk}/retry/" in html
    )

    response = client.post(f"/helpdesk/replies/{reply.pk}/mark-sent/")
    assert response.status_code == 302
    reply.refresh_from_db()
    assert reply.status == ReplyStatus.SENT
    assert client.post(f"/helpdesk/replies/{reply.pk}/retry/").status_code == 302
    tasks.tick()
    assert len(groove.posted(101)) == 1, "a sent reply is never queued again"


def test_the_send_again_button_on_an_unknown_reply_sends_it_once(
    groove: Any, agent: Any, client: Any
) -> None:
    reply = _queue_holding_reply(groove, agent)
    _die_while_sending(groove, after_groove_accepted=False)
    groove.messages_status = 404
    clock.advance(seconds=services.CLAIM_SECONDS + 1)
    tasks.tick()
    reply.refresh_from_db()
    assert reply.status == ReplyStatus.UNKNOWN
    client.force_login(agent)
    client.post(f"/helpdesk/replies/{reply.pk}/retry/")
    client.post(f"/helpdesk/replies/{reply.pk}/retry/")  # a second click changes nothing
    tasks.tick()
    tasks.tick()
    assert len(groove.posted(101)) == 1
    reply.refresh_from_db()
    assert reply.status == ReplyStatus.SENT
