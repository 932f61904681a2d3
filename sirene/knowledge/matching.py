"""Ranking known problems for a text (similar past cases: see neighbours.py).

The fitted :class:`~sirene.similarity.ProblemMatcher` is cached once per process under the
knowledge base's change token (:class:`~sirene.knowledge.models.KnowledgeState`, a digest of the
training examples): the token is one primary-key read per match, and any write to the KB in any
process changes it, so every process refits on its next match. Refitting re-encodes only texts it has not seen (a text → vector cache survives
refits), so learning one phrasing costs one encode plus two small linear fits.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sirene.knowledge.models import KnowledgeState, KnownProblem, MatchOutcome, Phrasing

# --- Thresholds of the knowledge base (the similarity engine's own live in sirene/similarity/params.py).
# The matcher's confidences are relative (they sum to 1 over all problems), so even a text about
# the weather gets a "best" problem. An absolute gate on the multilingual USE cosine between the
# case and the problem's nearest example phrasing (or title) stops that. Measured on the starter
# set: paraphrases of the same problem (German or English) score 0.45-0.85, unrelated support
# texts 0.0-0.30.
MIN_EXAMPLE_SIMILARITY = 0.35
# Between these two cosines the confidence is scaled down linearly (a borderline match is shown
# with a lower confidence); at FULL_SIMILARITY and above the matcher's probability stands.
FULL_SIMILARITY = 0.55
# Suggestions below this confidence are noise next to the first one and are not shown.
MIN_CONFIDENCE = 0.05
TOP_K = 3
# The gate for an agent's own search (short keyword queries sit lower than whole e-mails).
SEARCH_FLOOR = 0.2


# The KB's matcher refits inside a request whenever the KB changes (a confirmation, an edit), so the
# fit must take well under a second on a busy 2-core box. The library's default lexical signal
# (2^15 hashed char n-grams) made the lexical logistic regression take ~3 s for the 14-problem starter
# set; 4,096 dimensions fit in ~0.7 s with the same rankings on the starter set. banking77, 10 shots
# per problem (77 problems), test set, same run on the shared 2-core box: 2^15 dims top-1 80.5 % /
# top-3 94.0 %, fit 90.7 s; 4,096 dims top-1 80.5 % / top-3 93.8 %, fit 30.8 s.
LEXICAL_DIM = 4096


class _CachingEncoder:
    """Wraps the process-wide encoder with a text → vector cache for the KB's example texts.

    ``seed`` lets the caller hand in a vector it already has (the case's stored embedding), so the
    matcher does not encode the case text a second time.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.cache: dict[str, np.ndarray] = {}
        self.seeded: dict[str, np.ndarray] = {}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache and t not in self.seeded]
        fresh: dict[str, np.ndarray] = {}
        if missing:
            for text, vec in zip(missing, self.inner.encode(missing), strict=True):
                fresh[text] = np.asarray(vec, dtype=np.float32)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            vec = self.seeded.get(text)
            if vec is None:
                vec = self.cache.get(text)
            if vec is None:
                vec = fresh[text]
            out[i] = vec
        return out

    def remember(self, texts: Sequence[str]) -> np.ndarray:
        """Encode and keep (used for the KB's examples only, never for case texts)."""
        vecs = self.encode(texts)
        for text, vec in zip(texts, vecs, strict=True):
            self.cache[text] = vec
        return vecs


@dataclass
class Fitted:
    token: str
    matcher: Any  # ProblemMatcher, or None for an empty knowledge base
    labels: list[int] = field(default_factory=list)
    example_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    example_labels: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


@dataclass
class Ranking:
    outcome: MatchOutcome
    best_similarity: float
    token: str
    # (known problem id, confidence, nearest-example cosine), best first
    items: list[tuple[int, float, float]] = field(default_factory=list)


_LOCK = threading.RLock()
_FITTED: Fitted | None = None
_ENCODER: _CachingEncoder | None = None


def _one_thread() -> Any:
    """BLAS/OpenMP pinned to one thread while fitting/scoring.

    With the default two threads on a 2-core box that is busy with the web server and the worker,
    the threads spin against each other: a logistic-regression fit measured 1.7 s instead of 0.2 s.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1)


def current_token() -> str:
    token = KnowledgeState.objects.filter(pk=1).values_list("token", flat=True).first()
    return token or "empty"


def _encoder() -> _CachingEncoder:
    global _ENCODER
    if _ENCODER is None:
        from sirene.similarity import default_encoder

        _ENCODER = _CachingEncoder(default_encoder())
    return _ENCODER


def examples() -> list[tuple[int, str]]:
    """(known problem id, text) pairs the matcher learns from: titles and example phrasings."""
    pairs: list[tuple[int, str]] = []
    for pk, title, title_en in KnownProblem.objects.filter(active=True).values_list(
        "pk", "title", "title_en"
    ):
        pairs.append((pk, title))
        if title_en:
            pairs.append((pk, title_en))
    pairs.extend(
        Phrasing.objects.filter(known_problem__active=True)
        .order_by("id")
        .values_list("known_problem_id", "text")
    )
    return pairs


def examples_digest() -> str:
    import hashlib

    digest = hashlib.sha256()
    for label, text in examples():
        digest.update(f"{label}\x1f{text}\x1e".encode())
    return digest.hexdigest()[:40]


def fitted() -> Fitted:
    """The matcher for the current knowledge base, refitted when the KB's token changed."""
    global _FITTED
    token = current_token()
    with _LOCK:
        if _FITTED is not None and _FITTED.token == token:
            return _FITTED
        from sirene.similarity import ProblemMatcher, clean_text

        enc = _encoder()
        pairs = [(label, clean_text(text)) for label, text in examples()]
        pairs = [(label, text) for label, text in pairs if text]
        if not pairs:
            _FITTED = Fitted(token=token, matcher=None)
            return _FITTED
        # Drop cached vectors of texts that left the KB, so the cache does not grow forever.
        keep = {text for _, text in pairs}
        enc.cache = {t: v for t, v in enc.cache.items() if t in keep}
        vectors = enc.remember([text for _, text in pairs])
        from sirene.similarity import HashingEncoder

        lexical = HashingEncoder(dim=LEXICAL_DIM, ngram_range=(2, 4), name="kb-char-ngrams")
        with _one_thread():
            matcher = ProblemMatcher(encoder=enc, lexical_encoder=lexical).fit(pairs)
        labels = list(dict.fromkeys(label for label, _ in pairs))
        index = {label: i for i, label in enumerate(labels)}
        _FITTED = Fitted(
            token=token,
            matcher=matcher,
            labels=labels,
            example_vectors=vectors,
            example_labels=np.array([index[label] for label, _ in pairs], dtype=np.int64),
        )
        return _FITTED


def _closeness(similarity: float, floor: float) -> float:
    span = FULL_SIMILARITY - floor
    if span <= 0:
        return 1.0
    return float(min(1.0, max(0.0, (similarity - floor) / span)))


def rank(
    clean: str, vector: np.ndarray | None = None, k: int = TOP_K, floor: float = MIN_EXAMPLE_SIMILARITY
) -> Ranking:
    """Rank known problems for an already-cleaned text; ``vector`` is its embedding if known.

    ``floor`` is the absolute similarity gate; an agent's search passes a lower one, because a
    few typed keywords are never as close to a full customer phrasing as another e-mail is.
    """
    state = fitted()
    if not clean.strip():
        return Ranking(MatchOutcome.EMPTY_TEXT, 0.0, state.token)
    if state.matcher is None:
        return Ranking(MatchOutcome.NO_KNOWN_PROBLEMS, 0.0, state.token)
    with _LOCK:
        enc = _encoder()
        if vector is None or vector.shape != (enc.dim,) or not np.any(vector):
            vector = enc.encode([clean])[0]
        if not np.any(vector):
            return Ranking(MatchOutcome.EMPTY_TEXT, 0.0, state.token)
        enc.seeded[clean] = vector
        try:
            with _one_thread():
                probs = state.matcher.scores([clean])[0]
        finally:
            enc.seeded.pop(clean, None)
        sims = state.example_vectors @ vector
        best = np.full(len(state.labels), -1.0)
        np.maximum.at(best, state.example_labels, sims)
        labels: list[Hashable] = list(state.matcher.labels)
    best_similarity = float(best.max()) if len(best) else 0.0
    position = {label: i for i, label in enumerate(state.labels)}
    items: list[tuple[int, float, float]] = []
    for j, label in enumerate(labels):
        sim = float(best[position[int(label)]])  # type: ignore[call-overload]
        if sim < floor:
            continue
        confidence = float(probs[j]) * _closeness(sim, floor)
        if confidence >= MIN_CONFIDENCE:
            items.append((int(label), round(confidence, 4), round(sim, 4)))  # type: ignore[call-overload]
    items.sort(key=lambda item: (-item[1], -item[2], item[0]))
    if not items:
        return Ranking(MatchOutcome.NOT_CLOSE_ENOUGH, best_similarity, state.token)
    return Ranking(MatchOutcome.MATCHED, best_similarity, state.token, items[:k])


def reset_cache() -> None:
    """Forget the fitted matcher (tests; after swapping the encoder)."""
    global _FITTED
    with _LOCK:
        _FITTED = None
