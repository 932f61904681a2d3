"""The retry bookkeeping of case analysis (embed, match known problems, group): a core.jobs queue.

A case whose analysis fails stays stored (`analysed_at` empty) and gets an AnalysisJob row: retried with
bounded exponential backoff and jitter, dead after the last try and shown on the case page with a retry
button. The case history gets ONE event per kind of failure (not one per try) and one when it gives up.
The analysis itself lives with the intake flow; this module only knows cases.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction

from sirene.accounts.models import User
from sirene.cases.models import AnalysisJob, Case, CaseEvent
from sirene.core import clock, jobs

log = logging.getLogger(__name__)

# 30 s, 1, 2, 4, 8 min (± 20 %): an encoder that restarts is caught within minutes; a case that cannot be
# analysed at all gives up after six tries (about a quarter of an hour) and waits for a person.
ANALYSIS: jobs.Queue[AnalysisJob] = jobs.Queue(
    "case_analysis",
    AnalysisJob,
    lane="background",
    backoff=jobs.Backoff(base=30.0, cap=3600.0, max_tries=6, jitter=0.2),
    lease_seconds=300.0,  # embedding a long text on a loaded machine may take a while
)


def queue_unanalysed(limit: int = 50) -> int:
    """Give every unanalysed case without one a queue row (due now); returns how many were added.

    Cases stored without analysis (Groove inbound, a crash) are picked up at once; one whose intake
    request is still analysing it waits on the case row lock and then finds it analysed."""
    ids = list(
        Case.objects.filter(analysed_at__isnull=True, analysis_job__isnull=True)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    if ids:
        AnalysisJob.objects.bulk_create(
            [AnalysisJob(case_id=pk, due_at=clock.now()) for pk in ids], ignore_conflicts=True
        )
    return len(ids)


def claim(owner: str, limit: int = 20) -> list[tuple[int, int]]:
    """Lease due analysis jobs: [(job id, case id)], oldest due first."""
    ids = ANALYSIS.claim(owner, limit=limit)
    cases = dict(AnalysisJob.objects.filter(pk__in=ids).values_list("pk", "case_id"))
    return [(pk, cases[pk]) for pk in ids if pk in cases]


def succeeded(case: Case) -> None:
    AnalysisJob.objects.filter(case=case).delete()


def failed(
    case: Case, exc: BaseException, *, job_id: int | None = None, owner: str | None = None
) -> jobs.Failure:
    """Record a failed analysis: backoff or dead, and the case event once per kind of failure."""
    kind = type(exc).__name__
    message = f"{kind}: {exc}"[:2000]
    if job_id is None:
        # The first failure, inline at intake: the row starts with this try counted.
        try:
            with transaction.atomic():
                job, _ = AnalysisJob.objects.get_or_create(case=case, defaults={"due_at": clock.now()})
        except IntegrityError:
            job = AnalysisJob.objects.get(case=case)
        AnalysisJob.objects.filter(pk=job.pk, lease_owner="").update(tries=job.tries + 1)
        job_id, owner = job.pk, None
    failure = ANALYSIS.fail(job_id, owner, message)
    if not CaseEvent.objects.filter(case=case, data__analysis_failure=kind).exists():
        CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.SYSTEM,
            actor_label="sirene",
            message=f"Analysis failed ({kind}): {exc}"[:500] + "; retried automatically with backoff",
            data={"analysis_failure": kind},
        )
    if failure.dead:
        CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.SYSTEM,
            actor_label="sirene",
            message=f"Analysis gave up after {failure.tries} tries: {message}"[:500],
            data={"analysis_dead": failure.tries},
        )
        log.warning("analysis of case %s gave up after %s tries: %s", case.pk, failure.tries, message)
    return failure


def retry(case: Case, *, user: User | None = None) -> bool:
    """The retry button: a dead analysis is due now with fresh tries."""
    revived = ANALYSIS.revive(AnalysisJob.objects.filter(case=case, case__analysed_at__isnull=True))
    if revived:
        CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.SYSTEM,
            actor=user,
            message="Analysis queued again",
            data={"analysis_retry": True},
        )
    return bool(revived)


def state(case: Case) -> AnalysisJob | None:
    """The case's analysis job while its analysis has not succeeded (for the case page)."""
    if case.analysed_at is not None:
        return None
    return AnalysisJob.objects.filter(case=case).first()
