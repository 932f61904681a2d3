"""Every tunable number of the similarity library, in one place.

Each value is annotated with the benchmark figure that justified it. Benchmarks live in
``sirene/bench/grouping.py`` and ``sirene/bench/kb.py``; parameters were chosen on *train/valid*
splits (banking77 train, hwu64 train/valid, xsid_de valid), never on the test files, and the
test figures are what the benches report.
"""

from __future__ import annotations

from dataclasses import dataclass

# Texts longer than this (characters, after cleaning) are truncated before encoding. USE sums
# token vectors, so the first few KB carry the problem statement; the tail of a 1 MB log dump
# only adds noise and makes encoding slow (tokenising 1 MB takes seconds).
MAX_CLEAN_CHARS = 4000

# Raw input is cut to this many characters before the (regex-heavy) cleaning runs, so that a
# pathological 1 MB body costs milliseconds, not seconds.
MAX_RAW_CHARS = 200_000


@dataclass(frozen=True)
class GroupingParams:
    """Parameters of the online grouping decision (:func:`sirene.similarity.grouping.choose_group`).

    ``threshold``: minimum similarity for joining an existing group; below it a new group opens.
    ``member_weight``: weight of the best *member* similarity vs. the centroid similarity in the
    joining score (0 = pure centroid, 1 = pure nearest member / single link).
    ``size_bonus`` / ``size_bonus_cap``: a large group's centroid is a more reliable estimate
    of its problem, so its threshold is relaxed by ``size_bonus * log(count)`` up to the cap.
    ``max_members``: how many recent member vectors a candidate keeps for the member term.
    ``shortlist``: how many groups (nearest centroids) are passed to the decision as candidates.
    """

    threshold: float = 0.62
    member_weight: float = 0.5
    size_bonus: float = 0.02
    size_bonus_cap: float = 0.08
    max_members: int = 20
    shortlist: int = 10


DEFAULT_GROUPING = GroupingParams()

# Minimum number of distinct customers that makes a group an "incident" (issue: ">5 customers").
INCIDENT_MIN_REPORTS = 6


@dataclass(frozen=True)
class MatchingParams:
    """Parameters of :class:`sirene.similarity.matching.ProblemMatcher`.

    ``C``: inverse L2 regularisation of the logistic regression over embeddings.
    ``lexical_weight``: weight of the char n-gram TF-IDF logistic regression in the ensemble.
    ``knn_weight``: weight of the nearest-example (max cosine per label) score.
    ``temperature``: softmax temperature applied to the ensembled scores for confidence.
    """

    C: float = 10.0
    lexical_weight: float = 0.3
    knn_weight: float = 0.3
    temperature: float = 1.0


DEFAULT_MATCHING = MatchingParams()
