"""Response models that combine several domains: the case detail of the case API shows the case
with what the knowledge base and incidents know about it (the shapes `cases.related` returns)."""

from __future__ import annotations

from typing import Any, Literal

from sirene.cases.models import Case, CaseEvent
from sirene.cases.schemas import CaseEventOut, CaseOut
from sirene.core.schemas import IsoDateTime
from sirene.incidents import services as incidents
from sirene.incidents.schemas import IncidentSummaryOut
from sirene.knowledge import services as knowledge
from sirene.knowledge.schemas import SimilarCaseOut, SuggestionOut


class CaseDetailOut(CaseOut):
    body: str
    reproduced_note: str
    solution: str
    solved_at: IsoDateTime | None
    suggestions: list[SuggestionOut]
    similar_cases: list[SimilarCaseOut]
    incident: IncidentSummaryOut | None
    history: list[CaseEventOut]

    @staticmethod
    def resolve_suggestions(obj: Case) -> list[dict[str, Any]]:
        return knowledge.suggestions_for(obj)

    @staticmethod
    def resolve_similar_cases(obj: Case) -> list[dict[str, Any]]:
        return knowledge.similar_cases_for(obj)

    @staticmethod
    def resolve_incident(obj: Case) -> dict[str, Any] | None:
        return incidents.incident_summary_for(obj)

    @staticmethod
    def resolve_history(obj: Case) -> list[CaseEvent]:
        return list(obj.events.select_related("actor"))


class CaseIntakeOut(CaseDetailOut):
    tracked: Literal[True]
    created: bool
