"""Response models of the knowledge API (and the knowledge parts of the case API)."""

from __future__ import annotations

from typing import Any

from ninja import Schema

from sirene.core.schemas import IsoDateTime
from sirene.knowledge.models import KnownProblem


class PhrasingOut(Schema):
    text: str
    source: str
    case_id: int | None


class ProblemOut(Schema):
    id: int
    key: str
    title: str
    title_en: str
    category: str
    symptoms: str
    solution_steps: str
    customer_hints: str
    articles: list[dict[str, Any]]
    active: bool
    updated_at: IsoDateTime
    url: str

    @staticmethod
    def resolve_url(obj: KnownProblem) -> str:
        return obj.get_absolute_url()


class ProblemDetailOut(ProblemOut):
    phrasings: list[PhrasingOut]


class ProblemListOut(Schema):
    items: list[ProblemOut]


class SearchResultOut(Schema):
    known_problem_id: int
    key: str
    title: str
    title_en: str
    category: str
    score: float
    matched_by: list[str]
    solution_steps: str
    url: str


class SearchOut(Schema):
    q: str
    results: list[SearchResultOut]


class SuggestionOut(Schema):
    id: int
    known_problem_id: int
    title: str
    title_en: str
    category: str
    confidence: float
    rank: int
    solution_steps: str
    customer_hints: str
    articles: list[dict[str, Any]]
    articles_already_read: list[dict[str, Any]]
    state: str
    url: str


class SimilarCaseOut(Schema):
    case_id: int
    subject: str
    similarity: float
    status: str
    solution: str
    solved_at: IsoDateTime | None
    url: str


class MatchOut(Schema):
    """Why a case has its suggestions; `best_similarity` and `computed_at` once it was analysed."""

    outcome: str
    reason: str
    stale: bool
    best_similarity: float | None = None
    computed_at: IsoDateTime | None = None


class CaseKnowledgeOut(Schema):
    case_id: int
    suggestions: list[SuggestionOut]
    match: MatchOut
    similar_cases: list[SimilarCaseOut]


class RecomputeOut(Schema):
    case_id: int
    suggestions: list[SuggestionOut]
    match: MatchOut


class DecisionOut(Schema):
    suggestion: SuggestionOut
    case_category: str


class ExportProblemOut(Schema):
    key: str
    title: str
    title_en: str
    category: str
    symptoms: str
    solution_steps: str
    customer_hints: str
    articles: list[dict[str, Any]]
    phrasings: list[str]
    active: bool = True  # only written (false) for inactive problems


class ExportOut(Schema):
    version: int
    known_problems: list[ExportProblemOut]


class ImportOut(Schema):
    created: int
    updated: int
    unchanged: int
    phrasings_added: int


class ArticleViewOut(Schema):
    id: int
    article: str
    title: str
    viewed_at: IsoDateTime
    source: str


class ArticleViewCreatedOut(ArticleViewOut):
    created: bool


class ArticleViewsOut(Schema):
    customer_id: int
    items: list[ArticleViewOut]
