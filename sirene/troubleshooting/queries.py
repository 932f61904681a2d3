"""Read side: overdue rule, "my cases", open questions, and the workspace as one dict (panel and API)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce

from sirene.accounts.models import User
from sirene.accounts.permissions import Action, can
from sirene.cases import history
from sirene.cases.models import OPEN_STATUSES, Case, Status
from sirene.core import clock
from sirene.helpdesk import services as helpdesk
from sirene.knowledge import services as knowledge
from sirene.troubleshooting import questions, services
from sirene.troubleshooting.models import (
    Backup,
    Conversion,
    FollowUp,
    Reminder,
    Snapshot,
    Stage,
    StageEntry,
    StageState,
)

log = logging.getLogger(__name__)


def overdue_cutoff(now: dt.datetime | None = None) -> dt.datetime:
    hours = float(settings.CUSTOMER_REPLY_DUE_HOURS)
    return (now or clock.now()) - dt.timedelta(hours=hours)


def _annotated(qs: QuerySet[Case]) -> QuerySet[Case]:
    missed = FollowUp.objects.filter(case=OuterRef("pk"), done_at__isnull=True, due_at__lte=clock.now())
    return qs.annotate(
        last_heard=Coalesce("last_customer_contact_at", "received_at"),
        missed_follow_up=Exists(missed),
    )


# While we wait for the customer, the silence is theirs: no news from us is not overdue then (a missed
# follow-up date still is).
AWAITING_US = frozenset(OPEN_STATUSES - {Status.WAITING})


def overdue_q() -> Q:
    """Open and waiting on us, and the customer has not heard from us for longer than the configured
    time; or (any open case) a follow-up date with the customer has passed without being done."""
    return (Q(status__in=AWAITING_US) & Q(last_heard__lt=overdue_cutoff())) | (
        Q(status__in=OPEN_STATUSES) & Q(missed_follow_up=True)
    )


def _overdue_with(case: Case, follow_ups: list[FollowUp]) -> bool:
    """`is_overdue` with the case's follow-ups already loaded: the same rule as `overdue_q` (the overdue
    list), so the case page's badge and the list never disagree (a case waiting on the customer is not
    overdue for our silence)."""
    if case.status not in OPEN_STATUSES:
        return False
    last = case.last_customer_contact_at or case.received_at
    now = clock.now()
    if case.status in AWAITING_US and last < overdue_cutoff():
        return True
    return any(f.done_at is None and f.due_at <= now for f in follow_ups)


def is_overdue(case: Case) -> bool:
    if case.status not in OPEN_STATUSES:
        return False
    last = case.last_customer_contact_at or case.received_at
    if case.status in AWAITING_US and last < overdue_cutoff():
        return True
    return FollowUp.objects.filter(case=case, done_at__isnull=True, due_at__lte=clock.now()).exists()


def my_cases(user: User) -> QuerySet[Case]:
    qs = Case.objects.filter(owner=user, status__in=OPEN_STATUSES).select_related("customer", "owner")
    return _annotated(qs).order_by("last_heard", "id")


def overdue_cases(user: User) -> QuerySet[Case]:
    """Leads see every overdue case; an agent sees the overdue cases they own."""
    qs = _annotated(Case.objects.select_related("customer", "owner")).filter(overdue_q())
    if not can(user, Action.SEE_ALL_WORK):
        qs = qs.filter(owner=user)
    return qs.order_by("last_heard", "id")


def open_questions(user: User) -> QuerySet[Case]:
    """Cases that could not be solved at once. Leads see all; agents their own and the unowned ones."""
    qs = Case.objects.filter(status=Status.OPEN_QUESTION).select_related("customer", "owner")
    if not can(user, Action.SEE_ALL_WORK):
        qs = qs.filter(Q(owner=user) | Q(owner__isnull=True))
    return _annotated(qs).order_by("received_at", "id")


def holding_reply(case: Case) -> tuple[str, dt.datetime | None]:
    """The helpdesk's view of the holding reply ("sent"|"queued"|"failed"|"none"); "none" without one."""
    return helpdesk.holding_reply_status(case)


def case_row(case: Case) -> dict[str, Any]:
    now = clock.now()
    last = getattr(case, "last_heard", None) or case.last_customer_contact_at or case.received_at
    state, at = holding_reply(case)
    missed = getattr(case, "missed_follow_up", None)
    if missed is not None:
        overdue = (case.status in AWAITING_US and last < overdue_cutoff()) or bool(missed)
    else:
        overdue = is_overdue(case)
    return {
        "id": case.pk,
        "subject": case.subject,
        "status": case.status,
        "customer": str(case.customer),
        "owner": case.owner.username if case.owner else None,
        "owner_name": case.owner.display_name() if case.owner else "",
        "received_at": case.received_at.isoformat(),
        "age_hours": round((now - case.received_at).total_seconds() / 3600, 1),
        "last_customer_contact_at": last.isoformat(),
        # When we last wrote to the customer; None if we never did (the list shows "not yet").
        "last_contact": case.last_customer_contact_at.isoformat() if case.last_customer_contact_at else None,
        "overdue": overdue and case.status in OPEN_STATUSES,
        "holding_reply": state,
        "holding_reply_at": at.isoformat() if at else None,
        "url": case.get_absolute_url(),
    }


def _user_name(user: User | None) -> str:
    return user.display_name() if user is not None else ""


def _customer_context(case: Case) -> dict[str, Any]:
    """Pre-filled history and the customer's other open cases/tickets."""
    linked_found = list(services.linked_cases(case).only(*history.FIELDS))
    linked = {c.pk for c in linked_found}
    others = history.other_cases(case)
    complete = len(others) < history.OTHER_CASES_READ
    earlier = [c for c in others if c.received_at < case.received_at][:20]
    if len(earlier) < 20 and not complete:
        earlier = list(
            Case.objects.filter(customer_id=case.customer_id, received_at__lt=case.received_at)
            .exclude(pk=case.pk)
            .order_by("-received_at", "-id")[:20]
        )
    open_other = [c for c in others if c.status in OPEN_STATUSES][:50]
    if len(open_other) < 50 and not complete:
        open_other = list(
            Case.objects.filter(customer_id=case.customer_id, status__in=OPEN_STATUSES)
            .exclude(pk=case.pk)
            .order_by("-received_at", "-id")[:50]
        )

    def row(other: Case) -> dict[str, Any]:
        return {
            "id": other.pk,
            "subject": other.subject,
            "status": other.status,
            "status_label": other.get_status_display(),
            "received_at": other.received_at.isoformat(),
            "solution": other.solution,
            "linked": other.pk in linked,
            "url": other.get_absolute_url(),
        }

    linked_rows = [row(c) for c in sorted(linked_found, key=lambda c: (c.received_at, c.pk), reverse=True)]
    read = [
        {
            "article": view.article,
            "title": view.title,
            "viewed_at": view.viewed_at.isoformat(),
            "source": view.source,
        }
        for view in knowledge.articles_read_by(case.customer)
    ]
    return {
        "similar_cases": knowledge.similar_cases_for(case),
        "earlier_cases": [row(c) for c in earlier],
        "open_cases": [row(c) for c in open_other],
        "linked_cases": linked_rows,
        "helpdesk_tickets": _helpdesk_tickets(case),
        "articles_read": read,
        "suggestions": knowledge.suggestions_for(case),
    }


def _helpdesk_tickets(case: Case) -> list[dict[str, Any]]:
    try:
        return helpdesk.open_tickets_for(case.customer)
    except Exception:
        log.exception("helpdesk tickets unavailable for customer %s", case.customer_id)
        return []


def _stage_row(entry: StageEntry) -> dict[str, Any]:
    by, at = entry.by, entry.at
    return {
        "stage": entry.stage,
        "label": str(Stage(entry.stage).label),
        "state": entry.state,
        "state_label": str(StageState(entry.state).label),
        "by": by.username if by is not None else None,
        "by_name": _user_name(by),
        "at": at.isoformat() if at is not None else None,
        "notes": entry.notes,
    }


def workspace_data(case: Case, *, user: User | None = None) -> dict[str, Any]:
    # The workspace comes with its stages; a case seen for the first time gets them created.
    rows = list(StageEntry.objects.filter(workspace__case=case).select_related("workspace", "by"))
    if {e.stage for e in rows} >= set(Stage.values):
        workspace = rows[0].workspace
        entries = {e.stage: e for e in rows}
    else:
        workspace = services.workspace_for(case)
        entries = services.stage_entries(workspace)
    # Every snapshot's metadata in one read: the list, the original, the current one and the diff.
    metas = list(Snapshot.objects.filter(case=case).defer("data").select_related("taken_by"))
    original, current = services.original_and_current_of(metas)
    diff = services.snapshot_diff(case, pair=(original, current))
    backups = list(Backup.objects.filter(case=case).defer("data").select_related("created_by", "restored_by"))
    follow_ups = list(FollowUp.objects.filter(case=case).select_related("created_by", "done_by"))
    agent_name = _user_name(case.owner) or _user_name(user)

    def snap(s: Snapshot | None) -> dict[str, Any] | None:
        if s is None:
            return None
        return {
            "id": s.pk,
            "kind": s.kind,
            "kind_label": s.get_kind_display(),
            "label": s.label,
            "size_bytes": s.size_bytes,
            "checksum": s.checksum,
            "taken_at": s.taken_at.isoformat(),
            "taken_by": _user_name(s.taken_by),
        }

    return {
        "case_id": case.pk,
        "owner": case.owner.username if case.owner else None,
        "overdue": _overdue_with(case, follow_ups),
        "forwarded_to_tech_at": workspace.forwarded_to_tech_at.isoformat()
        if workspace.forwarded_to_tech_at
        else None,
        "stages": [_stage_row(entries[stage]) for stage in Stage.values],
        **_customer_context(case),
        "questions": questions.status(case, workspace.answers),
        "reply_text": questions.reply_text(case, workspace.answers, agent_name=agent_name),
        "answers": questions.known_answers(case, workspace.answers),
        "snapshots": [snap(s) for s in metas],
        "original": snap(original),
        "current": snap(current),
        "diff": diff.as_dict() if diff is not None else None,
        "backups": [
            {
                "id": b.pk,
                "kind": b.kind,
                "location": b.location,
                "checksum": b.checksum,
                "size_bytes": b.size_bytes,
                "snapshot_id": b.snapshot_id,
                "note": b.note,
                "created_at": b.created_at.isoformat(),
                "created_by": _user_name(b.created_by),
                "restored_at": b.restored_at.isoformat() if b.restored_at else None,
                "restore_note": b.restore_note,
            }
            for b in backups
        ],
        "conversions": [
            {
                "id": c.pk,
                "action": c.action,
                "result": c.result,
                "result_label": c.get_result_display(),
                "note": c.note,
                "backup_id": c.backup_id,
                "at": c.at.isoformat(),
                "by": _user_name(c.by),
            }
            for c in Conversion.objects.filter(case=case).select_related("by")
        ],
        "reproduction": {
            "reproduced": case.reproduced,
            "steps": workspace.repro_steps,
            "environment": workspace.repro_environment,
            "test_account_result": workspace.repro_test_account_result,
        },
        "documentation": {
            "title": workspace.doc_title,
            "symptoms": workspace.doc_symptoms,
            "solution_steps": workspace.doc_solution_steps,
            "text": workspace.doc_text,
            "updated_at": workspace.doc_updated_at.isoformat() if workspace.doc_updated_at else None,
            "known_problem_id": workspace.known_problem_id,
        },
        "follow_ups": [
            {
                "id": f.pk,
                "due_at": f.due_at.isoformat(),
                "note": f.note,
                "missed": f.is_missed,
                "reminded_at": f.reminded_at.isoformat() if f.reminded_at else None,
                "done_at": f.done_at.isoformat() if f.done_at else None,
                "outcome": f.outcome,
            }
            for f in follow_ups
        ],
    }


def open_reminders(user: User) -> QuerySet[Reminder]:
    return Reminder.objects.filter(user=user, dismissed_at__isnull=True).select_related("case")
