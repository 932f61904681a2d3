"""Closing the loop: holding replies, resolution replies (exactly once per ticket), retries, delay notices."""

from __future__ import annotations

from typing import Any

import pytest

from sirene.cases import services as cases
from sirene.cases.models import Status
from sirene.core import clock
from sirene.flows import cases as case_flows
from sirene.flows import incidents as incident_flows
from sirene.flows.intake import report_case
from sirene.helpdesk import replies, services, tasks
from sirene.helpdesk.models import CustomerReply, ReplyAttempt, ReplyKind, ReplyStatus
from sirene.helpdesk.tests.conftest import make_groove_case
from sirene.integrations.models import OutboxMessage

pytestmark = pytest.mark.django_db


def _open_question(case: Any, user: Any) -> Any:
    return case_flows.change_status(case, Status.OPEN_QUESTION, actor=user)


def test_the_holding_reply_is_sent_once_when_a_case_becomes_an_open_question(groove: Any, agent: Any) -> None:
    groove.add_ticket(101, email="anna.k@example.com", tags=["technik"])
    case = make_groove_case(101, "anna.k@example.com", name="Anna K.")
    assert services.holding_reply_status(case) == ("none", None)

    _open_question(case, agent)
    assert services.holding_reply_status(case)[0] == "queued"
    assert not groove.posted()  # never inside the request: the worker sends

    tasks.tick()
    status, when = services.holding_reply_status(case)
    assert status == "sent" and when is not None
    [post] = groove.posted(101)
    assert post.body["note"] is False
    assert post.body["body"].startswith("Hallo Anna K.,")
    assert "Wir haben Ihr Anliegen an unser Technik-Team gegeben und melden uns zeitnah" in post.body["body"]
    case.refresh_from_db()
    assert case.last_customer_contact_at is not None

    case_flows.change_status(case, Status.IN_PROGRESS, actor=agent)
    _open_question(case, agent)
    tasks.tick()
    assert len(groove.posted(101)) == 1


def test_resolution_to_50_customers_with_3_failures_sends_47_once_and_retries_the_3(
    groove: Any, agent: Any, quick_client: Any
) -> None:
    clock.set_now(clock.now())
    linked = []
    for n in range(1, 51):
        groove.add_ticket(1000 + n, email=f"kunde{n}@example.com", tags=["technik"])
        linked.append(make_groove_case(1000 + n, f"kunde{n}@example.com"))
    broken = {1007, 1023, 1042}
    for number in broken:
        groove.broken_tickets[number] = 500
    incident = incident_flows.open_incident(title="Videos laden nicht", cases=linked)

    assert incident_flows.resolve(
        incident, resolution="Videoserver neu gestartet.", customer_text="Der Videoserver läuft wieder.", user=agent
    )
    services.send_due(limit=100, client=quick_client)

    sent = CustomerReply.objects.filter(incident=incident, status=ReplyStatus.SENT)
    assert sent.count() == 47
    assert {p.path for p in groove.posted()} == {f"/v1/tickets/{1000 + n}/messages" for n in range(1, 51)} - {
        f"/v1/tickets/{n}/messages" for n in broken
    }
    assert all("Der Videoserver läuft wieder." in p.body["body"] for p in groove.posted())
    waiting = CustomerReply.objects.filter(incident=incident, status=ReplyStatus.QUEUED)
    assert set(waiting.values_list("ticket_number", flat=True)) == broken
    assert ReplyAttempt.objects.filter(outcome=ReplyAttempt.Outcome.TRANSIENT).count() == 3

    groove.broken_tickets.clear()
    services.send_due(limit=100, client=quick_client)  # not due yet: backoff
    assert len(groove.posted()) == 47
    clock.advance(minutes=5)
    services.send_due(limit=100, client=quick_client)

    assert CustomerReply.objects.filter(incident=incident, status=ReplyStatus.SENT).count() == 50
    for n in range(1, 51):
        assert len(groove.posted(1000 + n)) == 1  # exactly once per ticket


def test_a_second_resolve_click_sends_nothing_more(groove: Any, agent: Any, lead: Any) -> None:
    groove.add_ticket(201, email="a@example.com", tags=["technik"])
    groove.add_ticket(202, email="b@example.com", tags=["technik"])
    linked = [make_groove_case(201, "a@example.com"), make_groove_case(202, "b@example.com")]
    incident = incident_flows.open_incident(title="Login", cases=linked)
    assert incident_flows.resolve(incident, resolution="Behoben.", user=agent)
    tasks.tick()
    assert not incident_flows.resolve(incident, resolution="Behoben!", user=lead)
    services.queue_resolution_replies(incident)  # even a repeated hook queues nothing new
    tasks.tick()
    assert len(groove.posted()) == 2
    assert CustomerReply.objects.filter(incident=incident).count() == 2


def test_a_permanent_failure_waits_for_the_retry_button_then_sends(
    groove: Any, agent: Any, client: Any
) -> None:
    groove.add_ticket(301, email="c@example.com", tags=["technik"])
    case = make_groove_case(301, "c@example.com")
    incident = incident_flows.open_incident(title="Checkout", cases=[case])
    groove.broken_tickets[301] = 422
    incident_flows.resolve(incident, resolution="Zahlungen gehen wieder.", user=agent)
    tasks.tick()
    reply = CustomerReply.objects.get(incident=incident)
    assert reply.status == ReplyStatus.FAILED and "422" in reply.last_error
    tasks.tick()
    assert not groove.posted()

    client.force_login(agent)
    html = client.get("/helpdesk/outbox/").content.decode()  # pages render with failures around
    assert "Outbox" in html or "Postausgang" in html
    groove.broken_tickets.clear()
    response = client.post(f"/helpdesk/replies/{reply.pk}/retry/", {"next": case.get_absolute_url()})
    assert response.status_code == 302
    client.post(f"/helpdesk/replies/{reply.pk}/retry/")  # a second click changes nothing
    tasks.tick()
    reply.refresh_from_db()
    assert reply.status == ReplyStatus.SENT and reply.attempts == 2
    assert len(groove.posted(301)) == 1


def test_cases_without_a_helpdesk_ticket_are_reported_not_replied_to(groove: Any, agent: Any) -> None:
    other = report_case(
        cases.IntakeData(
            source="api",
            external_id="x1",
            subject="Login",
            body="geht nicht",
            customer=cases.CustomerData(email="d@example.com"),
        ),
    ).case
    assert other is not None
    incident = incident_flows.open_incident(title="Login", cases=[other])
    incident_flows.resolve(incident, resolution="ok", user=agent)
    assert not CustomerReply.objects.exists()
    assert incident.events.filter(kind="customer_replies", data__without_ticket=1).exists()


def test_without_groove_configured_replies_land_in_the_outbox(agent: Any, settings: Any) -> None:
    settings.GROOVE_TOKEN = ""
    case = make_groove_case(401, "e@example.com")
    _open_question(case, agent)
    tasks.tick()
    message = OutboxMessage.objects.get(channel=OutboxMessage.Channel.HELPDESK)
    assert message.recipient == "Groove #401" and "Technik-Team" in message.body
    assert services.holding_reply_status(case)[0] == "sent"


def test_an_unsolved_incident_reminds_its_owner_and_the_delay_notice_reaches_every_customer_once(
    groove: Any, agent: Any, lead: Any, client: Any, settings: Any
) -> None:
    settings.DELAY_NOTICE_HOURS = 12.0
    clock.set_now(clock.now())
    groove.add_ticket(501, email="f@example.com", tags=["technik"])
    groove.add_ticket(502, email="g@example.com", tags=["technik"])
    linked = [make_groove_case(501, "f@example.com"), make_groove_case(502, "g@example.com")]
    incident = incident_flows.open_incident(title="Sync hängt", cases=linked, opened_by=agent)
    tasks.tick()
    assert not OutboxMessage.objects.filter(kind="dm").exists()

    clock.advance(hours=13)
    tasks.tick()
    tasks.tick()
    [dm] = OutboxMessage.objects.filter(kind="dm")
    assert "Sync hängt" in dm.body and "12" in dm.body

    client.force_login(lead)  # delay notices are for leads (accounts.permissions)
    client.post(f"/helpdesk/incidents/{incident.pk}/delay-notice/")
    client.post(f"/helpdesk/incidents/{incident.pk}/delay-notice/")  # two clicks
    tasks.tick()
    # the holding reply at open, then exactly one delay notice per ticket
    assert len(groove.posted(501)) == 2 and len(groove.posted(502)) == 2
    assert "länger als erhofft" in groove.posted(501)[1].body["body"]


def test_an_open_question_unsolved_too_long_reminds_the_owner(
    groove: Any, agent: Any, lead: Any, client: Any
) -> None:
    clock.set_now(clock.now())
    groove.add_ticket(601, email="h@example.com", tags=["technik"])
    case = make_groove_case(601, "h@example.com")
    _open_question(case, agent)
    clock.advance(hours=25)
    tasks.tick()
    assert OutboxMessage.objects.filter(kind="dm", recipient=agent.display_name()).exists()
    client.force_login(lead)
    assert 'id="case-delay-notice"' in client.get(case.get_absolute_url()).content.decode()
    client.post(f"/helpdesk/cases/{case.pk}/delay-notice/")
    tasks.tick()
    assert CustomerReply.objects.get(case=case, kind=ReplyKind.DELAY).status == ReplyStatus.SENT


def test_the_private_note_links_the_groove_ticket_to_the_case(groove: Any, agent: Any, client: Any) -> None:
    groove.add_ticket(701, email="i@example.com", tags=["technik"])
    case = make_groove_case(701, "i@example.com")
    client.force_login(agent)
    client.post(f"/helpdesk/cases/{case.pk}/note/")
    client.post(f"/helpdesk/cases/{case.pk}/note/")
    tasks.tick()
    [note] = groove.posted(701, note=True)
    assert f"https://sirene.example/cases/{case.pk}/" in note.body["body"]


def test_an_edited_template_is_used_and_unknown_placeholders_are_refused(
    groove: Any, agent: Any, lead: Any, client: Any
) -> None:
    client.force_login(lead)
    bad = client.post("/helpdesk/templates/", {"kind": "holding", "body": "Hallo {vorname}"})
    assert bad.status_code == 422 and "{vorname}" in bad.content.decode()
    ok = client.post(
        "/helpdesk/templates/",
        {"kind": "holding", "body": "{greeting}\nTicket {ticket_number} ist beim Technik-Team."},
    )
    assert ok.status_code == 302
    groove.add_ticket(801, email="j@example.com", tags=["technik"])
    case = make_groove_case(801, "j@example.com")
    _open_question(case, agent)
    tasks.tick()
    # What the customer reads: the template's text (the crash-safety marker is an invisible HTML comment).
    [message] = groove.ticket_messages(801)
    assert message["plain_text_body"] == "Hallo,\nTicket 801 ist beim Technik-Team."
    with pytest.raises(replies.TemplateError, match="braces"):
        replies.validate("Hallo {greeting")


def test_the_outbox_lists_all_channels_newest_first_and_filters(agent: Any, client: Any) -> None:
    clock.set_now(clock.now())
    OutboxMessage.objects.create(
        channel="slack", kind="post", recipient="#cs", body="erste", created_at=clock.now()
    )
    clock.advance(minutes=1)
    OutboxMessage.objects.create(
        channel="phone", kind="call", recipient="+49", body="zweite", created_at=clock.now()
    )
    clock.advance(minutes=1)
    OutboxMessage.objects.create(
        channel="helpdesk", kind="reply", recipient="Groove #1", body="dritte", created_at=clock.now()
    )
    client.force_login(agent)
    html = client.get("/helpdesk/outbox/").content.decode()
    assert html.index("dritte") < html.index("zweite") < html.index("erste")
    filtered = client.get("/helpdesk/outbox/", {"channel": "phone"}).content.decode()
    assert "zweite" in filtered and "dritte" not in filtered


def test_the_api_reports_replies_and_retries_only_failed_ones(
    groove: Any, agent: Any, api: Any, lead_api: Any
) -> None:
    groove.add_ticket(901, email="k@example.com", tags=["technik"])
    case = make_groove_case(901, "k@example.com")
    incident = incident_flows.open_incident(title="API", cases=[case])
    incident_flows.resolve(incident, resolution="ok", user=agent)
    tasks.tick()
    body = api.get("/api/v1/helpdesk/replies", incident=incident.pk).json()
    assert body["counts"]["sent"] == 1
    reply_id = body["items"][0]["id"]
    assert api.post(f"/api/v1/helpdesk/replies/{reply_id}/retry").status_code == 409
    missing = api.get("/api/v1/helpdesk/replies")
    assert missing.status_code == 422 and missing.json()["field"] == "incident"
    # A resolved incident gets no delay notice: the 422 names the field, like every other one.
    assert api.post(f"/api/v1/helpdesk/incidents/{incident.pk}/delay-notice").status_code == 403  # agent
    refused = lead_api.post(f"/api/v1/helpdesk/incidents/{incident.pk}/delay-notice")
    assert refused.status_code == 422
    assert refused.json() == {
        "error": "incident: is already resolved",
        "field": "incident",
        "errors": [{"field": "incident", "message": "is already resolved"}],
    }


def test_the_incident_panel_reports_sent_and_failed_with_a_retry_button(
    groove: Any, agent: Any, lead: Any, rf: Any
) -> None:
    from django.template.loader import render_to_string

    from sirene.helpdesk.panels import incident_panel_context

    groove.add_ticket(951, email="l@example.com", tags=["technik"])
    groove.add_ticket(952, email="m@example.com", tags=["technik"])
    linked = [make_groove_case(951, "l@example.com"), make_groove_case(952, "m@example.com")]
    incident = incident_flows.open_incident(title="Panel", cases=linked)
    groove.broken_tickets[952] = 422
    incident_flows.resolve(incident, resolution="ok", user=agent)
    tasks.tick()
    request = rf.get("/")
    request.user = lead  # retrying every failed reply is a lead's action (accounts.permissions)
    context = incident_panel_context(request, incident)
    assert context is not None
    counts = context["counts"]
    assert (counts["sent"], counts["queued"], counts["failed"], counts["no_ticket"]) == (1, 0, 1, 0)
    html = render_to_string("helpdesk/incident_panel.html", {"panel": context}, request=request)
    failed = CustomerReply.objects.get(ticket_number=952)
    assert f"/helpdesk/replies/{failed.pk}/retry/" in html and 'id="retry-failed"' in html


def test_the_demo_loads_twice_without_duplicating_anything(agent: Any, settings: Any) -> None:
    from io import StringIO

    from sirene.helpdesk import demo
    from sirene.helpdesk.models import ReplyTemplate

    settings.GROOVE_TOKEN = ""
    case = make_groove_case(990, "demo@example.com")
    case_flows.change_status(case, Status.OPEN_QUESTION, actor=agent)
    demo.load(StringIO())
    demo.load(StringIO())
    assert ReplyTemplate.objects.count() == len(replies.DEFAULTS)
    assert OutboxMessage.objects.filter(channel=OutboxMessage.Channel.HELPDESK).count() == 1
