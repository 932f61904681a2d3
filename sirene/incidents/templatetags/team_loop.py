"""`{% same_problem_questions warning as questions %}`: the reports near an early warning's problem
that the team may add by a yes (incidents/team_loop.py), for the Vorwarnung in the incident list."""

from __future__ import annotations

from typing import Any

from django import template

from sirene.incidents import team_loop
from sirene.incidents.models import EarlyWarning

register = template.Library()


@register.simple_tag
def same_problem_questions(warning: EarlyWarning) -> list[dict[str, Any]]:
    return [{"case": case, "likely": likely} for case, likely in team_loop.warning_questions(warning)]
