"""Known-problem matching: rank the known problems (labels) for a new report text.

A few labelled example phrasings per problem (the knowledge base) train a small ensemble:

* logistic regression over dense sentence embeddings (USE by default) - the main signal;
* cosine to per-label prototypes of hashed character n-grams - catches error codes, product names
  and German compounds that the dense model blurs (a prototype, not a second regression: a
  regression over 32k hashed features took ~50 s to fit and was no more accurate);
* nearest example (max cosine per label) - lets a single new phrasing take effect immediately
  even where the regression would need more examples to move.

The ensemble's weights live in :class:`~sirene.similarity.params.MatchingParams`. Refitting is cheap
(embeddings of examples are cached by text, so adding one phrasing encodes one text and refits two
linear model, warm-started from the previous solution when no new label was added).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from sirene.similarity.cleaning import clean_text
from sirene.similarity.encoders import CharNgramEncoder, Encoder, default_encoder
from sirene.similarity.params import DEFAULT_MATCHING, MatchingParams

__all__ = ["ProblemMatcher"]


def _softmax(z: np.ndarray, temperature: float) -> np.ndarray:
    z = z / max(temperature, 1e-6)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    probabilities: np.ndarray = e / e.sum(axis=-1, keepdims=True)
    return probabilities


class ProblemMatcher:
    """Few-shot classifier over labelled example phrasings.

    ``fit(examples)`` with ``(label, text)`` pairs; ``rank(text, k)`` returns up to ``k``
    ``(label, confidence)`` pairs, best first, confidence in [0, 1] (the ensemble's probability for
    that label; the confidences of all labels sum to 1). ``add_example`` appends one phrasing and
    refits. With no examples, ``rank`` returns ``[]``; an empty text (after cleaning) also returns
    ``[]`` ("no suggestion").
    """

    def __init__(
        self,
        encoder: Encoder | None = None,
        params: MatchingParams = DEFAULT_MATCHING,
        clean: bool = True,
        lexical_encoder: Encoder | None = None,
    ) -> None:
        self._encoder = encoder
        self.params = params
        self.clean = clean
        self.lexical = lexical_encoder if lexical_encoder is not None else CharNgramEncoder()
        self.labels: list[Hashable] = []
        self._examples: list[tuple[Hashable, str]] = []
        self._cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._dense_clf: Any = None
        self._dense_X: np.ndarray = np.zeros((0, 0), dtype=np.float32)
        self._y: np.ndarray = np.zeros(0, dtype=np.int64)

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            self._encoder = default_encoder()
        return self._encoder

    def _prep(self, text: str) -> str:
        return clean_text(text) if self.clean else (text or "").strip()

    def _vectors(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            dense = self.encoder.encode(missing)
            lex = self.lexical.encode(missing)
            for t, d, lx in zip(missing, dense, lex, strict=True):
                self._cache[t] = (d, lx)
        dense_rows = (
            np.stack([self._cache[t][0] for t in texts]) if texts else np.zeros((0, self.encoder.dim))
        )
        lex_rows = np.stack([self._cache[t][1] for t in texts]) if texts else np.zeros((0, self.lexical.dim))
        return dense_rows.astype(np.float32), lex_rows.astype(np.float32)

    def fit(self, examples: Sequence[tuple[Hashable, str]]) -> ProblemMatcher:
        self._examples = [(label, self._prep(text)) for label, text in examples]
        self._examples = [(label, t) for label, t in self._examples if t]
        self._refit()
        return self

    def add_example(self, label: Hashable, text: str) -> ProblemMatcher:
        t = self._prep(text)
        if t:
            self._examples.append((label, t))
            self._refit()
        return self

    def _refit(self) -> None:
        from sklearn.linear_model import LogisticRegression

        from sirene.similarity.encoders import l2_normalise

        labels = list(dict.fromkeys(label for label, _ in self._examples))
        same_labels = labels == self.labels and self._dense_clf is not None
        self.labels = labels
        index = {label: i for i, label in enumerate(self.labels)}
        texts = [t for _, t in self._examples]
        self._y = np.array([index[label] for label, _ in self._examples], dtype=np.int64)
        dense, lex = self._vectors(texts)
        self._dense_X = dense
        n_labels = len(self.labels)
        self._lex_proto = l2_normalise(
            np.stack([lex[self._y == j].mean(axis=0) for j in range(n_labels)])
            if n_labels
            else np.zeros((0, self.lexical.dim), dtype=np.float32)
        )
        if n_labels < 2:
            self._dense_clf = None
            return
        if same_labels:
            # adding a phrasing to a known problem: continue from the previous optimum, which
            # converges in a handful of iterations instead of a full fit
            self._dense_clf.fit(dense, self._y)
        else:
            self._dense_clf = LogisticRegression(C=self.params.C, max_iter=300, warm_start=True).fit(
                dense, self._y
            )

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """Ensemble probabilities, shape ``(len(texts), len(self.labels))``; zero rows for empty texts."""
        prepped = [self._prep(t) for t in texts]
        out = np.zeros((len(prepped), len(self.labels)), dtype=np.float64)
        keep = [i for i, t in enumerate(prepped) if t]
        if not keep or not self.labels:
            return out
        if len(self.labels) == 1:
            out[keep, 0] = 1.0
            return out
        dense = self.encoder.encode([prepped[i] for i in keep])
        p = self.params
        prob = self._dense_clf.predict_proba(dense)
        weight = 1.0
        if p.lexical_weight > 0:
            lex = self.lexical.encode([prepped[i] for i in keep])
            prob = prob + p.lexical_weight * _softmax(lex @ self._lex_proto.T, p.temperature)
            weight += p.lexical_weight
        if p.knn_weight > 0:
            sims = dense @ self._dense_X.T
            best = np.full((len(keep), len(self.labels)), -1.0)
            for j in range(len(self.labels)):
                best[:, j] = sims[:, self._y == j].max(axis=1)
            prob = prob + p.knn_weight * _softmax(best, p.temperature)
            weight += p.knn_weight
        out[keep] = prob / weight
        return out

    def rank_many(self, texts: Sequence[str], k: int = 3) -> list[list[tuple[Hashable, float]]]:
        # chunks bound peak memory: the 32k-wide lexical rows are dense while scored (the full
        # banking77 test set in one go peaked at ~1.5 GB RSS)
        probs = np.vstack(
            [self.scores(texts[i : i + 256]) for i in range(0, len(texts), 256)] or [np.zeros((0, 0))]
        )
        result: list[list[tuple[Hashable, float]]] = []
        for row in probs:
            if not row.any():
                result.append([])
                continue
            order = np.argsort(-row, kind="stable")[:k]
            result.append([(self.labels[j], float(row[j])) for j in order])
        return result

    def rank(self, text: str, k: int = 3) -> list[tuple[Hashable, float]]:
        return self.rank_many([text], k)[0]
