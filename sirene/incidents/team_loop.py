"""The team in the loop (issue 18): near misses are the team's call, and every call is counted.

Three things live here, all plain reads and writes of this domain (the flows in
`sirene.flows.team_loop` sequence them with the detector and the escalation):

* **"möglicherweise zwei Probleme"**: the detector notes a borderline split of a problem it opened
  (`services.note_possible_split`, stored in the brief as case ids). `split_parts` renders it at
  display time: per part a short quote (the part's most typical report) and its distinct customers.
  An agent splits with one click (the smaller part leaves the incident's group: a split is a hard
  constraint for detection) or keeps it as one problem; either answer is recorded.
* **"Gleiches Problem wie …?"**: `likely_problem` names, for a report that is in no live incident,
  the open problem its nearest recent report (another customer's) belongs to: a live incident, or a
  problem group with at least two customers in the counting window. The team answers yes or no; a
  yes puts the report and the problem's recent reports into one agent-made group (the window links
  reports of one agent-made group whatever their wording, so the agent's yes can be the 6th
  customer), a no puts the report into a group of its own (reports of two agent-made groups never
  link). `bind_problem` and `keep_apart` are those group changes.
* **counted**: `SameProblemAnswer` rows (who, when, which reports, from where); `answer_counts`.

Constants (each a display choice, none decides an incident):
ASK_FLOOR: below this cosine the nearest report is not offered as "the same problem?" (for USE
vectors, reports of unrelated problems of one product area mostly stay below it, differently
worded reports of one problem mostly above); MAX_NEIGHBOURS bounds the read for one page;
QUOTE_CHARS is the length of a quote in the brief and the Slack post.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.db.models import QuerySet

from sirene.cases.embedding import case_vector
from sirene.cases.models import Case
from sirene.core import clock
from sirene.core.memo import per_page
from sirene.incidents import grouping, rules
from sirene.incidents.models import (
    EarlyWarning,
    GroupMembership,
    Incident,
    IncidentStatus,
    ProblemGroup,
    SameProblemAnswer,
)

ASK_FLOOR = 0.30
MAX_NEIGHBOURS = 3000
QUOTE_CHARS = 60
# Memberships an agent made: the detector's window treats these groups as the team's constraints.
AGENT_HOW = (GroupMembership.How.MOVED, GroupMembership.How.MERGED, GroupMembership.How.SPLIT)


# --- "möglicherweise zwei Probleme" --------------------------------------------------------------


@dataclass(frozen=True)
class SplitPart:
    case_ids: list[int]
    customers: int
    quote: str


def quote(cases: list[Case], limit: int = QUOTE_CHARS) -> str:
    """A short quote for a set of reports: the subject (else first sentence) of its most typical
    report (highest mean cosine to the others), cut at a word."""
    if not cases:
        return ""
    best = cases[0]
    vectors = [(c, case_vector(c)) for c in cases]
    usable = [(c, v) for c, v in vectors if v is not None and len(v)]
    if len(usable) > 2 and len({len(v) for _c, v in usable}) == 1:
        mat = np.stack([v for _c, v in usable])
        best = usable[int(np.argmax((mat @ mat.T).mean(axis=1)))][0]
    text = best.subject.strip() or (best.clean_text or best.body).strip()
    text = " ".join(text.split())
    first = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
    if len(first) <= limit:
        return first
    cut = first[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:–- ")
    return f"{cut}…"


def split_answered(incident: Incident, part_ids: list[int]) -> SameProblemAnswer | None:
    """The team's answer to this incident's near miss (split, or kept as one problem), if any."""
    for answer in SameProblemAnswer.objects.filter(incident=incident, source=SameProblemAnswer.Source.INCIDENT):
        if sorted(answer.case_ids) == sorted(part_ids):
            return answer
    return None


def split_parts(incident: Incident) -> list[SplitPart]:
    """The near miss as it stands: two parts with quote and distinct customers, or [] (none noted,
    the team answered it, or a part is no longer linked to the incident)."""
    raw = (incident.brief or {}).get("possible_split") or []
    if len(raw) != 2:
        return []
    if split_answered(incident, list(raw[1].get("case_ids") or [])) is not None:
        return []
    linked = set(incident.cases.values_list("pk", flat=True))
    parts = []
    for part in raw:
        ids = [int(i) for i in part.get("case_ids") or [] if int(i) in linked]
        if not ids:
            return []
        cases = list(Case.objects.filter(pk__in=ids).order_by("received_at", "id"))
        customers = len({c.customer_id for c in cases})
        parts.append(SplitPart(case_ids=ids, customers=customers, quote=quote(cases)))
    return parts


# --- "Gleiches Problem wie …?" ------------------------------------------------------------------


@dataclass(frozen=True)
class Likely:
    """The open problem a report probably belongs to: a live incident (with its group, if it has
    one) or a problem group; `nearest` is the report it was found through."""

    group: ProblemGroup | None
    incident: Incident | None
    customers: int
    score: float
    nearest: int

    @property
    def title(self) -> str:
        if self.incident is not None:
            return self.incident.title
        return self.group.title if self.group is not None else ""

    @property
    def label(self) -> str:
        if self.incident is not None:
            return f"INC-{self.incident.pk}"
        return f"G-{self.group.pk}" if self.group is not None else ""


def _is_technical(tags: list[str] | None) -> bool:
    tags = tags or []
    return not tags or settings.TECH_TAG.strip().lstrip("#").lower() in tags


def window_start() -> Any:
    return clock.now() - timedelta(hours=rules.max_window_hours())


def _live_incident_of(case_ids: list[int]) -> dict[int, int]:
    through = Incident.cases.through
    return dict(
        through.objects.filter(case_id__in=case_ids)
        .exclude(incident__status=IncidentStatus.RESOLVED)
        .values_list("case_id", "incident_id")
    )


def group_customers(group: ProblemGroup, exclude_identity: str = "") -> int:
    members = GroupMembership.objects.filter(group=group, received_at__gt=window_start())
    if exclude_identity:
        members = members.exclude(identity=exclude_identity)
    return members.values("identity").distinct().count()


def _answered_targets(case: Case) -> tuple[set[int], set[int]]:
    rows = SameProblemAnswer.objects.filter(case=case).values_list("group_id", "incident_id")
    return {g for g, _i in rows if g}, {i for _g, i in rows if i}


def _neighbours(case: Case, vector: np.ndarray) -> list[tuple[float, int, int | None]]:
    """(cosine, case id, group id) of the recent technical reports of other customers, nearest first."""
    rows = list(
        Case.objects.filter(received_at__gt=window_start(), embedding__isnull=False)
        .exclude(pk=case.pk)
        .exclude(customer_id=case.customer_id)
        .order_by("-received_at")
        .values_list("pk", "embedding", "tags", "problem_membership__group_id")[:MAX_NEIGHBOURS]
    )
    keep = []
    vectors = []
    for pk, emb, tags, gid in rows:
        if not emb or not _is_technical(tags):
            continue
        v = np.frombuffer(bytes(emb), dtype=np.float32)
        if len(v) != len(vector) or not np.any(v):
            continue
        keep.append((pk, gid))
        vectors.append(v)
    if not keep:
        return []
    cos = np.stack(vectors) @ (vector / (float(np.linalg.norm(vector)) or 1.0))
    order = np.argsort(-cos)
    return [(float(cos[i]), keep[i][0], keep[i][1]) for i in order if cos[i] >= ASK_FLOOR]


def likely_problem(case: Case, *, candidates: int = 20, in_incident: bool | None = None) -> Likely | None:
    """The open problem to ask the team about for this report, or None: the report is part of a
    live incident, its nearest recent report is in its own group already, nothing near is an open
    problem, or the team already answered for that problem. `in_incident`: the caller knows."""
    vector = case_vector(case)
    if vector is None or not np.any(vector) or not _is_technical(case.tags):
        return None
    if in_incident is None:
        in_incident = case.incidents.exclude(status=IncidentStatus.RESOLVED).exists()
    if in_incident:
        return None
    near = _neighbours(case, vector)[:candidates]
    if not near:
        return None
    own = GroupMembership.objects.filter(case=case).values_list("group_id", flat=True).first()
    if near[0][2] is not None and near[0][2] == own:
        return None  # the nearest report is in the report's own group already
    answered_groups, answered_incidents = _answered_targets(case)
    live = _live_incident_of([pk for _s, pk, _g in near])
    identity = case.customer.identity
    for score, pk, gid in near:
        incident_id = live.get(pk)
        if incident_id is not None:
            incident = Incident.objects.select_related("group").get(pk=incident_id)
            if incident.pk in answered_incidents or (incident.group_id and incident.group_id in answered_groups):
                continue
            if incident.group_id and incident.group_id == own:
                return None
            return Likely(incident.group, incident, incident.customers_affected, score, pk)
        if gid is None:
            continue
        if gid == own:
            return None
        if gid in answered_groups:
            continue
        group = ProblemGroup.objects.filter(pk=gid, merged_into__isnull=True).first()
        if group is None:
            continue
        customers = group_customers(group, exclude_identity=identity)
        if customers >= 2:
            return Likely(group, None, customers, score, pk)
    return None


def warning_group(warning: EarlyWarning) -> ProblemGroup | None:
    """The problem group most of an early warning's reports are in."""
    gids = Counter(
        GroupMembership.objects.filter(case__in=warning.cases.all()).values_list("group_id", flat=True)
    )
    if not gids:
        return None
    gid = max(gids.items(), key=lambda kv: (kv[1], -kv[0]))[0]
    return ProblemGroup.objects.filter(pk=gid, merged_into__isnull=True).first()


def warning_questions(warning: EarlyWarning, limit: int = 3) -> list[tuple[Case, Likely]]:
    """Reports near an early warning's problem but not counted in it, each with the problem it
    probably belongs to (that problem): the reports the team may add by a yes."""
    group = warning_group(warning)
    if group is None:
        return []
    members = list(warning.cases.exclude(embedding__isnull=True))
    vectors = [v for v in (case_vector(c) for c in members) if v is not None and len(v)]
    if not vectors or len({len(v) for v in vectors}) != 1:
        return []
    mat = np.stack(vectors)
    customers = {c.customer_id for c in members}
    rows = (
        Case.objects.filter(received_at__gt=window_start(), embedding__isnull=False)
        .exclude(problem_membership__group=group)
        .exclude(customer_id__in=customers)
        .order_by("-received_at")
        .values_list("pk", "embedding", "tags")[:MAX_NEIGHBOURS]
    )
    scored = []
    for pk, emb, tags in rows:
        v = np.frombuffer(bytes(emb), dtype=np.float32) if emb else None
        if v is None or len(v) != mat.shape[1] or not _is_technical(tags):
            continue
        score = float(np.max(mat @ v))
        if score >= ASK_FLOOR:
            scored.append((score, pk))
    scored.sort(key=lambda sc: -sc[0])
    top = [pk for _score, pk in scored[: limit * 2]]
    by_id = Case.objects.select_related("customer").in_bulk(top)
    out = []
    for pk in top:
        case = by_id.get(pk)
        likely = likely_problem(case) if case is not None else None
        if case is not None and likely is not None and likely.group is not None and likely.group.pk == group.pk:
            out.append((case, likely))
        if len(out) >= limit:
            break
    return out


# --- the group changes behind a yes / no --------------------------------------------------------


def problem_members(group: ProblemGroup) -> QuerySet[GroupMembership]:
    """The group's reports in the counting window: what the team sees as "the problem"."""
    return GroupMembership.objects.filter(group=group, received_at__gt=window_start())


def bind_problem(group: ProblemGroup, also: list[Case] | None = None) -> list[int]:
    """Make the problem's recent reports (and `also`: e.g. an early warning's reports from other
    groups) one agent-made group, so the window links them whatever their wording. Returns the ids
    whose membership changed or was confirmed (the caller relinks them in the detector's window)."""
    if also:
        grouping.take_into(group, [c for c in also])
    members = problem_members(group)
    ids = list(members.values_list("case_id", flat=True))
    members.exclude(how__in=AGENT_HOW).update(how=GroupMembership.How.MERGED)
    return ids


def record(
    *,
    answer: str,
    case: Case | None,
    group: ProblemGroup | None,
    incident: Incident | None,
    user: Any,
    source: str,
    case_ids: list[int],
) -> SameProblemAnswer:
    if answer not in SameProblemAnswer.Answer.values:
        from sirene.incidents.services import IncidentError

        raise IncidentError("answer", f"{answer!r} is not one of: {', '.join(SameProblemAnswer.Answer.values)}")
    if source not in SameProblemAnswer.Source.values:
        from sirene.incidents.services import IncidentError

        raise IncidentError("source", f"{source!r} is not one of: {', '.join(SameProblemAnswer.Source.values)}")
    return SameProblemAnswer.objects.create(
        case=case,
        group=group,
        incident=incident,
        answer=answer,
        source=source,
        user=user if getattr(user, "pk", None) else None,
        at=clock.now(),
        case_ids=sorted({int(i) for i in case_ids}),
    )


# --- counted ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    confirmed: int = 0  # yes: "vom Team bestätigt"
    separated: int = 0  # no and split: "vom Team getrennt"


def answer_counts(incident: Incident) -> Counts:
    """The team's answers about this incident's problem: its own, and those about its reports."""
    case_ids = list(incident.cases.values_list("pk", flat=True))
    rows = SameProblemAnswer.objects.filter(incident=incident) | SameProblemAnswer.objects.filter(
        case_id__in=case_ids, answer=SameProblemAnswer.Answer.YES
    )
    counted = Counter(rows.distinct().values_list("answer", flat=True))
    return Counts(
        confirmed=counted[SameProblemAnswer.Answer.YES],
        separated=counted[SameProblemAnswer.Answer.NO] + counted[SameProblemAnswer.Answer.SPLIT],
    )


def totals(since: Any = None) -> dict[str, int]:
    """All answers (since a time): yes, no, split, and how many came from sirene's proposals."""
    rows = SameProblemAnswer.objects.all()
    if since is not None:
        rows = rows.filter(at__gte=since)
    counted = Counter(rows.values_list("answer", flat=True))
    return {
        "yes": counted[SameProblemAnswer.Answer.YES],
        "no": counted[SameProblemAnswer.Answer.NO],
        "split": counted[SameProblemAnswer.Answer.SPLIT],
        "proposals": rows.filter(source=SameProblemAnswer.Source.PROPOSAL).count(),
    }


# --- the pages' panels (placed by sirene.web.panels) ----------------------------------------------


@per_page
def newest_incident(case: Case) -> Incident | None:
    """The newest incident holding the case (read once per page: the incidents panel shows it)."""
    return case.incidents.order_by("-opened_at").first()


def case_panel_context(case: Case) -> dict[str, Any]:
    """The case page: "Gleiches Problem wie …?" when the report has a likely problem, and
    „Störung eröffnen“ unless it is part of a live incident."""
    newest = newest_incident(case)
    live = newest is not None and newest.status != IncidentStatus.RESOLVED
    return {"case": case, "likely": likely_problem(case, in_incident=live), "in_incident": live}


def incident_panel_context(incident: Incident) -> dict[str, Any]:
    """The incident page's brief: the near miss („möglicherweise zwei Probleme“) and the count."""
    return {"incident": incident, "parts": split_parts(incident), "counts": answer_counts(incident)}


def describe_event(event: Any) -> str:
    """The timeline sentence of an old "possible_split" / "team_answer" row (no version): its data has
    the keys of the renderers in `incidents.events`."""
    from sirene.incidents import events

    rendered = events.render(event.kind, {**(event.data or {}), "v": events.VERSION})
    return rendered[0] if rendered else str(event.kind)
