"""A new report: store it (cases), then analyse it — clean + embed its text, match it against known
problems (knowledge), put it into a problem group and check the rule (incidents), and start the
escalation run when that opened an incident (escalation).

`report_case` is what every entry point calls (API, web form, CSV import, Groove inbound, demo,
bench). Storing is its own transaction; a failure in the analysis never loses the case: it stays
with `analysed_at` unset and the worker's `analyse_pending` retries it with backoff (cases.analysis). The analysis itself is one
transaction (the case row lock, the knowledge match, the group row lock, the incident and its run).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from django.db import DatabaseError, transaction

from sirene.accounts.models import User
from sirene.cases import analysis, importer
from sirene.cases import services as cases
from sirene.cases.embedding import embed, encoder_name, recent_boilerplate
from sirene.cases.models import Case
from sirene.core import clock, jobs
from sirene.escalation import services as escalation
from sirene.flows import cases as case_flows
from sirene.flows import detection
from sirene.incidents import services as incidents
from sirene.incidents.models import Incident
from sirene.knowledge import services as knowledge

log = logging.getLogger(__name__)


def report_case(
    data: cases.IntakeData, *, actor: User | None = None, actor_label: str = "api"
) -> cases.IntakeResult:
    """Store one report (idempotent on source + external id, see `cases.services.intake`) and
    analyse it when it is new."""
    result = cases.intake(data, actor=actor, actor_label=actor_label)
    if result.created and result.case is not None:
        try:
            analyse(result.case)
        except DatabaseError:
            # Stored is stored: the sender gets its 201, and the worker's `analyse_pending` finds the
            # unanalysed case when the database answers again (never "500 but stored").
            log.exception("case %s stored, its analysis could not be recorded; the worker retries", result.case.pk)
    return result


def analyse(case: Case, *, job: tuple[int, str] | None = None) -> bool:
    """Returns True when the case was analysed (now or before). `job` is the worker's (job id, owner)."""
    if case.analysed_at is not None:
        if job is not None:
            analysis.succeeded(case)
        return True
    try:
        with transaction.atomic():
            # The customer and any group membership come along (grouping reads them); only the
            # case row is locked.
            locked = (
                Case.objects.select_for_update(of=("self",))
                .select_related("customer", "problem_membership__group")
                .get(pk=case.pk)
            )
            if locked.analysed_at is not None:
                return True
            cleaned, vector = embed(locked.subject, locked.body, common=recent_boilerplate(locked))
            locked.clean_text = cleaned
            locked.embedding = vector.tobytes()
            locked.encoder = encoder_name()
            # One write for the whole analysis: it is one transaction, so the case is marked analysed
            # exactly when everything below commits (the stamp is taken when the analysis starts).
            locked.analysed_at = clock.now()
            locked.save(update_fields=["clean_text", "embedding", "encoder", "analysed_at"])
            matched = knowledge.match(locked)
            group_and_escalate(locked, known_problem=matched.confident_key)
    except Exception as exc:
        log.exception("analysis of case %s failed; the worker will retry with backoff", case.pk)
        analysis.failed(case, exc, job_id=job[0] if job else None, owner=job[1] if job else None)
        return False
    if job is not None:
        analysis.succeeded(case)
    case.refresh_from_db()  # the caller's object shows what the analysis stored
    return True


def group_and_escalate(case: Case, *, known_problem: str = "") -> incidents.Evaluation:
    """An embedded case joins its problem group; when that opens an incident, its escalation run
    starts in the same transaction (the group row is still locked). Also the detection bench's step."""
    # Inside `analyse` no savepoint of its own: a failure rolls the whole analysis back.
    with transaction.atomic(savepoint=False):
        evaluation = detection.assign_and_evaluate(case, known_problem=known_problem)
        if evaluation.opened and evaluation.incident is not None:
            _title_from_known_problem(evaluation.incident)
            escalation.start_run(evaluation.incident)
    return evaluation


def _title_from_known_problem(incident: Incident) -> None:
    """An incident of a known problem is called by the team's own title for it (knowledge)."""
    key = incident.group.known_problem_key if incident.group_id and incident.group else ""
    if not key:
        return
    from sirene.knowledge.models import KnownProblem

    known = KnownProblem.objects.filter(key=key).values_list("title", flat=True).first()
    if known:
        incidents.retitle(incident, known_problem_title=known)


def analyse_pending(limit: int = 50) -> int:
    """Worker step: analyse cases that arrived but were not analysed (a crash, a failing encoder), each
    through its core.jobs row (cases.analysis): bounded retries with backoff, then a dead state on the
    case page."""
    analysis.queue_unanalysed(limit)
    owner = jobs.worker_id()
    done = 0
    for job_id, case_id in analysis.claim(owner, limit=min(limit, 20)):
        case = Case.objects.filter(pk=case_id).first()
        if case is not None and analyse(case, job=(job_id, owner)):
            done += 1
    return done


def import_csv(
    path: Path, *, actor: User | None = None, progress: Callable[[int], None] | None = None
) -> importer.ImportReport:
    """The spreadsheet import: every row is reported (and analysed) like any other case, and a row's
    status change queues the customer's holding reply like the web's."""
    return importer.import_csv(
        path,
        report_case=report_case,
        change_status=case_flows.change_status,
        actor=actor,
        progress=progress,
    )
