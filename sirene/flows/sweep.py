"""★ Sweep at resolve: the reports of the last 30 days that look like the incident's problem but are
not linked to it (written before the window, in other words, closed as single cases), so their
customers hear that it is fixed too.

Why a report is a candidate (each reason is kept as data, worded at display time):

* ``similar``: its stored sentence vector is close to the incident's reports (the mean of its best
  ``TOP`` cosines to them, so one chance look-alike among many reports does not decide);
* ``known_problem``: an agent confirmed the same known problem for it as for the incident;
* ``error_code``: it quotes an error code the incident's reports quote.

Reports another incident already holds are never candidates (they hear from that one). Nothing is
written here; `link_also_notify` links the lead's choice inside the resolve transaction, so each of
those customers gets the resolution reply exactly once (one `CustomerReply` per incident and ticket).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
from django.conf import settings

from sirene.accounts.models import User
from sirene.cases.attributes import extract_error_codes
from sirene.cases.models import Case
from sirene.core import clock
from sirene.core.errors import FieldError
from sirene.incidents import events as incident_events
from sirene.incidents import services as incidents
from sirene.incidents.models import Incident
from sirene.knowledge.models import Suggestion, SuggestionState

DAYS = 30
# Mean of the best TOP cosines to the incident's reports; SIMILAR or more is "looks like this problem"
# (the grouping threshold 0.45 of similarity/params.py plus a margin: the reports are days apart).
TOP = 3
SIMILAR = 0.55
# A shared code or known problem needs some likeness of the words too (two different problems can
# quote "502"); a confirmed known problem needs none.
CODE_FLOOR = 0.30
CODE_BONUS = 0.15
KNOWN_BONUS = 0.30
LIMIT = 25


@dataclass
class Candidate:
    case_id: int
    score: float
    reason: str  # the strongest: known_problem | error_code | similar
    reasons: list[str] = field(default_factory=list)
    similarity: float = 0.0
    subject: str = ""
    customer: str = ""
    received_at: Any = None
    codes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _technical(tags: list[str] | None) -> bool:
    tags = tags or []
    return not tags or settings.TECH_TAG.strip().lstrip("#").lower() in tags


def _vectors(rows: list[tuple[int, Any]]) -> tuple[list[int], np.ndarray | None]:
    keys, vecs = [], []
    for pk, emb in rows:
        if not emb:
            continue
        v = np.frombuffer(bytes(emb), dtype=np.float32)
        n = float(np.linalg.norm(v))
        if n == 0:
            continue
        keys.append(pk)
        vecs.append(v / n)
    if not vecs or len({len(v) for v in vecs}) != 1:
        return [], None
    return keys, np.stack(vecs)


def _confirmed(case_ids: list[int]) -> dict[int, str]:
    return dict(
        Suggestion.objects.filter(case_id__in=case_ids, state=SuggestionState.CONFIRMED).values_list(
            "case_id", "known_problem__key"
        )
    )


def known_problem_of(incident: Incident, linked_ids: list[int]) -> str:
    """The incident's known problem: its group's, else the one most of its reports are confirmed to."""
    if incident.group_id and incident.group and incident.group.known_problem_key:
        return incident.group.known_problem_key
    keys = Counter(_confirmed(linked_ids).values())
    return keys.most_common(1)[0][0] if keys else ""


def candidates(incident: Incident, *, days: int = DAYS, limit: int = LIMIT) -> list[Candidate]:
    """The unlinked reports of the last `days` that look like this incident's problem, best first."""
    linked = list(incident.cases.values_list("pk", "embedding", "subject", "body"))
    linked_ids = [row[0] for row in linked]
    _keys, mine = _vectors([(pk, emb) for pk, emb, _s, _b in linked])
    codes: set[str] = set()
    for _pk, _emb, subject, body in linked:
        codes.update(extract_error_codes(f"{subject}\n\n{body}"))
    known = known_problem_of(incident, linked_ids)
    since = clock.now() - timedelta(days=days)
    pool = list(
        Case.objects.filter(received_at__gte=since, incidents__isnull=True)
        .exclude(pk__in=linked_ids)
        .values_list("pk", "embedding", "subject", "body", "tags", "received_at", "customer__email")
    )
    pool = [row for row in pool if _technical(row[4])]
    if not pool:
        return []
    confirmed = _confirmed([row[0] for row in pool]) if known else {}
    sims: dict[int, float] = {}
    keys, theirs = _vectors([(row[0], row[1]) for row in pool])
    if mine is not None and theirs is not None and theirs.shape[1] == mine.shape[1]:
        cos = theirs @ mine.T
        k = min(TOP, cos.shape[1])
        best = -np.sort(-cos, axis=1)[:, :k].mean(axis=1)
        sims = {key: float(s) for key, s in zip(keys, best, strict=True)}
    out: list[Candidate] = []
    for pk, _emb, subject, body, _tags, received_at, email in pool:
        sim = sims.get(pk, 0.0)
        shared = sorted(codes & set(extract_error_codes(f"{subject}\n\n{body}")))
        reasons = []
        if known and confirmed.get(pk) == known:
            reasons.append("known_problem")
        if shared and sim >= CODE_FLOOR:
            reasons.append("error_code")
        if sim >= SIMILAR:
            reasons.append("similar")
        if not reasons:
            continue
        score = sim + (KNOWN_BONUS if "known_problem" in reasons else 0.0)
        score += CODE_BONUS if "error_code" in reasons else 0.0
        out.append(
            Candidate(
                case_id=pk,
                score=round(score, 3),
                reason=reasons[0],
                reasons=reasons,
                similarity=round(sim, 3),
                subject=subject[:200],
                customer=email or "",
                received_at=received_at,
                codes=shared,
            )
        )
    out.sort(key=lambda c: (-c.score, c.case_id))
    return out[:limit]


def check_also_notify(incident: Incident, case_ids: list[int], *, days: int = DAYS) -> list[Case]:
    """The cases a lead ticked, checked: they exist, are recent and no other incident holds them
    (422 naming `also_notify` otherwise; nothing is written)."""
    wanted = sorted(set(case_ids))
    if not wanted:
        return []
    found = {c.pk: c for c in Case.objects.filter(pk__in=wanted).select_related("customer")}
    missing = [pk for pk in wanted if pk not in found]
    if missing:
        raise FieldError("also_notify", f"unknown case ids {missing}")
    since = clock.now() - timedelta(days=days)
    old = [pk for pk in wanted if found[pk].received_at < since]
    if old:
        raise FieldError("also_notify", f"cases {old} are older than {days} days")
    elsewhere = sorted(
        set(
            Incident.cases.through.objects.filter(case_id__in=wanted)
            .exclude(incident_id=incident.pk)
            .values_list("case_id", flat=True)
        )
    )
    if elsewhere:
        raise FieldError("also_notify", f"cases {elsewhere} belong to another incident")
    return [found[pk] for pk in wanted]


def link_also_notify(incident: Incident, cases: list[Case], *, user: User | None = None) -> list[int]:
    """Link the ticked cases (caller's transaction, before the resolution): they are solved and
    answered with the others. Returns the ids newly linked; a timeline event records them as data."""
    added = [case.pk for case in cases if incidents.attach_case(incident, case, user=user)]
    if added:
        incident_events.record(incident, "also_notified", actor=user, case_ids=added)
    return added
