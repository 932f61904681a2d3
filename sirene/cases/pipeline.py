"""What happens to a new case after it is stored: clean + embed its text, match it against known
problems, put it into a problem group (which may open a critical incident).

Runs right after intake, in the same request or worker step. A failure here never loses the
case: it stays with `analysed_at` unset and the worker retries it.
"""

from __future__ import annotations

import logging

import numpy as np
from django.db import transaction

from sirene.cases.models import Case, CaseEvent
from sirene.core import clock

log = logging.getLogger(__name__)


def embed(text: str) -> tuple[str, np.ndarray]:
    from sirene.similarity import clean_text, default_encoder

    cleaned = clean_text(text)
    vector = default_encoder().encode([cleaned])[0].astype(np.float32)
    return cleaned, vector


def case_vector(case: Case) -> np.ndarray | None:
    if not case.embedding:
        return None
    return np.frombuffer(bytes(case.embedding), dtype=np.float32)


def analyse(case: Case) -> bool:
    """Returns True when the case was analysed (now or before)."""
    if case.analysed_at is not None:
        return True
    try:
        with transaction.atomic():
            locked = Case.objects.select_for_update().get(pk=case.pk)
            if locked.analysed_at is not None:
                return True
            cleaned, vector = embed(locked.text)
            locked.clean_text = cleaned
            locked.embedding = vector.tobytes()
            locked.save(update_fields=["clean_text", "embedding"])
            from sirene.incidents import services as incidents
            from sirene.knowledge import services as knowledge

            knowledge.on_new_case(locked)
            incidents.on_new_case(locked)
            locked.analysed_at = clock.now()
            locked.save(update_fields=["analysed_at"])
    except Exception as exc:
        log.exception("analysis of case %s failed; the worker will retry", case.pk)
        CaseEvent.objects.create(
            case=case, kind=CaseEvent.Kind.SYSTEM, message=f"analysis failed: {exc!r}"[:500]
        )
        return False
    case.refresh_from_db()
    return True


def analyse_pending(limit: int = 50) -> int:
    """Worker step: analyse cases that arrived but were not analysed (e.g. after a crash)."""
    done = 0
    for case in Case.objects.filter(analysed_at__isnull=True).order_by("id")[:limit]:
        if analyse(case):
            done += 1
    return done
