"""Erasure (issue 20): one customer spread over every table, erased by the CLI; a scan of the whole
database (SQLite iterdump / every text column on PostgreSQL) finds the address and name nowhere, the
counts stay, Slack (the real slack_sdk against the local fake) is rewritten by the worker."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import translation

from sirene.cases.models import Case, CaseEvent, Customer
from sirene.core import clock
from sirene.escalation import services as escalation
from sirene.escalation.tests.helpers import work
from sirene.helpdesk.models import CustomerReply
from sirene.incidents.models import EarlyWarning, GroupMembership, Incident
from sirene.knowledge.models import Phrasing
from sirene.privacy import tasks
from sirene.privacy.models import Erasure, SlackRewrite
from sirene.privacy.tests.helpers import EMAIL, NAME, found, full_dump, open_incident_with, report, spread
from sirene.troubleshooting.tasks import send_due_reminders
from sirene.web import metrics
from sirene.web.history import describe

pytestmark = pytest.mark.django_db


def cli(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, Any]:
    incident = Incident.objects.get()
    return {
        "customers": Customer.objects.count(),
        "cases": Case.objects.count(),
        "distinct_identities": GroupMembership.objects.values("identity").distinct().count(),
        "incident": (incident.customers_affected, incident.reports),
        "brief": (incident.brief["customers_affected"], incident.brief["reports"], len(incident.brief["examples"])),
        "cases_per_customer": sorted(Customer.objects.annotate(n=Count("cases")).values_list("n", flat=True)),
        "replies": CustomerReply.objects.count(),
        "metrics": [cell.as_dict() for cell in metrics.compute()],
    }


def test_erasure_leaves_the_address_and_name_nowhere_and_the_counts_as_they_were(
    fake_slack: Any, team: Any, start: Any, lead: Any, settings: Any
) -> None:
    settings.PUBLIC_URL = "https://sirene.example.com"
    incident = open_incident_with(EMAIL)
    report(EMAIL)  # a second report of the same customer: still one customer
    lead.slack_user_id = "U0000TARA1"
    lead.save()
    Case.objects.filter(customer__email=EMAIL).update(owner=lead)
    spread(user=lead)
    assert send_due_reminders() == 1  # the owner's follow-up DM names the customer
    assert any(EMAIL in m["text"] for m in fake_slack.messages if m["channel"] == "U0000TARA1")
    work()  # the siren post goes out through slack_sdk to the fake, naming the customer
    siren = next(m for m in fake_slack.messages if not m.get("thread_ts") and "Fälle" in m["text"])
    assert EMAIL in siren["text"]
    escalation.post_status_update(incident, f"{NAME} ({EMAIL}) hat uns Screenshots geschickt.", user=lead)
    work()
    assert any(EMAIL in m["text"] for m in fake_slack.messages if m.get("thread_ts"))
    before = counts()
    assert found(full_dump(), EMAIL, NAME), "the scan must see the customer before erasure"

    out = cli("customer", "erase", EMAIL, "--yes")
    assert "Erased" in out and "Groove" in out and EMAIL not in out

    hits = found(full_dump(), EMAIL, NAME)
    assert hits == [], "\n".join(hits)
    assert counts() == before
    customer = Customer.objects.get(external_id__startswith="gelöscht-")
    assert customer.email is None and customer.name == "" and customer.attributes.get("email_domain") == "web.de"
    assert "phone" not in customer.attributes and customer.attributes["platform"] == "ios"
    case = customer.cases.order_by("id").first()
    assert case is not None and case.subject == "[gelöscht]" and case.body == "[gelöscht]" and case.raw_payload == {}
    assert not Phrasing.objects.filter(case__customer=customer).exists()
    # the audit trail: the erasure is recorded (without the address), on each case too
    erasure = Erasure.objects.get()
    assert erasure.pseudonym == customer.external_id and erasure.counts["cases"] == 2
    erased_event = CaseEvent.objects.get(case=case, data__privacy="request")
    with translation.override("de"):
        assert describe(erased_event, case)[0].startswith("Die Daten der Kundin / des Kunden wurden gelöscht")
    assert EarlyWarning.objects.get().example == "[gelöscht]"

    # Slack: the siren post, the status update (in its thread and in the status channel) and the
    # follow-up DM that named the customer are rewritten by the worker
    assert SlackRewrite.objects.filter(done_at__isnull=True).count() == 4
    assert tasks.tick() >= 4
    assert SlackRewrite.objects.filter(done_at__isnull=True).count() == 0
    for message in fake_slack.messages:
        assert EMAIL not in message["text"] and NAME not in message["text"], message["text"]
        assert EMAIL not in json.dumps(message.get("blocks") or [], ensure_ascii=False)
    rewritten = next(m for m in fake_slack.messages if m["ts"] == siren["ts"])
    assert "bisher 6 Kund:innen (7 Meldungen)" in rewritten["text"]  # counts and links stay
    assert "Fälle in der Trackingliste" in rewritten["text"]
    assert rewritten["blocks"][0]["text"]["text"] == rewritten["text"]

    # twice: a no-op; an unknown address says so
    again = cli("customer", "erase", EMAIL, "--yes")
    assert "Already erased" in again
    assert Erasure.objects.count() == 1 and counts() == before
    assert "No customer" in cli("customer", "erase", "niemand@example.org", "--yes")


def test_an_idn_address_in_any_case_and_spelling_is_found_and_erased(start: Any) -> None:
    report("jürgen@bücher.de")
    spread("jürgen@bücher.de", "Jürgen Groß")
    doc = json.loads(cli("customer", "export", "JÜRGEN@xn--bcher-kva.de"))
    assert doc["found"] and doc["customer"]["email"] == "jürgen@bücher.de"
    assert doc["customer"]["name"] == "Jürgen Groß"
    assert doc["cases"][0]["raw_payload"]["customer"]["name"] == "Jürgen Groß"
    assert any(d["event"] == "ticket_started" for d in doc["webhook_deliveries"])
    assert doc["article_views"] and doc["snapshots"] and doc["backups"] and doc["replies"]
    assert "Groove" in doc["groove"]
    cli("customer", "erase", "Jürgen@Bücher.de", "--yes")
    hits = found(full_dump(), "jürgen@bücher.de", "Jürgen Groß")
    assert hits == [], "\n".join(hits)
    erased = json.loads(cli("customer", "export", "jürgen@bücher.de"))
    assert erased["erased"] is True and erased["customer"]["email"] is None
    assert erased["cases"][0]["body"] == "[gelöscht]"


def test_a_customer_who_comes_back_after_erasure_is_still_one_customer(start: Any) -> None:
    report(EMAIL)
    cli("customer", "erase", EMAIL, "--yes")
    clock.advance(days=3)
    report(EMAIL)  # writes again: a new row with the address
    assert Customer.objects.count() == 2
    cli("customer", "erase", EMAIL, "--yes")
    assert Customer.objects.count() == 1
    assert Customer.objects.get().cases.count() == 2
    assert GroupMembership.objects.values("identity").distinct().count() == 1


def test_without_yes_nothing_changes_and_a_bad_address_is_refused(start: Any) -> None:
    report(EMAIL)
    out = cli("customer", "erase", EMAIL)
    assert "--yes" in out and Customer.objects.filter(email=EMAIL).exists()
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="email"):
        cli("customer", "erase", "not-an-address", "--yes")
