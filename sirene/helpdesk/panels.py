"""Context for this domain's panels (templates/<app>/case_panel.html, incident_panel.html)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from sirene.cases.models import Case
from sirene.incidents.models import Incident


def case_panel_context(request: HttpRequest, case: Case) -> dict[str, Any]:
    return {}


def incident_panel_context(request: HttpRequest, incident: Incident) -> dict[str, Any]:
    return {}
