"""`{% same_problem_questions warning as questions %}`: the reports near an early warning's problem
that the team may add by a yes (incidents/team_loop.py), for the Vorwarnung in the incident list."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from sirene.core import clock
from sirene.incidents import team_loop
from sirene.incidents.models import EarlyWarning

register = template.Library()


@register.simple_tag
def same_problem_questions(warning: EarlyWarning) -> list[dict[str, Any]]:
    return [{"case": case, "likely": likely} for case, likely in team_loop.warning_questions(warning)]


@register.simple_tag
def team_answer_totals(months_back: int = 12) -> dict[str, int]:
    """The team's answers in the metrics page's period (calendar months, as the page counts)."""
    from datetime import datetime

    today = timezone.localtime(clock.now()).date()
    year, month = today.year, today.month - (int(months_back) - 1)
    while month <= 0:
        year, month = year - 1, month + 12
    return team_loop.totals(since=timezone.make_aware(datetime(year, month, 1)))
