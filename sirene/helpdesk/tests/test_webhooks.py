"""Groove webhooks: stored before parsing, re-fetched through the API, turned into cases."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from sirene.cases.models import Case, CaseEvent, Status
from sirene.helpdesk import tasks
from sirene.helpdesk.models import CachedTicket
from sirene.helpdesk.tests.conftest import fixture_body, fixture_json, make_groove_case
from sirene.integrations.models import WebhookDelivery
from sirene.knowledge.models import CaseMatch
from sirene.worker.loop import STEPS

pytestmark = pytest.mark.django_db


def test_a_ticket_tagged_technik_becomes_a_case_in_the_tracking_list_with_the_customers_other_tickets(
    groove: Any, post_hook: Any, client: Any, agent: Any
) -> None:
    email = "customer@example.lcom"
    groove.add_ticket(
        9,
        email=email,
        title="Test Subject",
        text="Die App stürzt beim Öffnen ab.",
        tags=["technik"],
        name="Test Name",
    )
    groove.add_ticket(5, email=email, title="Rechnung fehlt", state="closed")
    groove.add_ticket(7, email=email, title="Kurs verlängern", state="pending")
    groove.add_ticket(8, email="someone-else@example.com", title="Fremdes Ticket")

    response = post_hook("ticket_tagged", fixture_body("ticket_tagged"))
    assert response.status_code == 202
    assert tasks.tick() >= 1

    case = Case.objects.get(source="groove", external_id="9")
    assert case.customer.email == email and case.customer.name == "Test Name"
    assert case.body == "Die App stürzt beim Öffnen ab."
    cached = set(CachedTicket.objects.filter(customer_email=email).values_list("number", flat=True))
    assert cached == {5, 7, 9}

    client.force_login(agent)
    assert "Test Subject" in client.get("/cases/").content.decode()
    page = client.get(case.get_absolute_url()).content.decode()
    assert "Kurs verlängern" in page and "Rechnung fehlt" in page and "Fremdes Ticket" not in page


def test_a_duplicate_delivery_creates_one_case(groove: Any, post_hook: Any) -> None:
    groove.add_ticket(9, email="customer@example.lcom", tags=["technik"])
    first = post_hook("ticket_tagged", fixture_body("ticket_tagged"))
    second = post_hook("ticket_tagged", fixture_body("ticket_tagged"))
    assert first.status_code == 202
    assert second.status_code == 200 and second.json()["duplicate"] is True
    tasks.tick()
    post_hook("ticket_started", fixture_body("ticket_tagged"))  # same ticket, another event
    tasks.tick()
    assert WebhookDelivery.objects.filter(source="groove").count() == 2
    assert Case.objects.filter(source="groove", external_id="9").count() == 1


@pytest.mark.parametrize("secret", ["wrong-secret", "", "s3cret-webhook-path-0123456789abcdeF"])
def test_a_wrong_secret_answers_404_and_stores_nothing(groove: Any, client: Any, secret: str) -> None:
    response = client.generic(
        "POST",
        f"/hooks/groove/{secret}",
        fixture_body("ticket_tagged"),
        content_type="application/json",
        headers={"X-Groove-Event": "ticket_tagged"},
    )
    assert response.status_code == 404
    assert not WebhookDelivery.objects.exists()


def test_without_a_configured_secret_every_path_is_404(groove: Any, post_hook: Any, settings: Any) -> None:
    settings.GROOVE_WEBHOOK_SECRET = ""
    assert post_hook("ticket_tagged", fixture_body("ticket_tagged"), secret="anything").status_code == 404
    assert not WebhookDelivery.objects.exists()


def test_the_apis_version_of_the_ticket_wins_over_the_payload(groove: Any, post_hook: Any) -> None:
    # The payload claims #technik; Groove's API says the ticket is not tagged: no case.
    groove.add_ticket(9, email="customer@example.lcom", title="Nur eine Frage", tags=[])
    post_hook("ticket_tagged", fixture_body("ticket_tagged"))
    tasks.tick()
    assert not Case.objects.exists()
    assert CachedTicket.objects.get(number=9).title == "Nur eine Frage"

    # The payload says untagged, another e-mail and another title; the API's version is what counts.
    payload = fixture_json("ticket_started")
    payload["number"] = 12
    payload["title"] = "Gefälschter Titel"
    groove.add_ticket(12, email="echte@example.com", title="Login schlägt fehl", tags=["Technik"])
    post_hook("ticket_started", json.dumps(payload))
    tasks.tick()
    case = Case.objects.get(external_id="12")
    assert case.subject == "Login schlägt fehl"
    assert case.customer.email == "echte@example.com"


def test_the_worker_step_that_stores_a_case_from_a_delivery_analyses_it_in_the_same_step(
    groove: Any, post_hook: Any
) -> None:
    groove.add_ticket(9, email="customer@example.lcom", text="Login geht nicht: Fehler 502.", tags=["technik"])
    assert post_hook("ticket_started", fixture_body("ticket_started")).status_code == 202
    assert not Case.objects.exists()

    helpdesk_step = dict(STEPS)["helpdesk.tick"]
    assert helpdesk_step() >= 1

    case = Case.objects.get(source="groove", external_id="9")
    assert case.analysed_at is not None and case.embedding and case.clean_text
    assert case.problem_membership is not None
    assert CaseMatch.objects.filter(case=case).exists()
    assert WebhookDelivery.objects.get().processed_at is not None


def test_ticket_started_without_the_tech_tag_is_cached_but_not_a_case(groove: Any, post_hook: Any) -> None:
    groove.add_ticket(9, email="customer@example.lcom", title="Test Subject")
    assert post_hook("ticket_started", fixture_body("ticket_started")).status_code == 202
    tasks.tick()
    assert not Case.objects.exists()
    assert CachedTicket.objects.filter(number=9).exists()
    assert WebhookDelivery.objects.get().processed_at is not None


def test_a_ticket_tagged_as_application_error_is_not_a_case(groove: Any, post_hook: Any) -> None:
    groove.add_ticket(9, email="customer@example.lcom", tags=["technik", "helga"])
    post_hook("ticket_tagged", fixture_body("ticket_tagged"))
    tasks.tick()
    assert not Case.objects.exists()


def test_customer_replied_adds_the_message_from_the_api_to_the_case_once(groove: Any, post_hook: Any) -> None:
    groove.add_ticket(440, email="rambo@example.com", tags=["technik"])
    case = make_groove_case(440, "rambo@example.com")
    payload = fixture_json("customer_replied")
    groove.messages[payload["id"]] = {**payload, "plain_text_body": "Es geht immer noch nicht (laut API)."}

    post_hook("customer_replied", json.dumps(payload))
    tasks.tick()
    post_hook("customer_replied", json.dumps({**payload, "updated_at": "2017-12-14 15:55:00 UTC"}))
    tasks.tick()

    messages = CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.MESSAGE)
    assert messages.count() == 1
    assert "Es geht immer noch nicht (laut API)." in messages.get().message


def test_ticket_closed_is_reflected_and_an_open_case_is_flagged_not_solved(
    groove: Any, post_hook: Any, client: Any, agent: Any
) -> None:
    case = make_groove_case(776, "rambo@example.com")
    groove.add_ticket(776, email="rambo@example.com", tags=["technik"], state="closed")
    assert post_hook("ticket_closed", fixture_body("ticket_closed")).status_code == 202
    tasks.tick()
    case.refresh_from_db()
    assert case.status == Status.NEW
    event = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.SYSTEM, data__groove_closed__isnull=False)
    assert "still open" in event.message
    client.force_login(agent)
    assert 'id="closed-while-open"' in client.get(case.get_absolute_url()).content.decode()


def test_ticket_closed_is_ignored_when_the_api_says_it_was_reopened(groove: Any, post_hook: Any) -> None:
    case = make_groove_case(776, "rambo@example.com")
    groove.add_ticket(776, email="rambo@example.com", tags=["technik"], state="opened")
    post_hook("ticket_closed", fixture_body("ticket_closed"))
    tasks.tick()
    assert not CaseEvent.objects.filter(case=case, data__groove_closed__isnull=False).exists()


def test_ticket_state_changed_to_pending_only_refreshes_the_cache(groove: Any, post_hook: Any) -> None:
    case = make_groove_case(776, "rambo@example.com")
    groove.add_ticket(776, email="rambo@example.com", tags=["technik"], state="pending")
    events_before = CaseEvent.objects.filter(case=case).count()
    assert post_hook("ticket_state_changed", fixture_body("ticket_state_changed")).status_code == 202
    tasks.tick()
    assert CachedTicket.objects.get(number=776).state == "pending"
    assert CaseEvent.objects.filter(case=case).count() == events_before


def test_note_added_is_acknowledged_and_ignored(groove: Any, post_hook: Any) -> None:
    response = post_hook("note_added", fixture_body("note_added"))
    assert response.status_code == 200 and response.json()["ignored"] == "note_added"
    assert tasks.tick() == 0
    assert WebhookDelivery.objects.get().processed_at is not None
    assert not groove.requests  # nothing fetched for an event sirene does not act on


def test_a_malformed_body_gets_400_is_logged_and_the_raw_body_is_kept(
    groove: Any, post_hook: Any, caplog: Any
) -> None:
    with caplog.at_level(logging.WARNING):
        response = post_hook("ticket_tagged", b"{not json")
    assert response.status_code == 400
    assert "body" in response.json()["error"]
    delivery = WebhookDelivery.objects.get()
    assert delivery.body == "{not json" and delivery.error
    assert "refused" in caplog.text
    assert post_hook("ticket_tagged", b"[1, 2]").status_code == 400
    assert post_hook("", fixture_body("ticket_tagged")).status_code == 400


def test_a_payload_without_a_ticket_number_is_marked_malformed_not_retried(
    groove: Any, post_hook: Any
) -> None:
    post_hook("ticket_tagged", json.dumps({"title": "ohne Nummer"}))
    tasks.tick()
    delivery = WebhookDelivery.objects.get()
    assert delivery.processed_at is not None and "number" in delivery.error


def test_a_refetch_that_fails_is_retried_by_a_later_tick(groove: Any, post_hook: Any) -> None:
    from sirene.core import clock

    clock.set_now(clock.now())
    groove.add_ticket(9, email="customer@example.lcom", tags=["technik"])
    groove.fail_next(3, status=503, retry_after=0)
    post_hook("ticket_tagged", fixture_body("ticket_tagged"))
    tasks.tick()
    assert not Case.objects.exists()
    assert "will retry" in WebhookDelivery.objects.get().error
    assert tasks.tick() == 0  # not due yet
    clock.advance(minutes=5)
    tasks.tick()
    assert Case.objects.filter(external_id="9").exists()


def test_the_workspace_shows_the_customers_open_tickets_from_the_cache(db: Any) -> None:
    from sirene.cases.models import Customer
    from sirene.helpdesk.services import open_tickets_for

    customer = Customer.objects.create(email="kim@example.de")
    CachedTicket.objects.create(number=1, customer_email="kim@example.de", title="Login", state="opened")
    CachedTicket.objects.create(number=2, customer_email="kim@example.de", title="Alt", state="closed")
    CachedTicket.objects.create(number=3, customer_email="other@example.de", title="Fremd", state="opened")
    assert [t["number"] for t in open_tickets_for(customer)] == [1]
