"""The Groove API client against the fake server: retries, Retry-After, errors, pagination; and sync-groove."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from sirene.cases.models import Case
from sirene.helpdesk.models import CachedTicket, SyncCursor
from sirene.integrations.base import PermanentError, TransientError
from sirene.integrations.groove import GrooveHelpdesk, parse_time
from sirene.integrations.outbox import OutboxHelpdesk


def test_a_429_is_retried_after_the_seconds_groove_asked_for(groove: Any, quick_client: Any) -> None:
    groove.add_ticket(9, email="a@example.com")
    groove.fail_next(1, status=429, retry_after=2)
    assert quick_client.fetch_ticket(9).number == 9
    assert quick_client.waits == [2.0]
    assert groove.requests[0].headers["Authorization"] == f"Bearer {groove.token}"
    assert "token" not in groove.requests[0].path


def test_a_long_retry_after_is_handed_to_the_worker_instead_of_blocking(
    groove: Any, quick_client: Any
) -> None:
    groove.fail_next(1, status=429, retry_after=120)
    with pytest.raises(TransientError) as caught:
        quick_client.fetch_ticket(9)
    assert caught.value.retry_after == 120 and quick_client.waits == []


def test_500s_are_retried_then_reported_as_transient(groove: Any, quick_client: Any) -> None:
    groove.add_ticket(9, email="a@example.com")
    groove.fail_next(2, status=500)
    assert quick_client.fetch_ticket(9).number == 9
    groove.fail_next(3, status=502)
    with pytest.raises(TransientError):
        quick_client.fetch_ticket(9)
    assert len(quick_client.waits) == 4


def test_a_bad_token_or_unknown_ticket_is_permanent(groove: Any) -> None:
    bad = GrooveHelpdesk("wrong", groove.url, sleep=lambda s: None)
    with pytest.raises(PermanentError, match="401"):
        bad.fetch_ticket(1)
    good = GrooveHelpdesk(groove.token, groove.url, sleep=lambda s: None)
    with pytest.raises(PermanentError, match="404"):
        good.fetch_ticket(424242)
    assert len(groove.requests) == 2  # no retries for permanent errors


def test_a_customers_tickets_are_read_across_pages(groove: Any, quick_client: Any) -> None:
    for n in range(1, 121):
        groove.add_ticket(n, email="viel@example.com" if n % 2 else "anders@example.com")
    tickets = quick_client.customer_tickets("viel@example.com")
    assert sorted(t.number for t in tickets) == list(range(1, 121, 2))
    pages = [r.query["page"][0] for r in groove.requests]
    assert pages == ["1", "2"]
    assert all(r.query["customer"] == ["viel@example.com"] for r in groove.requests)


def test_groove_timestamps_in_both_formats_are_understood() -> None:
    a = parse_time("2017-12-14 20:09:19 +0530")
    b = parse_time("2017-12-14 15:54:26 UTC")
    assert a is not None and b is not None and a.utcoffset() is not None and b.utcoffset() is not None
    assert parse_time("gestern") is None


@pytest.mark.django_db
def test_the_outbox_stand_in_records_replies_and_refuses_reads() -> None:
    from sirene.integrations.models import OutboxMessage

    outbox = OutboxHelpdesk()
    assert outbox.reply(5, "Hallo").startswith("outbox:")
    assert OutboxMessage.objects.get().recipient == "Groove #5"
    with pytest.raises(PermanentError, match="SIRENE_GROOVE_TOKEN"):
        outbox.fetch_ticket(5)


@pytest.mark.django_db
def test_sync_groove_pages_through_tickets_resumes_and_skips_old_ones(groove: Any) -> None:
    for n in range(1, 121):
        groove.add_ticket(
            n,
            email=f"k{n}@example.com",
            tags=["technik"] if n % 40 == 0 else [],
            updated_at="2026-11-20 09:00:00 UTC" if n > 100 else "2026-10-01 09:00:00 UTC",
        )
    out = StringIO()
    call_command("sync_groove", "--max-pages", "1", stdout=out)
    assert "stopped early" in out.getvalue()
    assert SyncCursor.objects.get(name="groove").next_page == 2
    call_command("sync_groove", stdout=out)
    assert "from page 2" in out.getvalue() and "complete" in out.getvalue()
    assert set(Case.objects.values_list("external_id", flat=True)) == {"40", "80", "120"}
    assert CachedTicket.objects.count() == 120
    pages = [r.query["page"][0] for r in groove.requests if r.path == "/v1/tickets"]
    assert pages == ["1", "2", "3"]

    out = StringIO()
    call_command("sync_groove", "--since", "2026-11-01", stdout=out)
    assert "20 ticket(s)" in out.getvalue()
    with pytest.raises(Exception, match="--since"):
        call_command("sync_groove", "--since", "letzte Woche")
