"""A case's text as a vector: clean + embed on intake, and the stored float32 bytes read back.

A cases-level utility (it depends only on the pure similarity library), so grouping, the brief and the
knowledge base can read `case_vector` without importing the intake flow.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from datetime import datetime, timedelta

import numpy as np
from django.db.models.functions import Length

from sirene.cases.models import Case
from sirene.similarity import clean_report, default_encoder
from sirene.similarity.cleaning import common_lines, report_keys
from sirene.similarity.params import BOILERPLATE_DAYS, BOILERPLATE_MAX_REPORTS


def embed(subject: str, body: str, *, common: Collection[str] = frozenset()) -> tuple[str, np.ndarray]:
    """The cleaned report (subject first, reply prefixes dropped; greeting, closing, signature,
    device footer, quotes and the recent reports' boilerplate lines `common` cut from the body) and
    its vector."""
    cleaned = clean_report(subject, body, common=common)
    vector = default_encoder().encode([cleaned])[0].astype(np.float32)
    return cleaned, vector


# The line keys of a case never change (subject and body are stored once), so each process computes
# them once per case. The cache key is the id with what tells a reused id apart (SQLite hands a
# rolled-back id out again; a test database starts over): received time, subject, body length.
# Bounded: the oldest half goes when it is full.
_CacheKey = tuple[int, datetime, str, int]
_KEYS: dict[_CacheKey, frozenset[str]] = {}
_KEYS_MAX = 4 * BOILERPLATE_MAX_REPORTS
_KEYS_LOCK = threading.Lock()
_FETCH_CHUNK = 500  # ids per `IN (...)` query (SQLite's variable limit is 999 on old builds)


def recent_boilerplate(case: Case) -> frozenset[str]:
    """The boilerplate lines (:func:`sirene.similarity.cleaning.common_lines`) of `case` among the reports
    received in the BOILERPLATE_DAYS before it (at most the BOILERPLATE_MAX_REPORTS latest): what several
    different customers sent verbatim — a company's signature, a disclaimer, a chat bot's lines."""
    own = report_keys(case.subject, case.body)
    since = case.received_at - timedelta(days=BOILERPLATE_DAYS)
    rows = [
        ((pk, received, subject, int(length or 0)), customer)
        for pk, received, subject, length, customer in Case.objects.filter(
            received_at__gte=since, received_at__lte=case.received_at
        )
        .exclude(pk=case.pk)
        .order_by("-received_at", "-id")
        .values_list("id", "received_at", "subject", Length("body"), "customer_id")[:BOILERPLATE_MAX_REPORTS]
    ]
    with _KEYS_LOCK:
        missing = [key for key, _ in rows if key not in _KEYS]
    for start in range(0, len(missing), _FETCH_CHUNK):
        chunk = {key[0]: key for key in missing[start : start + _FETCH_CHUNK]}
        fetched = {
            chunk[pk]: report_keys(subject, body)
            for pk, subject, body in Case.objects.filter(pk__in=list(chunk)).values_list("id", "subject", "body")
        }
        with _KEYS_LOCK:
            _KEYS.update(fetched)
            if len(_KEYS) > _KEYS_MAX:
                for old in list(_KEYS)[: len(_KEYS) // 2]:
                    del _KEYS[old]
    with _KEYS_LOCK:
        recent = [(str(customer), _KEYS[key] & own) for key, customer in rows if key in _KEYS]
    return common_lines(recent)


def case_vector(case: Case) -> np.ndarray | None:
    if not case.embedding:
        return None
    return np.frombuffer(bytes(case.embedding), dtype=np.float32)


def encoder_name() -> str:
    """The name stored with every embedding `embed` makes (`Case.encoder`)."""
    return default_encoder().name
