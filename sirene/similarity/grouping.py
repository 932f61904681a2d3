"""Online grouping of reports into problem groups (number of groups unknown).

The decision is a pure function so that the database-backed grouping elsewhere in sirene and the
in-memory :class:`OnlineGrouper` (used by the benchmark) make exactly the same choices:

1. shortlist: the ``params.shortlist`` groups whose centroids are most similar to the new vector
   (in SQL: ``ORDER BY centroid <=> :v LIMIT n`` with pgvector, or :func:`shortlist` in numpy);
2. :func:`choose_group` over those :class:`GroupSnapshot` candidates -> group id or ``None``;
3. ``None`` -> open a new group with the vector as centroid, count 1; otherwise store
   :func:`updated_centroid` and ``count + 1`` and append the vector to the group's recent members.

Why not only centroids: support problems are phrased in a few distinct ways ("card not arrived" vs
"where is my card"), so a group is better described by its centroid *and* its nearest member
(a capped, online mix of average- and single-link). Why a size-aware threshold: a centroid
estimated from many reports is more reliable than one from a single report, so big groups can
accept slightly less similar reports without chaining unrelated ones.

Everything is incremental (no re-clustering of history) and deterministic for a given input order:
ties are broken by candidate order, which :func:`shortlist` makes stable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from sirene.similarity.encoders import Encoder
from sirene.similarity.params import DEFAULT_GROUPING, GroupingParams

__all__ = [
    "GroupSnapshot",
    "GroupingParams",
    "OnlineGrouper",
    "choose_group",
    "group_score",
    "shortlist",
    "updated_centroid",
]


@dataclass
class GroupSnapshot:
    """What the decision needs to know about one existing group.

    ``centroid``: running mean of the (unit) member vectors, float32, *not* re-normalised (the
    score normalises it; keeping the raw mean makes :func:`updated_centroid` exact).
    ``count``: number of members so far.
    ``members``: optional ``(m, dim)`` array of up to ``params.max_members`` recent member vectors;
    ``None`` or empty means "centroid only" (then the member term falls back to the centroid score).
    """

    id: int
    centroid: np.ndarray
    count: int
    members: np.ndarray | None = field(default=None)


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def threshold_for(count: int, params: GroupingParams) -> float:
    """Join threshold for a group with ``count`` members (relaxed for big groups, capped)."""
    bonus = min(params.size_bonus_cap, params.size_bonus * math.log(max(count, 1)))
    return params.threshold - bonus


def group_score(vector: np.ndarray, group: GroupSnapshot, params: GroupingParams) -> float:
    """Similarity of ``vector`` to ``group``: a mix of centroid cosine and best member cosine."""
    s_centroid = float(np.dot(_unit(np.asarray(group.centroid, dtype=np.float32)), vector))
    members = group.members
    if members is None or len(members) == 0 or params.member_weight <= 0:
        return s_centroid
    s_member = float(np.max(np.asarray(members, dtype=np.float32) @ vector))
    w = params.member_weight
    return (1.0 - w) * s_centroid + w * s_member


def choose_group(
    vector: np.ndarray,
    candidates: GroupSnapshot | Sequence[GroupSnapshot],
    params: GroupingParams = DEFAULT_GROUPING,
) -> tuple[int | None, float]:
    """Pick the group ``vector`` belongs to, or ``None`` to open a new group.

    Returns ``(group_id or None, score)`` where score is the joining score of the chosen group, or
    of the best rejected candidate when ``None`` (0.0 without candidates) - useful for logging
    "nearly joined" decisions. ``vector`` should be unit length; the zero vector (empty text)
    never joins a group. Among groups above their threshold, the one with the largest margin over
    its own threshold wins; ties go to the earlier candidate.
    """
    if isinstance(candidates, GroupSnapshot):
        candidates = [candidates]
    vec = np.asarray(vector, dtype=np.float32).reshape(-1)
    if not candidates or not np.any(vec):
        return None, 0.0
    best_id: int | None = None
    best_margin = -math.inf
    best_score = 0.0
    top_rejected = -math.inf
    for cand in candidates:
        score = group_score(vec, cand, params)
        margin = score - threshold_for(cand.count, params)
        if margin >= 0.0:
            if margin > best_margin:
                best_id, best_margin, best_score = cand.id, margin, score
        elif score > top_rejected:
            top_rejected = score
    if best_id is None:
        return None, float(top_rejected) if top_rejected > -math.inf else 0.0
    return best_id, float(best_score)


def updated_centroid(centroid: np.ndarray, count: int, vector: np.ndarray) -> np.ndarray:
    """Running mean after adding ``vector`` to a group of ``count`` members (float32)."""
    c = np.asarray(centroid, dtype=np.float32)
    v = np.asarray(vector, dtype=np.float32)
    return ((c * count + v) / (count + 1)).astype(np.float32)


def shortlist(vector: np.ndarray, centroids: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` rows of ``centroids`` most similar to ``vector``, best first.

    Centroids are raw means; they are normalised here. Stable sort so equal scores keep insertion
    order, which is what makes the grouping deterministic.
    """
    if len(centroids) == 0:
        return np.zeros(0, dtype=np.int64)
    norms = np.linalg.norm(centroids, axis=1)
    norms[norms == 0] = 1.0
    sims = (centroids @ vector) / norms
    if len(sims) > n:
        part = np.argpartition(-sims, n - 1)[:n]
        order = part[np.lexsort((part, -sims[part]))]
    else:
        order = np.lexsort((np.arange(len(sims)), -sims))
    return np.asarray(order, dtype=np.int64)


class OnlineGrouper:
    """In-memory online grouping built on :func:`choose_group` / :func:`updated_centroid`.

    Group ids are 0, 1, 2, ... in order of creation. ``clean=True`` runs
    :func:`sirene.similarity.cleaning.clean_text` on texts passed to :meth:`add`.
    A text that is empty after cleaning opens its own group (it cannot be compared to anything).

    For speed it keeps unit-length copies of the centroids (the shortlist is then one
    matrix-vector product) and a fixed-size ring buffer of recent members per group; the decision
    itself is always :func:`choose_group` on :class:`GroupSnapshot` candidates.
    """

    def __init__(
        self, encoder: Encoder, params: GroupingParams = DEFAULT_GROUPING, clean: bool = True
    ) -> None:
        self.encoder = encoder
        self.params = params
        self.clean = clean
        dim = encoder.dim
        self._centroids = np.zeros((64, dim), dtype=np.float32)
        self._units = np.zeros((64, dim), dtype=np.float32)
        self._counts: list[int] = []
        keep = max(params.max_members, 1) if params.member_weight > 0 else 0
        self._keep = keep
        self._members = np.zeros((64, keep, dim), dtype=np.float32)
        self.assignments: list[int] = []
        self.scores: list[float] = []

    @property
    def n_groups(self) -> int:
        return len(self._counts)

    def counts(self) -> list[int]:
        return list(self._counts)

    def centroid(self, group_id: int) -> np.ndarray:
        centroid: np.ndarray = self._centroids[group_id].copy()
        return centroid

    def snapshot(self, group_id: int) -> GroupSnapshot:
        members = None
        if self._keep:
            n = min(self._counts[group_id], self._keep)
            members = self._members[group_id, :n]
        return GroupSnapshot(
            id=group_id, centroid=self._centroids[group_id], count=self._counts[group_id], members=members
        )

    def add(self, text: str) -> int:
        if self.clean:
            from sirene.similarity.cleaning import clean_text

            text = clean_text(text)
        return self.add_vector(self.encoder.encode([text])[0])

    def add_many(self, texts: Sequence[str]) -> list[int]:
        """Same decisions as calling :meth:`add` in order, but encodes in one batch (faster)."""
        if self.clean:
            from sirene.similarity.cleaning import clean_text

            texts = [clean_text(t) for t in texts]
        vecs = self.encoder.encode(list(texts))
        return [self.add_vector(v) for v in vecs]

    def add_vector(self, vec: np.ndarray) -> int:
        vec = np.asarray(vec, dtype=np.float32).reshape(-1)
        n = self.n_groups
        gid: int | None = None
        score = 0.0
        if n and np.any(vec):
            sims = self._units[:n] @ vec
            k = self.params.shortlist
            if n > k:
                part = np.argpartition(-sims, k - 1)[:k]
                idx = part[np.lexsort((part, -sims[part]))]
            else:
                idx = np.lexsort((np.arange(n), -sims))
            candidates = [self.snapshot(int(i)) for i in idx]
            gid, score = choose_group(vec, candidates, self.params)
        if gid is None:
            gid = self._open(vec)
        else:
            self._join(gid, vec)
        self.assignments.append(gid)
        self.scores.append(score)
        return gid

    def _grow(self) -> None:
        cap = 2 * len(self._centroids)
        for attr in ("_centroids", "_units", "_members"):
            old = getattr(self, attr)
            grown = np.zeros((cap, *old.shape[1:]), dtype=np.float32)
            grown[: len(old)] = old
            setattr(self, attr, grown)

    def _open(self, vec: np.ndarray) -> int:
        gid = self.n_groups
        if gid >= len(self._centroids):
            self._grow()
        self._centroids[gid] = vec
        self._units[gid] = _unit(vec)
        self._counts.append(1)
        if self._keep:
            self._members[gid, 0] = vec
        return gid

    def _join(self, gid: int, vec: np.ndarray) -> None:
        count = self._counts[gid]
        c = updated_centroid(self._centroids[gid], count, vec)
        self._centroids[gid] = c
        self._units[gid] = _unit(c)
        self._counts[gid] = count + 1
        if self._keep:
            # ring buffer: slot count % keep holds the oldest member once the buffer is full
            self._members[gid, count % self._keep] = vec
