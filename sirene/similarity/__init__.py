"""Pure similarity library of sirene (no Django imports, ever).

Public API (import from the submodules or from here):

* cleaning: :func:`clean_text`, :func:`clean_report`
* encoders: :class:`Encoder` (protocol), :func:`default_encoder`, :class:`USEEncoder`,
  :class:`HashingEncoder`, :class:`SentenceTransformerEncoder`
* grouping: :class:`GroupSnapshot`, :func:`choose_group`, :func:`updated_centroid`,
  :func:`shortlist`, :class:`OnlineGrouper`
* index: :class:`ExactIndex`
* matching: :class:`ProblemMatcher`
* params: :class:`GroupingParams`, :class:`MatchingParams` and all thresholds
"""

from __future__ import annotations

from sirene.similarity.cleaning import clean_report, clean_text
from sirene.similarity.encoders import (
    Encoder,
    HashingEncoder,
    SentenceTransformerEncoder,
    USEEncoder,
    default_encoder,
)
from sirene.similarity.grouping import GroupSnapshot, OnlineGrouper, choose_group, shortlist, updated_centroid
from sirene.similarity.index import ExactIndex
from sirene.similarity.matching import ProblemMatcher
from sirene.similarity.params import DEFAULT_GROUPING, DEFAULT_MATCHING, GroupingParams, MatchingParams

__all__ = [
    "DEFAULT_GROUPING",
    "DEFAULT_MATCHING",
    "Encoder",
    "ExactIndex",
    "GroupSnapshot",
    "GroupingParams",
    "HashingEncoder",
    "MatchingParams",
    "OnlineGrouper",
    "ProblemMatcher",
    "SentenceTransformerEncoder",
    "USEEncoder",
    "choose_group",
    "clean_report",
    "clean_text",
    "default_encoder",
    "shortlist",
    "updated_centroid",
]
