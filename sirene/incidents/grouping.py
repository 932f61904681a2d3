"""Problem groups in the database: every tracked case joins one (or opens a new one).

The decision itself is `sirene.similarity.choose_group` (shared with the grouping benchmark); this
module feeds it from the database and writes the result back:

* candidates: live groups active within CANDIDATE_DAYS; their raw-mean centroids and up to
  `max_members` recent member vectors are stored on the group row as float32 bytes;
* a confirmed known problem (knowledge base) is the strongest signal: the case joins the group
  anchored to that known problem, whatever the wording (the caller passes its key: the intake flow
  asks `knowledge.services.match`, so this module never imports the knowledge base);
* the category is a softer one: customers describe one login failure in very different words,
  so a group of the same (non-"other") category is accepted with a threshold lowered by
  CATEGORY_BONUS; only if no such group fits are groups of other categories considered.

Writes lock the chosen group row (select_for_update) so concurrent workers never lose an update
to the centroid or count. Agents can move a case, merge two groups and split one; each rebuilds
the affected groups' centroids from their members' stored embeddings.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import numpy as np

from sirene.cases.attributes import extract_error_codes
from sirene.cases.embedding import case_vector
from sirene.cases.models import Case, Category
from sirene.core import clock
from sirene.incidents.models import GroupMembership, ProblemGroup
from sirene.similarity import (
    DEFAULT_GROUPING,
    GroupingParams,
    GroupSnapshot,
    choose_group,
    shortlist,
    updated_centroid,
)
from sirene.similarity.grouping import threshold_for

log = logging.getLogger(__name__)

CANDIDATE_DAYS = 30
MAX_CANDIDATES = 5000
CATEGORY_BONUS = float(os.environ.get("SIRENE_GROUP_CATEGORY_BONUS", "0.10"))
CODE_BONUS = 0.08
MAX_BONUS = max(0.12, CATEGORY_BONUS)
MAX_CODES = 10


def _vec(blob: Any) -> np.ndarray | None:
    if not blob:
        return None
    return np.frombuffer(bytes(blob), dtype=np.float32)


def _rows(blob: Any, dim: int) -> np.ndarray | None:
    v = _vec(blob)
    if v is None or dim <= 0 or len(v) % dim:
        return None
    return v.reshape(-1, dim)


def group_title(case: Case) -> str:
    title = (case.subject or case.clean_text or case.body).strip().splitlines()
    return (title[0] if title else "")[:300] or f"#{case.pk}"


def _centroids(groups: list[tuple[Any, ...]], dim: int) -> np.ndarray:
    out = np.zeros((len(groups), dim), dtype=np.float32)
    for i, g in enumerate(groups):
        v = _vec(g[1])
        if v is not None and len(v) == dim:  # a group from another encoder never matches
            out[i] = v
    return out


def _snapshots(
    vector: np.ndarray, groups: list[tuple[Any, ...]], params: GroupingParams
) -> list[GroupSnapshot]:
    if not groups:
        return []
    dim = len(vector)
    cents = _centroids(groups, dim)
    return [
        GroupSnapshot(id=int(groups[i][0]), centroid=cents[i], count=int(groups[i][2]), members=None)
        for i in shortlist(vector, cents, params.shortlist)
    ]


def choose(
    case: Case, vector: np.ndarray, params: GroupingParams = DEFAULT_GROUPING, known: str | None = None
) -> tuple[int | None, float, str]:
    """(group id or None, score, how) for a new case, without writing anything.

    `known`: the key of the case's confirmed (or surely matched) known problem, "" / None for none.
    """
    if known:
        gid = (
            ProblemGroup.objects.filter(known_problem_key=known, merged_into__isnull=True)
            .order_by("-last_seen_at")
            .values_list("id", flat=True)
            .first()
        )
        if gid is not None:
            return gid, 1.0, GroupMembership.How.KNOWN_PROBLEM
    if not np.any(vector):
        return None, 0.0, GroupMembership.How.NEW
    since = clock.now() - timedelta(days=CANDIDATE_DAYS)
    groups, versions = _candidates(since)
    gid, score = decide_group(
        vector,
        case.category,
        extract_error_codes(case.text),
        groups,
        params,
        members_of=lambda ids: _cached_members(ids, versions),
    )
    return gid, score, (GroupMembership.How.SIMILAR if gid is not None else GroupMembership.How.NEW)


# Each process keeps the candidates' rows (id, centroid, count, category, codes) and the shortlisted
# groups' recent member vectors by (database, id), with the row's version: every write to a group
# gives it a new one (ProblemGroup.save / update), so a new case reads only the candidates' ids and
# versions and then the rows that changed since, whichever process or agent changed them. The
# writes of this process (`assign`) are remembered as they are written.
_GROUPS: dict[tuple[str, int], tuple[int, tuple[Any, ...]]] = {}
_MEMBERS: dict[tuple[str, int], tuple[int, Any]] = {}
MAX_CACHED_MEMBERS = 1000  # x up to 20 vectors of 2 KB


def clear_cache() -> None:
    _GROUPS.clear()
    _MEMBERS.clear()


def _db() -> str:
    from django.db import connection

    return f"{connection.alias}:{connection.settings_dict.get('NAME')}"


def _candidates(since: Any) -> tuple[list[tuple[Any, ...]], dict[int, int]]:
    """The live groups as (id, centroid bytes, count, category, codes), most recently seen first,
    and their versions."""
    db = _db()
    rows: list[tuple[int, int]] = list(
        ProblemGroup.objects.filter(merged_into__isnull=True, last_seen_at__gte=since)
        .order_by("-last_seen_at")
        .values_list("id", "version")[:MAX_CANDIDATES]
    )
    stale = [gid for gid, version in rows if _GROUPS.get((db, gid), (None,))[0] != version]
    if stale:
        for gid, version, blob, count, category, codes in ProblemGroup.objects.filter(
            pk__in=stale
        ).values_list("id", "version", "centroid", "count", "category", "codes"):
            _GROUPS[(db, gid)] = (version, (gid, blob, count, category, codes))
    versions = dict(rows)
    if len(_GROUPS) > 2 * MAX_CANDIDATES:
        for key in [k for k in _GROUPS if k[0] != db or k[1] not in versions]:
            del _GROUPS[key]
    # A group written again between the two reads comes as read second (the newer row).
    out = [hit[1] for hit in (_GROUPS.get((db, gid)) for gid, _v in rows) if hit is not None]
    return out, versions


def _cached_members(ids: list[int], versions: dict[int, int]) -> dict[int, Any]:
    """The recent member vectors of these (shortlisted) groups, read only when changed."""
    db = _db()
    out: dict[int, Any] = {}
    missing = []
    for gid in ids:
        hit = _MEMBERS.get((db, gid))
        if hit is not None and hit[0] == versions.get(gid):
            out[gid] = hit[1]
        else:
            missing.append(gid)
    if missing:
        if len(_MEMBERS) > MAX_CACHED_MEMBERS:
            _MEMBERS.clear()
        for gid, version, blob in ProblemGroup.objects.filter(pk__in=missing).values_list(
            "id", "version", "recent_vectors"
        ):
            if version == versions.get(gid):
                _MEMBERS[(db, gid)] = (version, blob)
            out[gid] = blob
    return out


def _remember(group: ProblemGroup) -> None:
    """This process just wrote the group: cache it as written (if the transaction rolls back, the
    database keeps the old version and the next case reads the row again)."""
    db = _db()
    _GROUPS[(db, group.pk)] = (
        group.version,
        (group.pk, group.centroid, group.count, group.category, group.codes),
    )
    if len(_MEMBERS) <= MAX_CACHED_MEMBERS:
        _MEMBERS[(db, group.pk)] = (group.version, group.recent_vectors)


def relaxation(category: str, codes: list[str], group_category: str, group_codes: list[str]) -> float:
    """How much lower the join threshold is for this group: same category, a shared error code."""
    bonus = 0.0
    if category != Category.OTHER and category == group_category:
        bonus += CATEGORY_BONUS
    if codes and set(codes) & set(group_codes or []):
        bonus += CODE_BONUS
    return min(bonus, MAX_BONUS)


def decide_group(
    vector: np.ndarray,
    category: str,
    codes: list[str],
    groups: list[tuple[Any, ...]],  # (id, centroid bytes, count, category, codes)
    params: GroupingParams = DEFAULT_GROUPING,
    members_of: Callable[[list[int]], dict[int, Any]] | None = None,
) -> tuple[int | None, float]:
    """`choose_group` over the shortlist, each candidate with its own (relaxed) threshold.

    Candidates come from two shortlists (all groups, and the groups of the same category, so a
    same-category group is never crowded out by many near-misses elsewhere). Candidates with the
    same relaxation are decided together by `choose_group`; across those buckets the largest
    margin over its own threshold wins, exactly as inside `choose_group`.
    """
    if not groups or not np.any(vector):
        return None, 0.0
    info = {int(g[0]): g for g in groups}
    same = [g for g in groups if g[3] == category] if category != Category.OTHER else []
    snapshots: dict[int, GroupSnapshot] = {}
    for snap in _snapshots(vector, same, params) + _snapshots(vector, groups, params):
        snapshots.setdefault(snap.id, snap)
    if members_of is not None and snapshots:
        # Member vectors only for the shortlist: reading them for every live group would cost
        # megabytes per case.
        for member_gid, blob in members_of(list(snapshots)).items():
            snapshots[member_gid].members = _rows(blob, len(vector))
    buckets: dict[float, list[GroupSnapshot]] = {}
    for snap in snapshots.values():
        g = info[snap.id]
        buckets.setdefault(relaxation(category, codes, g[3], g[4]), []).append(snap)
    best: tuple[float, int, float] | None = None
    for bonus, cands in buckets.items():
        relaxed = dataclasses.replace(params, threshold=params.threshold - bonus)
        gid, score = choose_group(vector, cands, relaxed)
        if gid is None:
            continue
        margin = score - threshold_for(snapshots[gid].count, relaxed)
        if best is None or margin > best[0]:
            best = (margin, gid, score)
    if best is None:
        return None, 0.0
    return best[1], best[2]


def _merge_codes(existing: list[str] | None, new: list[str]) -> list[str]:
    merged = list(existing or [])
    merged += [c for c in new if c not in merged]
    return merged[-MAX_CODES:]


def _push_member(group: ProblemGroup, vector: np.ndarray, params: GroupingParams) -> None:
    dim = len(vector)
    rows = _rows(group.recent_vectors, dim)
    stacked = vector.reshape(1, -1) if rows is None else np.vstack([rows, vector.reshape(1, -1)])
    group.recent_vectors = stacked[-params.max_members :].astype(np.float32).tobytes()


def _membership(case: Case) -> GroupMembership | None:
    """The case's membership: as read with the case (the intake's `select_related`), else queried."""
    rel = Case.problem_membership.related
    if rel.is_cached(case):
        cached = rel.get_cached_value(case)
        return cached if isinstance(cached, GroupMembership) else None
    return GroupMembership.objects.filter(case=case).select_related("group").first()


def assign(case: Case, params: GroupingParams = DEFAULT_GROUPING, *, known: str = "") -> GroupMembership:
    """Put a new case into its problem group (caller holds a transaction). Idempotent per case.

    `known`: the key of the known problem the knowledge base is sure of ("" for none)."""
    existing = _membership(case)
    if existing is not None:
        return existing
    vector = case_vector(case)
    if vector is None:
        vector = np.zeros(0, dtype=np.float32)
    known = known if len(vector) else ""
    gid, score, how = (
        choose(case, vector, params, known=known) if len(vector) else (None, 0.0, GroupMembership.How.NEW)
    )
    now = clock.now()
    if gid is None:
        group = ProblemGroup.objects.create(
            title=group_title(case),
            category=case.category,
            known_problem_key=known,
            centroid=vector.tobytes() if len(vector) else None,
            recent_vectors=vector.tobytes() if len(vector) and np.any(vector) else None,
            count=1,
            codes=extract_error_codes(case.text),
            created_at=now,
            first_seen_at=case.received_at,
            last_seen_at=case.received_at,
        )
        _remember(group)
    else:
        group = ProblemGroup.objects.select_for_update().get(pk=gid)
        centroid = _vec(group.centroid)
        if centroid is not None and len(centroid) == len(vector):
            group.centroid = updated_centroid(centroid, group.count, vector).tobytes()
            _push_member(group, vector, params)
        group.count += 1
        group.codes = _merge_codes(group.codes, extract_error_codes(case.text))
        group.first_seen_at = min(group.first_seen_at, case.received_at)
        group.last_seen_at = max(group.last_seen_at, case.received_at)
        group.save(
            update_fields=["centroid", "recent_vectors", "count", "codes", "first_seen_at", "last_seen_at"]
        )
        _remember(group)
    return GroupMembership.objects.create(
        case=case,
        group=group,
        identity=case.customer.identity,
        received_at=case.received_at,
        score=score,
        how=how,
        joined_at=now,
    )


def rebuild(group: ProblemGroup, params: GroupingParams = DEFAULT_GROUPING) -> ProblemGroup:
    """Recompute centroid, recent vectors, count and first/last seen from the members (after moves)."""
    members = list(group.memberships.select_related("case").order_by("received_at", "id"))
    vectors = [v for v in (case_vector(m.case) for m in members) if v is not None and len(v)]
    dims = {len(v) for v in vectors}
    if vectors and len(dims) == 1:
        mat = np.stack(vectors).astype(np.float32)
        group.centroid = mat.mean(axis=0).astype(np.float32).tobytes()
        group.recent_vectors = mat[-params.max_members :].tobytes()
    else:
        group.centroid = None
        group.recent_vectors = None
    group.count = len(members)
    codes: list[str] = []
    for m in members:
        codes = _merge_codes(codes, extract_error_codes(m.case.text))
    group.codes = codes
    if members:
        group.first_seen_at = members[0].received_at
        group.last_seen_at = max(m.received_at for m in members)
    group.save(
        update_fields=["centroid", "recent_vectors", "count", "codes", "first_seen_at", "last_seen_at"]
    )
    return group


def take_into(target: ProblemGroup, cases: list[Case]) -> None:
    """Move these cases' memberships into `target` (a detected problem's group). The groups they
    leave are updated incrementally (centroid minus the leaving vectors), not rebuilt: an
    everyday question's group has thousands of members and this runs inside intake."""
    members = list(
        GroupMembership.objects.select_related("case").filter(case__in=cases).exclude(group_id=target.pk)
    )
    if not members:
        return
    by_source: dict[int, list[GroupMembership]] = {}
    for m in members:
        by_source.setdefault(m.group_id, []).append(m)
    for source in ProblemGroup.objects.select_for_update().filter(pk__in=list(by_source)).order_by("pk"):
        leaving = [v for v in (case_vector(m.case) for m in by_source[source.pk]) if v is not None]
        centroid = _vec(source.centroid)
        remaining = source.count - len(by_source[source.pk])
        if (
            centroid is not None
            and remaining > 0
            and leaving
            and all(len(v) == len(centroid) for v in leaving)
        ):
            total = centroid * source.count - np.sum(leaving, axis=0)
            source.centroid = (total / remaining).astype(np.float32).tobytes()
        source.count = max(0, remaining)
        source.save(update_fields=["centroid", "count"])
    GroupMembership.objects.filter(pk__in=[m.pk for m in members]).update(
        group=target, how=GroupMembership.How.DETECTED
    )
    moved = [m.case for m in members]
    vectors = [v for v in (case_vector(c) for c in moved) if v is not None and len(v)]
    target = ProblemGroup.objects.select_for_update().get(pk=target.pk)
    centroid = _vec(target.centroid)
    for v in vectors:
        if centroid is None or len(centroid) != len(v):
            centroid = v.astype(np.float32)
            target.count = 0
        else:
            centroid = updated_centroid(centroid, target.count, v)
        target.count += 1
        _push_member(target, v, DEFAULT_GROUPING)
    target.centroid = centroid.tobytes() if centroid is not None else None
    codes = list(target.codes or [])
    for c in moved:
        codes = _merge_codes(codes, extract_error_codes(c.text))
    target.codes = codes
    target.first_seen_at = min([target.first_seen_at, *(c.received_at for c in moved)])
    target.last_seen_at = max([target.last_seen_at, *(c.received_at for c in moved)])
    target.save(
        update_fields=["centroid", "recent_vectors", "count", "codes", "first_seen_at", "last_seen_at"]
    )
