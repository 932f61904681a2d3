"""Known problems: matching new cases against the knowledge base (issue: similarity + knowledge base)."""

from __future__ import annotations

from typing import Any

from sirene.cases.models import Case


def on_new_case(case: Case) -> None:
    """Called by the intake pipeline for every new case (inside its transaction)."""


def suggestions_for(case: Case) -> list[dict[str, Any]]:
    """Top known problems for this case, for the API and the case page."""
    return []


def similar_cases_for(case: Case) -> list[dict[str, Any]]:
    """Similar past cases and how they were solved."""
    return []
