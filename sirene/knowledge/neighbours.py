"""Similar past cases: exact cosine over the embeddings of the most recent cases.

Reading 20k embeddings from the database for every case page took 420 ms on SQLite and 1.2 s on
PostgreSQL (measured on the 2-core dev box), so each process keeps the window's vectors in an
:class:`~sirene.similarity.ExactIndex` and only syncs the difference: the highest id and the
number of embedded cases tell whether anything arrived; only new cases' embeddings are read.
Anything unexpected (a deletion, a case analysed late, ids reused after a rollback: the
created_at of the newest known case no longer matches) rebuilds the index. A case's embedding is
written once at intake and never changes; the few candidates finally returned are re-scored from
the database anyway, so a stale entry can never show a wrong similarity.
"""

from __future__ import annotations

import threading
from datetime import datetime

import numpy as np
from django.db.models import Count, Max, Q, QuerySet

from sirene.cases.models import Case, Status
from sirene.similarity import ExactIndex

# The recent window searched exactly (see sirene/similarity/index.py for why exact search suffices).
CASE_WINDOW = 20_000
MIN_CASE_SIMILARITY = 0.5
# A solved case with a written solution is what an agent wants to see: it outranks an unsolved
# case unless that one is clearly closer.
SOLVED_BONUS = 0.05
SIMILAR_CASES = 5
FETCH_BATCH = 2_000


class _Window:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.index: ExactIndex | None = None
        self.dim = 0
        self.max_id = 0
        self.count = 0
        self.max_created: datetime | None = None

    def _embedded(self) -> QuerySet[Case]:
        return Case.objects.filter(embedding__isnull=False)

    def _load(self, ids: list[int]) -> None:
        assert self.index is not None
        width = self.dim * 4
        for start in range(0, len(ids), FETCH_BATCH):
            chunk = ids[start : start + FETCH_BATCH]
            got, blobs = [], []
            for pk, blob in Case.objects.filter(pk__in=chunk).values_list("id", "embedding"):
                # Embeddings from another encoder (other width) cannot be compared and are skipped.
                if blob is not None and len(blob) == width:
                    got.append(pk)
                    blobs.append(bytes(blob))
            if got:
                self.index.add(
                    got, np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(got), self.dim)
                )

    def sync(self, dim: int) -> None:
        """Bring the index up to date with as few reads as possible (usually two tiny queries)."""
        # One read: the newest id, the count, and the created_at of the newest case we know (an
        # embedding is never removed, so that case is still among the embedded ones unless deleted).
        stats = self._embedded().aggregate(
            max_id=Max("id"), count=Count("id"), known_created=Max("created_at", filter=Q(pk=self.max_id))
        )
        max_id, count = stats["max_id"] or 0, stats["count"]
        max_created = stats["known_created"]
        rebuild = self.index is None or self.dim != dim or max_created != self.max_created
        if not rebuild and (max_id, count) == (self.max_id, self.count):
            return
        new_ids: list[int] = []
        if not rebuild and max_id >= self.max_id:
            new_ids = list(self._embedded().filter(id__gt=self.max_id).values_list("id", flat=True))
            # Anything else changed (a deletion, an old case analysed late): start over.
            rebuild = self.count + len(new_ids) != count
        if rebuild:
            self.index, self.dim = ExactIndex(dim, capacity=1024), dim
            new_ids = list(self._embedded().order_by("-id").values_list("id", flat=True)[:CASE_WINDOW])
        self._load(new_ids)
        assert self.index is not None
        if len(self.index) > CASE_WINDOW:
            self.index.remove(sorted(int(pk) for pk in self.index.ids)[: len(self.index) - CASE_WINDOW])  # type: ignore[call-overload]
        self.max_id, self.count = max_id, count
        self.max_created = Case.objects.filter(pk=max_id).values_list("created_at", flat=True).first()

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        assert self.index is not None
        return [(int(pk), score) for pk, score in self.index.search(query, k)]  # type: ignore[call-overload]


_WINDOW = _Window()


def nearest_cases(case_id: int, vector: np.ndarray, k: int = SIMILAR_CASES) -> list[tuple[int, float]]:
    """Most similar other cases among the most recent :data:`CASE_WINDOW`, as (case id, cosine), best first."""
    return [(case.pk, sim) for case, sim in nearest_case_rows(case_id, vector, k)]


# What a similar case shows (subject, status, solution): read together with the embedding.
ROW_FIELDS = ("id", "embedding", "subject", "status", "solution", "solved_at")


def nearest_case_rows(case_id: int, vector: np.ndarray, k: int = SIMILAR_CASES) -> list[tuple[Case, float]]:
    """`nearest_cases` with the cases themselves (the fields in ROW_FIELDS), best first."""
    norm = float(np.linalg.norm(vector))
    if norm == 0:
        return []
    query = (vector / norm).astype(np.float32)
    shortlist = max(k * 10, 50)
    with _WINDOW.lock:
        _WINDOW.sync(len(query))
        hits = _WINDOW.search(query, shortlist + 1)
    candidates = [pk for pk, score in hits if pk != case_id and score >= MIN_CASE_SIMILARITY]
    if not candidates:
        return []
    # Re-score from the database: the rows shown are always exact, whatever the cache holds.
    scored: list[tuple[Case, float, bool]] = []
    for case in Case.objects.filter(pk__in=candidates).only(*ROW_FIELDS):
        blob = case.embedding
        if blob is None or len(blob) != query.nbytes:
            continue
        sim = float(np.frombuffer(bytes(blob), dtype=np.float32) @ query)
        if sim >= MIN_CASE_SIMILARITY:
            scored.append((case, sim, case.status == Status.SOLVED and bool(case.solution)))
    scored.sort(key=lambda item: (-(item[1] + (SOLVED_BONUS if item[2] else 0.0)), -item[0].pk))
    return [(case, sim) for case, sim, _solved in scored[:k]]


def reset_cache() -> None:
    with _WINDOW.lock:
        _WINDOW.index = None
