"""Page composition: which app contributes which panel to the case page and the incident page.

`web/` is the composition root, the one layer allowed to know every app. The panels themselves stay
in each app (`<app>/panels.py` for the context, `templates/<app>/case_panel.html` and
`incident_panel.html` for the markup); the case and incident templates place them with the
`{% case_panels %}` / `{% incident_panel %}` tags (`web/templatetags/panels.py`), so `cases/` and
`incidents/` never import the apps that sit above them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from sirene.cases.models import Case
from sirene.escalation import panels as escalation_panels
from sirene.helpdesk import panels as helpdesk_panels
from sirene.helpdesk import services as helpdesk_services
from sirene.incidents import panels as incidents_panels
from sirene.incidents import team_loop
from sirene.incidents.models import Incident
from sirene.knowledge import panels as knowledge_panels
from sirene.troubleshooting import panels as troubleshooting_panels

CasePanel = Callable[[HttpRequest, Case], "dict[str, Any] | None"]
IncidentPanel = Callable[[HttpRequest, Incident], "dict[str, Any] | None"]

def _incidents_case_panel(request: HttpRequest, case: Case) -> dict[str, Any] | None:
    # The single-case ready reply uses the confirmed known problem's customer hints (knowledge), in the
    # voice of this customer's conversation, and is sent through the reply queue (helpdesk).
    has_ticket = helpdesk_services.ticket_number(case) is not None
    return incidents_panels.case_panel_context(
        request,
        case,
        knowledge_panels.confirmed_problem(case),
        which=helpdesk_services.voice_for(case),
        send_url=reverse("helpdesk:case_reply", args=[case.pk]) if has_ticket else "",
    )


# In page order. A context of None hides the panel for that case.
CASE_PANELS: list[tuple[str, CasePanel]] = [
    # "Gleiches Problem wie …?" and „Störung eröffnen“ (issue 18): first, the question is the news
    ("incidents/same_problem_panel.html", lambda request, case: team_loop.case_panel_context(case)),
    ("incidents/case_panel.html", _incidents_case_panel),
    ("knowledge/case_panel.html", knowledge_panels.case_panel_context),
    ("troubleshooting/case_panel.html", troubleshooting_panels.case_panel_context),
    ("helpdesk/case_panel.html", helpdesk_panels.case_panel_context),
]
INCIDENT_PANELS: dict[str, tuple[str, IncidentPanel]] = {
    "escalation": ("escalation/incident_panel.html", escalation_panels.incident_panel_context),
    "helpdesk": ("helpdesk/incident_panel.html", helpdesk_panels.incident_panel_context),
    # the near miss and the team's answers, in the brief (issue 18)
    "team_loop": (
        "incidents/team_loop_incident_panel.html",
        lambda request, incident: team_loop.incident_panel_context(incident),
    ),
}


def case_panels(request: HttpRequest, case: Case) -> list[dict[str, Any]]:
    panels = []
    for template, context_of in CASE_PANELS:
        context = context_of(request, case)
        if context is not None:
            panels.append({"template": template, "context": context})
    return panels


def incident_panel(request: HttpRequest, incident: Incident, name: str) -> dict[str, Any]:
    template, context_of = INCIDENT_PANELS[name]
    return {"template": template, "context": context_of(request, incident)}
