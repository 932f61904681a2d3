"""Export (Art. 15/20) and erasure (Art. 17) of one customer, everywhere sirene keeps them.

A privacy service touches every domain, so it sits in its own layer right below the flows
(pyproject.toml, import-linter). What is stored where is listed in docs/privacy.md; this module follows
that list: the customer record, their cases (texts, raw payloads, history), replies and outreach,
the helpdesk ticket cache, webhook deliveries, the troubleshooting workspace (answers, snapshots,
backups, notes), confirmed phrasings, incident briefs and timelines, escalation attempts (the Slack
and phone texts), the outbox, and finally a sweep over every text and JSON column (`scrub.sweep`).

Erasure keeps the counts: the customer row stays, as a keyed pseudonym (`pseudonym.label`), so
distinct customers, incident sizes, brief counts and metrics are exactly what they were.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q

from sirene.accounts.models import User
from sirene.cases.models import Case, CaseEvent, Customer
from sirene.core import clock
from sirene.escalation.models import Attempt, AttemptKind, AttemptStatus, Run
from sirene.helpdesk.models import (
    CachedTicket,
    CustomerReply,
    CustomerTicketsFetch,
    Outreach,
    ReplyStatus,
)
from sirene.incidents.models import EarlyWarning, GroupMembership, Incident, IncidentEvent, ProblemGroup
from sirene.integrations.models import OutboxMessage, WebhookDelivery
from sirene.integrations.registry import chat_transport
from sirene.integrations.slack import escape
from sirene.knowledge.models import ArticleView, Phrasing
from sirene.knowledge.services import notify_changed
from sirene.privacy import pseudonym, scrub
from sirene.privacy.models import Erasure, SlackRewrite
from sirene.troubleshooting.models import Backup, DmState, Reminder, Snapshot, Workspace

ERASED = pseudonym.ERASED
GROOVE_NOTE = (
    "Groove is the system of record for the customer's conversations and was not touched: "
    "answer or erase there separately."
)
# Customer-record attributes that say nothing about who someone is, only about their setup; they are
# kept after erasure so a rebuilt brief finds the same common thread. Everything else goes.
KEPT_ATTRIBUTES = frozenset(
    {"platform", "device", "os", "browser", "app_version", "client", "club_member", "plan", "language"}
)


class UnknownCustomer(Exception):
    pass


# -- finding the customer ------------------------------------------------------------------------


def find(email: str) -> tuple[Customer | None, str]:
    """The customer with this address (any case, IDN in Unicode or punycode) or, once erased, the
    pseudonymous row; and the normalised address. ValueError for something that is no address."""
    address = pseudonym.normalise(email)
    customer = Customer.objects.filter(email__iexact=address).first()
    if customer is None:
        customer = Customer.objects.filter(external_id=pseudonym.label(address)).first()
    return customer, address


def _identity_of(customer: Customer, address: str | None) -> str:
    """What the pseudonym is computed from: the address, else the helpdesk id."""
    return address if address else f"ext:{customer.external_id}"


def is_erased(customer: Customer) -> bool:
    return customer.email is None and str(customer.external_id or "").startswith(pseudonym.PREFIX)


# -- export (Art. 15/20) -------------------------------------------------------------------------


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def export(email: str) -> dict[str, Any]:
    """Everything sirene keeps about the customer with this address, as one JSON-ready document."""
    customer, address = find(email)
    doc: dict[str, Any] = {
        "exported_at": clock.now().isoformat(),
        "query": address,
        "found": customer is not None,
        "groove": GROOVE_NOTE,
    }
    if customer is None:
        return doc
    needles = _needles(customer, address, label="")
    cases = list(Case.objects.filter(customer=customer).order_by("received_at", "id"))
    case_ids = [c.pk for c in cases]
    doc["erased"] = is_erased(customer)
    doc["customer"] = {
        "email": customer.email,
        "helpdesk_id": customer.external_id,
        "name": customer.name,
        "attributes": customer.attributes,
        "created_at": _iso(customer.created_at),
        "updated_at": _iso(customer.updated_at),
    }
    doc["cases"] = [
        {
            "id": c.pk,
            "source": c.source,
            "external_id": c.external_id,
            "received_at": _iso(c.received_at),
            "subject": c.subject,
            "body": c.body,
            "category": c.category,
            "status": c.status,
            "tags": c.tags,
            "channel": c.channel,
            "solution": c.solution,
            "reproduced_note": c.reproduced_note,
            "solved_at": _iso(c.solved_at),
            "raw_payload": c.raw_payload,
            "history": [
                {**e.as_dict(), "data": e.data}
                for e in CaseEvent.objects.filter(case=c).select_related("actor").order_by("at", "id")
            ],
        }
        for c in cases
    ]
    doc["replies"] = [
        {
            "case_id": r.case_id,
            "incident_id": r.incident_id,
            "kind": r.kind,
            "ticket": r.ticket_number,
            "status": r.status,
            "sent_at": _iso(r.sent_at),
            "body": r.body,
        }
        for r in CustomerReply.objects.filter(case_id__in=case_ids).order_by("created_at", "id")
    ]
    doc["outreach"] = [
        {"case_id": o.case_id, "incident_id": o.incident_id, "email": o.email, "decision": o.decision,
         "status": o.status, "subject": o.subject, "body": o.body}
        for o in Outreach.objects.filter(case_id__in=case_ids)
    ]
    doc["article_views"] = [
        {"article": v.article, "title": v.title, "viewed_at": _iso(v.viewed_at), "source": v.source}
        for v in ArticleView.objects.filter(customer=customer)
    ]
    workspaces = {w.case_id: w for w in Workspace.objects.filter(case_id__in=case_ids)}
    doc["workspaces"] = [
        {
            "case_id": w.case_id,
            "answers": w.answers,
            "reproduction": {"steps": w.repro_steps, "environment": w.repro_environment,
                             "test_account_result": w.repro_test_account_result},
            "documentation": {"title": w.doc_title, "symptoms": w.doc_symptoms,
                              "solution_steps": w.doc_solution_steps, "text": w.doc_text},
            "stages": [{"stage": s.stage, "state": s.state, "notes": s.notes} for s in w.stages.all()],
        }
        for w in workspaces.values()
    ]
    doc["snapshots"] = [
        {"case_id": s.case_id, "kind": s.kind, "label": s.label, "taken_at": _iso(s.taken_at),
         "size_bytes": s.size_bytes, "checksum": s.checksum}
        for s in Snapshot.objects.filter(case_id__in=case_ids)
    ]
    doc["backups"] = [
        {"case_id": b.case_id, "kind": b.kind, "location": b.location, "created_at": _iso(b.created_at),
         "size_bytes": b.size_bytes, "checksum": b.checksum, "note": b.note}
        for b in Backup.objects.filter(case_id__in=case_ids)
    ]
    doc["incidents"] = [
        {"id": i.pk, "title": i.title}
        for i in Incident.objects.filter(cases__in=case_ids).distinct().order_by("pk")
    ]
    doc["helpdesk_tickets_cached"] = [
        {"ticket": t.number, "title": t.title, "state": t.state, "summary": t.summary}
        for t in CachedTicket.objects.filter(customer_email__iexact=address)
    ]
    doc["webhook_deliveries"] = [
        {"source": d.source, "event": d.event, "received_at": _iso(d.received_at), "body": d.body}
        for d in _matching(WebhookDelivery.objects.all(), ["body"], needles)
    ]
    doc["outbox_messages"] = [
        {"channel": m.channel, "kind": m.kind, "recipient": m.recipient, "subject": m.subject,
         "body": m.body, "created_at": _iso(m.created_at)}
        for m in _matching(OutboxMessage.objects.all(), ["recipient", "body", "subject"], needles)
    ]
    doc["slack_and_phone_messages"] = [
        {"kind": a.kind, "target": a.target, "status": a.status, "sent_at": _iso(a.sent_at), "text": a.text}
        for a in _matching(Attempt.objects.all(), ["text"], needles)
    ]
    doc["incident_timeline_entries"] = [
        {"incident_id": e.incident_id, "at": _iso(e.at), "kind": e.kind, "message": _described(e), "data": e.data}
        for e in IncidentEvent.objects.filter(
            Q(data__case_id__in=case_ids) | Q(pk__in=[x.pk for x in _matching(
                IncidentEvent.objects.all(), ["message"], needles)])
        ).order_by("at", "id")
    ]
    doc["erasures"] = [
        {"at": _iso(e.at), "kind": e.kind, "counts": e.counts}
        for e in Erasure.objects.filter(pseudonym=customer.external_id or "")
    ]
    return doc


def _needles(customer: Customer, address: str, *, label: str) -> scrub.Needles:
    """The address in every stored spelling → `label`; the full name (two words or more: a single first
    name would also hit colleagues and other customers) → "[gelöscht]"."""
    words = customer.name.split()
    full = len(words) >= 2
    return scrub.Needles(
        tuple(pseudonym.address_forms(address)),
        label=label,
        name=pseudonym.name_pattern(customer.name) if full else None,
        name_text=" ".join(words) if full else "",
    )


def _matching(qs: Any, fields: list[str], needles: scrub.Needles) -> list[Any]:
    q = Q()
    for f in fields:
        for form in needles.addresses:
            q |= Q(**{f"{f}__icontains": form})
        if needles.name_text:
            q |= Q(**{f"{f}__icontains": needles.name_text})
    return [obj for obj in qs.filter(q) if any(needles.found_in(getattr(obj, f)) for f in fields)]


# -- erasure (Art. 17) ---------------------------------------------------------------------------


def _described(event: IncidentEvent) -> str:
    """The entry as the timeline shows it (events are stored as data; the sentence is made here)."""
    from sirene.incidents import timeline

    sentence, detail = timeline.describe(event)
    return f"{sentence}: {detail}" if detail else sentence


@dataclass
class ErasureResult:
    status: str  # "erased" | "already_erased" | "unknown"
    pseudonym: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    slack_updates: int = 0
    erasure_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "pseudonym": self.pseudonym,
            "counts": self.counts,
            "slack_updates": self.slack_updates,
            "groove": GROOVE_NOTE,
        }


def erase(email: str, *, by: User | None = None, actor_label: str = "") -> ErasureResult:
    """Erase the customer with this address (ValueError: not an address). Idempotent."""
    customer, address = find(email)
    if customer is None:
        return ErasureResult("unknown")
    return erase_customer(customer, address, by=by, actor_label=actor_label)


def erase_customer(
    customer: Customer,
    address: str | None,
    *,
    by: User | None = None,
    actor_label: str = "",
    kind: str = Erasure.Kind.REQUEST,
    slack: bool = True,
) -> ErasureResult:
    """Pseudonymise one customer everywhere (one transaction). `address` None: a customer known only by
    their helpdesk id (retention)."""
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        if is_erased(customer):
            return ErasureResult("already_erased", pseudonym=str(customer.external_id))
        address = address or customer.email
        target = pseudonym.label(_identity_of(customer, address))
        needles = _needles(customer, address or "", label=target)
        erasure = Erasure.objects.create(by=by, actor_label=actor_label[:100], pseudonym=target, kind=kind)
        counts, rewrites = _erase_customer(customer, address, target, needles, erasure, slack=slack)
        counts.update({f"swept:{k}": v for k, v in scrub.sweep(needles).items()})
        Erasure.objects.filter(pk=erasure.pk).update(counts=counts, slack_updates=rewrites)
    return ErasureResult(
        "erased", pseudonym=target, counts=counts, slack_updates=rewrites, erasure_id=erasure.pk
    )


def _erase_customer(
    customer: Customer,
    address: str | None,
    target: str,
    needles: scrub.Needles,
    erasure: Erasure,
    *,
    slack: bool = True,
) -> tuple[dict[str, int], int]:
    """The targeted steps (inside the caller's transaction); returns counts per kind and Slack rewrites."""
    now = clock.now()
    counts: dict[str, int] = {}
    case_ids = list(Case.objects.filter(customer=customer).values_list("pk", flat=True))
    old_identity = customer.identity
    new_identity = f"ext:{target}"

    # Slack messages that named the customer: found before their stored texts are cleaned.
    rewrites = _queue_slack_rewrites(case_ids, needles, erasure) if slack else 0

    # The same person erased before (and back since): one pseudonymous row, so they count once.
    existing = Customer.objects.filter(external_id=target).exclude(pk=customer.pk).first()
    if existing is not None:
        Case.objects.filter(customer=customer).update(customer=existing)
        for view in ArticleView.objects.filter(customer=customer):
            if ArticleView.objects.filter(customer=existing, article=view.article, viewed_at=view.viewed_at).exists():
                view.delete()  # the same view, recorded before the first erasure
            else:
                ArticleView.objects.filter(pk=view.pk).update(customer=existing)
        customer.delete()
        customer = existing
    else:
        domain = (address or "").rpartition("@")[2]
        kept = {k: v for k, v in (customer.attributes or {}).items() if k in KEPT_ATTRIBUTES}
        if domain:
            kept["email_domain"] = domain
        customer.email = None
        customer.name = ""
        customer.external_id = target
        customer.attributes = kept
        customer.updated_at = now
        customer.save()
    counts["customers"] = 1

    counts["cases"] = erase_case_texts(case_ids, needles)
    counts["group_memberships"] = GroupMembership.objects.filter(case_id__in=case_ids).update(
        identity=new_identity
    )
    # Timelines and briefs speak of the customer by identity, address and example subjects.
    identity_needles = scrub.Needles((old_identity.lower(),), label=new_identity, name=None)
    for event in IncidentEvent.objects.filter(Q(data__case_id__in=case_ids) | Q(data__customer=old_identity)):
        IncidentEvent.objects.filter(pk=event.pk).update(data=identity_needles.deep(event.data))
    incidents = list(Incident.objects.filter(cases__in=case_ids).distinct())
    for incident in incidents:
        incident.brief = _clean_brief(incident.brief or {}, set(case_ids), customer, needles)
        Incident.objects.filter(pk=incident.pk).update(brief=incident.brief)
    counts["incidents"] = len(incidents)
    warnings = EarlyWarning.objects.filter(cases__in=case_ids).values("pk")
    counts["early_warnings"] = EarlyWarning.objects.filter(pk__in=warnings).update(example=ERASED)
    counts["problem_group_titles"] = _clean_group_titles(case_ids)

    counts["cached_tickets"] = CachedTicket.objects.filter(customer_email__iexact=address or "-").delete()[0]
    CustomerTicketsFetch.objects.filter(customer_email__iexact=address or "-").delete()
    counts["webhook_deliveries"] = _clean_deliveries(needles) if address else 0
    CaseEvent.objects.bulk_create(
        CaseEvent(case_id=pk, at=now, actor_label="privacy", kind=CaseEvent.Kind.SYSTEM,
                  message="customer data erased", data={"privacy": erasure.kind, "erasure": erasure.pk})
        for pk in case_ids
    )
    return counts, rewrites


def erase_case_texts(case_ids: list[int], needles: scrub.Needles | None = None) -> int:
    """What the customer wrote, on these cases and everything hanging off them, becomes "[gelöscht]";
    the rows, their dates, states and counts stay (shared by erasure and retention)."""
    if not case_ids:
        return 0
    n = 0
    for case in Case.objects.filter(pk__in=case_ids):
        case.subject = ERASED
        case.body = ERASED
        case.raw_payload = {}
        case.clean_text = ""
        if needles is not None:
            case.external_id = needles.text(case.external_id)[:200]
        case.save(update_fields=["subject", "body", "raw_payload", "clean_text", "external_id"])
        n += 1
    # The customer's own words in the history: their replies, and old/new values of the text fields.
    for event in CaseEvent.objects.filter(
        case_id__in=case_ids, kind=CaseEvent.Kind.MESSAGE, actor_label="groove"
    ).exclude(message__endswith=ERASED):
        head, sep, _ = event.message.partition(":\n")
        CaseEvent.objects.filter(pk=event.pk).update(message=f"{head}:\n{ERASED}" if sep else ERASED)
    CaseEvent.objects.filter(case_id__in=case_ids, field__in=["subject", "body"]).update(
        old_value=ERASED, new_value=ERASED
    )
    for event in CaseEvent.objects.filter(case_id__in=case_ids).exclude(data={}):
        data = {k: v for k, v in event.data.items() if k not in ("payload", "raw", "body", "subject", "text")}
        if data != event.data:
            CaseEvent.objects.filter(pk=event.pk).update(data=data)
    # Replies: sent ones keep their row (the metrics count them), their text goes; unsent ones are not
    # sent any more (the text would be "[gelöscht]").
    CustomerReply.objects.filter(case_id__in=case_ids).update(body=ERASED)
    CustomerReply.objects.filter(
        case_id__in=case_ids, status__in=[ReplyStatus.QUEUED, ReplyStatus.SENDING, ReplyStatus.UNKNOWN]
    ).update(status=ReplyStatus.FAILED, next_attempt_at=None, last_error="customer data erased", claimed_until=None)
    Outreach.objects.filter(case_id__in=case_ids).update(body=ERASED, subject=ERASED)
    Outreach.objects.filter(case_id__in=case_ids, status=ReplyStatus.QUEUED).update(
        status=ReplyStatus.FAILED, last_error="customer data erased"
    )
    Workspace.objects.filter(case_id__in=case_ids).update(answers={})
    Snapshot.objects.filter(case_id__in=case_ids).update(data={}, label=ERASED)
    Backup.objects.filter(case_id__in=case_ids).update(data=None)
    confirmed = Phrasing.objects.filter(case_id__in=case_ids, source=Phrasing.Source.CONFIRMED)
    if confirmed.delete()[0]:
        notify_changed()
    return n


def _clean_brief(brief: dict[str, Any], case_ids: set[int], customer: Customer, needles: scrub.Needles) -> dict[str, Any]:
    brief = dict(brief)
    examples = []
    for ex in brief.get("examples") or []:
        if isinstance(ex, dict) and ex.get("case_id") in case_ids:
            ex = {**ex, "customer": str(customer), "email": None, "subject": ERASED}
        examples.append(ex)
    if "examples" in brief:
        brief["examples"] = examples
    what = dict(brief.get("what") or {})
    rep = what.get("representative") or []
    erased_texts = {r.get("text") for r in rep if isinstance(r, dict) and r.get("case_id") in case_ids}
    if rep:
        what["representative"] = [
            {**r, "text": ERASED} if isinstance(r, dict) and r.get("case_id") in case_ids else r for r in rep
        ]
    if what.get("summary") in erased_texts:
        what["summary"] = ERASED
    if what:
        brief["what"] = what
    cleaned: dict[str, Any] = needles.deep(brief)
    return cleaned


def _clean_group_titles(case_ids: list[int]) -> int:
    """A problem group is titled by its first report's subject: the customer's words."""
    n = 0
    for group in ProblemGroup.objects.filter(memberships__case_id__in=case_ids).distinct():
        first = group.memberships.order_by("received_at", "id").values_list("case_id", flat=True).first()
        if first in case_ids:
            n += ProblemGroup.objects.filter(pk=group.pk).update(title=ERASED)
    return n


def _clean_deliveries(needles: scrub.Needles) -> int:
    """Raw webhook bodies that carry the address: the body goes, the row (its dedupe key) stays."""
    found = _matching(WebhookDelivery.objects.all(), ["body"], needles)
    return WebhookDelivery.objects.filter(pk__in=[d.pk for d in found]).update(body="", headers={})


def _queue_slack_rewrites(case_ids: list[int], needles: scrub.Needles, erasure: Erasure) -> int:
    """A rewrite for every message sirene posted to Slack (not the outbox) that names the customer:
    the siren posts of their incidents (re-rendered at send time) and any other message by its text."""
    now = clock.now()
    rows: dict[tuple[str, str], SlackRewrite] = {}
    runs = Run.objects.filter(incident__cases__in=case_ids).exclude(slack_ts="").distinct()
    for run in runs:
        if run.attempts.filter(kind=AttemptKind.SLACK_POST, provider="slack").exists():
            rows[(run.slack_channel, run.slack_ts)] = SlackRewrite(
                erasure=erasure, channel=run.slack_channel, ts=run.slack_ts, run=run, due_at=now
            )
    sent = Attempt.objects.filter(provider="slack", status=AttemptStatus.SENT).exclude(provider_id="")
    for attempt in _matching(sent.select_related("run"), ["text"], needles):
        if attempt.kind in (AttemptKind.SLACK_POST, AttemptKind.SLACK_UPDATE):
            continue  # the siren post: rewritten from the incident above
        channel = attempt.run.slack_channel if attempt.kind == AttemptKind.THREAD_REPLY else attempt.target
        if channel and (channel, attempt.provider_id) not in rows:
            rows[(channel, attempt.provider_id)] = SlackRewrite(
                erasure=erasure, channel=channel, ts=attempt.provider_id, text=needles.text(attempt.text), due_at=now
            )
    # Follow-up reminders went to the case owner as a DM naming the customer.
    if chat_transport().name == "slack":
        for reminder in Reminder.objects.filter(case_id__in=case_ids, dm_state=DmState.SENT).exclude(dm_ts=""):
            if (reminder.dm_channel, reminder.dm_ts) not in rows:
                rows[(reminder.dm_channel, reminder.dm_ts)] = SlackRewrite(
                    erasure=erasure, channel=reminder.dm_channel, ts=reminder.dm_ts,
                    text=escape(needles.text(reminder.text)), due_at=now,
                )
    SlackRewrite.objects.bulk_create(rows.values())
    return len(rows)
