"""A case's text as a vector: clean + embed on intake, and the stored float32 bytes read back.

A cases-level utility (it depends only on the pure similarity library), so grouping, the brief and the
knowledge base can read `case_vector` without importing the intake flow.
"""

from __future__ import annotations

import numpy as np

from sirene.cases.models import Case
from sirene.similarity import clean_report, default_encoder


def embed(subject: str, body: str) -> tuple[str, np.ndarray]:
    """The cleaned report (subject first, reply prefixes dropped; greeting, closing, signature,
    device footer and quotes cut from the body) and its vector."""
    cleaned = clean_report(subject, body)
    vector = default_encoder().encode([cleaned])[0].astype(np.float32)
    return cleaned, vector


def case_vector(case: Case) -> np.ndarray | None:
    if not case.embedding:
        return None
    return np.frombuffer(bytes(case.embedding), dtype=np.float32)


def encoder_name() -> str:
    """The name stored with every embedding `embed` makes (`Case.encoder`)."""
    return default_encoder().name
