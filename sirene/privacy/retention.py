"""Retention: what a solved case's customer wrote is kept SIRENE_RETENTION_DAYS (default 365) after the
case was solved, then pseudonymised the same way as an erasure on request.

Why 365 days by default: a tech problem comes back (the same customer, the same app version, the next
season's sale); a year of solved cases lets the team read the earlier report and its fix, and lets
the knowledge base and "similar past cases" learn, while the yearly comparison ("as many 502s as last
November?") works on counts, which survive. Longer needs a reason a data-protection officer accepts.

What a pass does: the texts, raw payloads, replies, workspace answers, snapshots and backups of solved
cases older than the cut-off become "[gelöscht]" / empty; customers whose every case is past it become
their keyed pseudonym (counts unchanged); raw webhook bodies and outbox texts older than the cut-off
are emptied. Cases linked to an incident that is not resolved yet are kept until it is.
Slack is not rewritten by retention (a year-old post is Slack's to expire: set the channel's own
retention); an erasure on request rewrites it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Min, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from sirene.cases.models import Case, Customer, Status
from sirene.core import clock
from sirene.helpdesk.models import CustomerReply
from sirene.incidents.models import Incident, IncidentStatus
from sirene.integrations.models import OutboxMessage, WebhookDelivery
from sirene.privacy import pseudonym, services
from sirene.privacy.models import Erasure
from sirene.troubleshooting.models import Backup, Snapshot, Workspace

ERASED = pseudonym.ERASED
# Customers pseudonymised per pass (each one sweeps every text column once); the rest follow in the
# next pass, which the schedule brings forward while work is left.
CUSTOMERS_PER_PASS = 200
CASES_PER_BATCH = 500
KIND_LABELS = {
    "cases": _("Case texts"),
    "raw_payloads": _("Raw payloads"),
    "replies": _("Replies to customers"),
    "workspace_answers": _("Workspace answers"),
    "snapshots": _("Snapshots"),
    "backups": _("Backups"),
    "customers": _("Customers (pseudonymised)"),
    "webhook_deliveries": _("Webhook deliveries"),
    "outbox_messages": _("Outbox messages"),
}


def days() -> int:
    return int(getattr(settings, "RETENTION_DAYS", 365))


def cutoff(now: dt.datetime | None = None) -> dt.datetime:
    return (now or clock.now()) - dt.timedelta(days=days())


def expired_cases(now: dt.datetime | None = None) -> QuerySet[Case]:
    """Solved before the cut-off, not in a live incident, and not cleaned yet."""
    live = Incident.objects.filter(cases=OuterRef("pk")).exclude(status=IncidentStatus.RESOLVED)
    return (
        Case.objects.filter(status=Status.SOLVED)
        .filter(Q(solved_at__lt=cutoff(now)) | Q(solved_at__isnull=True, updated_at__lt=cutoff(now)))
        .exclude(Exists(live))
    )


def _not_cleaned(qs: QuerySet[Case]) -> QuerySet[Case]:
    return qs.exclude(subject=ERASED, body=ERASED, raw_payload={})


def expired_customers(now: dt.datetime | None = None) -> QuerySet[Customer]:
    """Customers not pseudonymised yet whose every case is past the cut-off."""
    keep = Case.objects.filter(customer=OuterRef("pk")).exclude(pk__in=expired_cases(now).values("pk"))
    return (
        Customer.objects.filter(Exists(Case.objects.filter(customer=OuterRef("pk"))))
        .exclude(Exists(keep))
        .exclude(email__isnull=True, external_id__startswith=pseudonym.PREFIX)
    )


@dataclass
class Report:
    """Per kind: how many rows a pass changes (or would) and the oldest date among them."""

    cutoff: dt.datetime
    days: int
    counts: dict[str, int] = field(default_factory=dict)
    oldest: dict[str, str | None] = field(default_factory=dict)

    def add(self, kind: str, qs: QuerySet[Any], date_field: str) -> None:
        agg = qs.aggregate(oldest=Min(date_field))
        self.counts[kind] = qs.count()
        self.oldest[kind] = agg["oldest"].isoformat() if agg["oldest"] else None

    @property
    def rows(self) -> list[tuple[str, int, str]]:
        """(label in the viewer's language, count, oldest date or "–") for the settings page."""
        return [
            (str(KIND_LABELS.get(k, k)), n, (self.oldest.get(k) or "–")[:10]) for k, n in self.counts.items()
        ]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        return {"cutoff": self.cutoff.isoformat(), "days": self.days, "counts": self.counts, "oldest": self.oldest}


def plan(now: dt.datetime | None = None) -> Report:
    """What the next pass would change (the dry run; nothing is written)."""
    now = now or clock.now()
    cases = _not_cleaned(expired_cases(now))
    all_expired = expired_cases(now).values("pk")
    report = Report(cutoff=cutoff(now), days=days())
    report.add("cases", cases, "received_at")
    report.add("raw_payloads", cases.exclude(raw_payload={}), "received_at")
    report.add("replies", CustomerReply.objects.filter(case__in=all_expired).exclude(body=ERASED), "created_at")
    report.add("workspace_answers", Workspace.objects.filter(case__in=all_expired).exclude(answers={}), "created_at")
    report.add("snapshots", Snapshot.objects.filter(case__in=all_expired).exclude(data={}), "taken_at")
    report.add("backups", Backup.objects.filter(case__in=all_expired, data__isnull=False), "created_at")
    report.add("customers", expired_customers(now), "created_at")
    report.add("webhook_deliveries", _deliveries(now), "received_at")
    report.add("outbox_messages", _outbox(now), "created_at")
    return report


def _deliveries(now: dt.datetime) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(received_at__lt=cutoff(now), processed_at__isnull=False).exclude(body="")


def _outbox(now: dt.datetime) -> QuerySet[OutboxMessage]:
    return OutboxMessage.objects.filter(created_at__lt=cutoff(now)).exclude(body=ERASED)


def run(now: dt.datetime | None = None) -> Report:
    """One pass (the worker's daily step, or `sirene retention`). Returns what it changed."""
    now = now or clock.now()
    report = plan(now)
    ids = list(_not_cleaned(expired_cases(now)).values_list("pk", flat=True))
    # Replies, answers, snapshots and backups hang off cases whose own texts may already be clean.
    here = OuterRef("pk")
    ids += list(
        expired_cases(now)
        .filter(
            Exists(CustomerReply.objects.filter(case=here).exclude(body=ERASED))
            | Exists(Snapshot.objects.filter(case=here).exclude(data={}))
            | Exists(Backup.objects.filter(case=here, data__isnull=False))
            | Exists(Workspace.objects.filter(case=here).exclude(answers={}))
        )
        .values_list("pk", flat=True)
    )
    ids = sorted(set(ids))
    for start in range(0, len(ids), CASES_PER_BATCH):
        with transaction.atomic():
            services.erase_case_texts(ids[start : start + CASES_PER_BATCH])
    customers = list(expired_customers(now)[:CUSTOMERS_PER_PASS])
    for customer in customers:
        services.erase_customer(
            customer, customer.email, actor_label="retention", kind=Erasure.Kind.RETENTION, slack=False
        )
    with transaction.atomic():
        _deliveries(now).update(body="", headers={})
        _outbox(now).update(body=ERASED, subject="", payload={})
        OutboxMessage.objects.filter(created_at__lt=cutoff(now), channel=OutboxMessage.Channel.EMAIL).update(
            recipient=""
        )
        if report.total:
            Erasure.objects.create(
                kind=Erasure.Kind.RETENTION, actor_label="retention", at=now, counts=report.counts
            )
    return report
