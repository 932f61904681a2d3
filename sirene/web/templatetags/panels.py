"""`{% case_panels case as panels %}` and `{% incident_panel incident "escalation" as panel %}`: the
apps' panels for the case and incident pages, composed in `sirene.web.panels`; the page template then
includes `panel.template` with `panel.context`."""

from __future__ import annotations

from typing import Any

from django import template

from sirene.cases.models import Case
from sirene.incidents.models import Incident
from sirene.web import panels

register = template.Library()


@register.simple_tag(takes_context=True)
def case_panels(context: Any, case: Case) -> list[dict[str, Any]]:
    return panels.case_panels(context["request"], case)


@register.simple_tag(takes_context=True)
def incident_panel(context: Any, incident: Incident, name: str) -> dict[str, Any]:
    return panels.incident_panel(context["request"], incident, name)
