"""Context for this domain's panel on the case page (rendered from templates/<app>/case_panel.html)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from sirene.cases.models import Case
from sirene.knowledge import services


def case_panel_context(request: HttpRequest, case: Case) -> dict[str, Any]:
    return {
        "case": case,
        "suggestions": services.suggestions_for(case),
        "reason": services.match_reason(case),
        "similar": services.similar_cases_for(case),
    }


def confirmed_problem(case: Case) -> tuple[str, str] | None:
    """(title, customer hints) of the known problem an agent confirmed for this case, if any."""
    from sirene.knowledge.models import Suggestion, SuggestionState

    hit = (
        Suggestion.objects.filter(case=case, state=SuggestionState.CONFIRMED)
        .select_related("known_problem")
        .order_by("-decided_at", "rank")
        .first()
    )
    return (hit.known_problem.title, hit.known_problem.customer_hints) if hit is not None else None
