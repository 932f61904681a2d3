"""Talking back to customers through the helpdesk (issue: Groove integration)."""

from __future__ import annotations

from sirene.cases.models import Case
from sirene.incidents.models import Incident


def on_case_status_changed(case: Case, old: str, new: str) -> None:
    """Called after a case's status changed (e.g. to open question: queue the holding reply)."""


def on_incident_resolved(incident: Incident) -> None:
    """Queue the resolution reply to every linked customer's ticket (exactly once per ticket)."""
