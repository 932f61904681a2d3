"""Exact cosine top-k search over unit vectors, in numpy.

Design note (scaling to 1M stored cases)
----------------------------------------
Measured on the 2-core dev box with ``python -m sirene.similarity.index`` (dim 512, float32, one
query at a time, one BLAS thread, top-10; the box was shared with other jobs at load average ~7,
so treat these as upper bounds):

=========  ==============  ============
vectors    latency/query   matrix RAM
=========  ==============  ============
10,000     8.5 ms          19.5 MiB
100,000    56 ms           195 MiB
1,000,000  877 ms          1,953 MiB
=========  ==============  ============

Exact search is one matrix-vector product: linear in the number of vectors and memory-bandwidth
bound (2 KiB per vector). Fine for 10^4-10^5 vectors; at 1M it needs ~2 GB per process and close
to a second per query - not acceptable for interactive suggestions or for every web worker.

Hence the layering used by sirene:

* the *recent window* (open cases of the last weeks, i.e. 10^3-10^5 vectors) lives in an
  :class:`ExactIndex`: exact, no tuning, no extra dependency, and fast enough;
* the *history* (up to millions of closed cases) belongs in the database: on PostgreSQL
  ``pgvector`` (``vector(512)`` column + HNSW index, ``ORDER BY embedding <=> :q LIMIT k``) so
  that search, filtering by tenant/date and transactions stay in one place; for a local/SQLite
  deployment ``sqlite-vec`` or a ``usearch`` HNSW file give the same interface. An HNSW index
  answers 1M x 512 queries in ~1 ms at recall > 0.95; storing vectors as float16 or int8 halves or
  quarters the memory with no measurable loss for cosine ranking.
* group centroids (one per problem group, thousands at most) are always searched exactly.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence

import numpy as np

__all__ = ["ExactIndex"]


class ExactIndex:
    """Exact cosine top-k over L2-normalised float32 vectors with add/remove by id.

    Vectors are stored in a growable contiguous matrix (amortised O(1) append); removal swaps the
    last row into the freed slot so the matrix stays dense and search is one GEMV. Vectors are
    normalised on insert, so scores are cosines even if callers pass raw vectors.
    """

    def __init__(self, dim: int, capacity: int = 1024) -> None:
        self.dim = dim
        self._mat = np.zeros((max(capacity, 1), dim), dtype=np.float32)
        self._ids: list[Hashable] = []
        self._pos: dict[Hashable, int] = {}

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, item: Hashable) -> bool:
        return item in self._pos

    @property
    def ids(self) -> list[Hashable]:
        return list(self._ids)

    def vectors(self) -> np.ndarray:
        return self._mat[: len(self._ids)]

    def _grow(self, needed: int) -> None:
        cap = len(self._mat)
        if needed <= cap:
            return
        while cap < needed:
            cap *= 2
        grown = np.zeros((cap, self.dim), dtype=np.float32)
        grown[: len(self._ids)] = self._mat[: len(self._ids)]
        self._mat = grown

    def add(self, ids: Sequence[Hashable], vectors: np.ndarray) -> None:
        """Add (or replace) vectors by id."""
        vecs = np.asarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        if len(ids) != len(vecs):
            raise ValueError(f"{len(ids)} ids but {len(vecs)} vectors")
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        vecs = vecs / norms
        for ident, vec in zip(ids, vecs, strict=True):
            pos = self._pos.get(ident)
            if pos is None:
                self._grow(len(self._ids) + 1)
                pos = len(self._ids)
                self._ids.append(ident)
                self._pos[ident] = pos
            self._mat[pos] = vec

    def remove(self, ids: Iterable[Hashable]) -> int:
        """Remove ids (unknown ids are ignored); returns how many were removed."""
        removed = 0
        for ident in ids:
            pos = self._pos.pop(ident, None)
            if pos is None:
                continue
            last = len(self._ids) - 1
            if pos != last:
                moved = self._ids[last]
                self._ids[pos] = moved
                self._mat[pos] = self._mat[last]
                self._pos[moved] = pos
            self._ids.pop()
            self._mat[last] = 0.0
            removed += 1
        return removed

    def search(self, vector: np.ndarray, k: int = 10) -> list[tuple[Hashable, float]]:
        """The ``k`` most similar stored ids with cosine scores, best first (ties: insertion slot)."""
        n = len(self._ids)
        if n == 0 or k <= 0:
            return []
        q = np.asarray(vector, dtype=np.float32).reshape(-1)
        qn = float(np.linalg.norm(q))
        if qn == 0:
            return []
        sims = self._mat[:n] @ (q / qn)
        k = min(k, n)
        if k < n:
            top = np.argpartition(-sims, k - 1)[:k]
        else:
            top = np.arange(n)
        top = top[np.lexsort((top, -sims[top]))]
        return [(self._ids[i], float(sims[i])) for i in top]

    def search_many(self, vectors: np.ndarray, k: int = 10) -> list[list[tuple[Hashable, float]]]:
        """Batched :meth:`search` (one GEMM instead of many GEMVs)."""
        qs = np.asarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        n = len(self._ids)
        if n == 0 or k <= 0:
            return [[] for _ in range(len(qs))]
        norms = np.linalg.norm(qs, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        sims = (qs / norms) @ self._mat[:n].T
        k = min(k, n)
        out: list[list[tuple[Hashable, float]]] = []
        for row, q in zip(sims, qs, strict=True):
            if not np.any(q):
                out.append([])
                continue
            top = np.argpartition(-row, k - 1)[:k] if k < n else np.arange(n)
            top = top[np.lexsort((top, -row[top]))]
            out.append([(self._ids[i], float(row[i])) for i in top])
        return out


def _measure(sizes: Sequence[int] = (10_000, 100_000, 1_000_000), dim: int = 512, queries: int = 50) -> None:
    """Print latency per query and memory of exact search (used for the design note above)."""
    import time

    rng = np.random.default_rng(0)
    for n in sizes:
        mat = rng.standard_normal((n, dim), dtype=np.float32)
        mat /= np.linalg.norm(mat, axis=1, keepdims=True)
        idx = ExactIndex(dim, capacity=n)
        idx._mat = mat  # bypass per-row add for the measurement; add() is tested elsewhere
        idx._ids = list(range(n))
        idx._pos = {i: i for i in range(n)}
        q = rng.standard_normal((queries, dim), dtype=np.float32)
        idx.search(q[0], 10)
        t0 = time.perf_counter()
        for row in q:
            idx.search(row, 10)
        dt = (time.perf_counter() - t0) / queries
        print(f"n={n:>9,} dim={dim}: {dt * 1000:8.2f} ms/query, matrix {mat.nbytes / 2**20:8.1f} MiB")
        del mat, idx


if __name__ == "__main__":
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, "blas"):
        _measure()
