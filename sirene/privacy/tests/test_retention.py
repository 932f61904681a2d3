"""Retention: a dry run that changes nothing, a pass that pseudonymises what is older than the policy,
the daily schedule in the worker's background lane, the card under Einstellungen."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.management import call_command

from sirene.cases.models import Case, Customer, Status
from sirene.core import clock
from sirene.helpdesk.models import CustomerReply, ReplyKind
from sirene.privacy import retention, tasks
from sirene.privacy.models import RetentionSchedule
from sirene.privacy.tests.helpers import found, full_dump, report
from sirene.troubleshooting.models import Snapshot

pytestmark = pytest.mark.django_db


def solve(case: Case, at: dt.datetime) -> None:
    Case.objects.filter(pk=case.pk).update(status=Status.SOLVED, solved_at=at, updated_at=at)


@pytest.fixture
def old_and_new(start: Any) -> dict[str, Case]:
    now = clock.now()
    old = report("alt@example.de", at=now - dt.timedelta(days=400))
    solve(old, now - dt.timedelta(days=390))
    CustomerReply.objects.create(kind=ReplyKind.HOLDING, case=old, ticket_number=1, body="Hallo Frau Alt", status="sent")
    Snapshot.objects.create(case=old, kind="original", data={"owner": "Alt"}, size_bytes=1, checksum="x")
    # a customer with an old solved case and a recent open one keeps the address; the old text goes
    mixed_old = report("beide@example.de", at=now - dt.timedelta(days=500))
    solve(mixed_old, now - dt.timedelta(days=499))
    mixed_new = report("beide@example.de", at=now - dt.timedelta(days=2))
    recent = report("neu@example.de", at=now - dt.timedelta(days=10))
    solve(recent, now - dt.timedelta(days=5))
    return {"old": old, "mixed_old": mixed_old, "mixed_new": mixed_new, "recent": recent}


def snapshot_of_db() -> list[Any]:
    return [
        sorted(Case.objects.values_list("pk", "subject", "body")),
        sorted(Customer.objects.values_list("pk", "email", "external_id")),
        sorted(CustomerReply.objects.values_list("pk", "body")),
        sorted((s.pk, s.data) for s in Snapshot.objects.all()),
    ]


def test_the_dry_run_prints_counts_per_kind_and_the_oldest_date_and_changes_nothing(old_and_new: Any) -> None:
    before = snapshot_of_db()
    out = io.StringIO()
    call_command("retention", "--dry-run", stdout=out)
    text = out.getvalue()
    assert "365 days" in text and "Dry run" in text
    lines = {line.split()[0]: line.split() for line in text.splitlines()[2:]}
    assert lines["cases"][1] == "2"  # the two solved more than a year ago
    assert lines["cases"][2] == (clock.now() - dt.timedelta(days=500)).date().isoformat()
    assert lines["replies"][1] == "1" and lines["snapshots"][1] == "1"
    assert lines["customers"][1] == "1"  # only alt@: beide@ has a recent case
    assert snapshot_of_db() == before


def test_a_pass_pseudonymises_what_is_older_and_keeps_the_rest(old_and_new: dict[str, Case], settings: Any) -> None:
    call_command("retention", stdout=io.StringIO())
    old = Case.objects.get(pk=old_and_new["old"].pk)
    assert (old.subject, old.body, old.raw_payload) == ("[gelöscht]", "[gelöscht]", {})
    assert old.customer.email is None and str(old.customer.external_id).startswith("gelöscht-")
    assert CustomerReply.objects.get().body == "[gelöscht]" and Snapshot.objects.get().data == {}
    mixed_old = Case.objects.get(pk=old_and_new["mixed_old"].pk)
    assert mixed_old.body == "[gelöscht]" and mixed_old.customer.email == "beide@example.de"
    assert Case.objects.get(pk=old_and_new["mixed_new"].pk).body.startswith("Hallo")
    assert Case.objects.get(pk=old_and_new["recent"].pk).body.startswith("Hallo")
    assert found(full_dump(), "alt@example.de", "Frau Alt") == []
    assert retention.plan().total == 0  # the next pass has nothing left to do
    # a shorter policy reaches the recent solved case too
    settings.RETENTION_DAYS = 3
    out = io.StringIO()
    call_command("retention", "--dry-run", stdout=out)
    assert "3 days" in out.getvalue()
    call_command("retention", stdout=io.StringIO())
    assert Case.objects.get(pk=old_and_new["recent"].pk).body == "[gelöscht]"
    assert Case.objects.get(pk=old_and_new["mixed_new"].pk).body.startswith("Hallo")  # still open


def test_the_worker_runs_it_daily_at_night(old_and_new: Any) -> None:
    assert tasks.tick() == 0  # not due yet: scheduled for 03:00 local time
    row = RetentionSchedule.objects.get()
    assert row.due_at is not None and row.due_at > clock.now()
    clock.set_now(row.due_at + dt.timedelta(seconds=1))
    assert tasks.tick() == 1
    row.refresh_from_db()
    assert row.last_counts["counts"]["cases"] == 2 and row.due_at > clock.now() + dt.timedelta(hours=23)
    assert Case.objects.get(pk=old_and_new["old"].pk).body == "[gelöscht]"
    assert tasks.tick() == 0


def test_leads_see_the_policy_and_the_next_runs_counts_under_einstellungen(
    client: Any, lead: Any, old_and_new: Any
) -> None:
    client.force_login(lead)
    page = client.get("/settings/").content.decode()
    assert "Datenschutz: Aufbewahrung" in page and "365 Tage" in page
    assert "Falltexte" in page and "Nächster Lauf" in page
