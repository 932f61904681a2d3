"""Escalation runs (issue: escalation). Incident lifecycle events arrive here as plain calls."""

from __future__ import annotations

from sirene.incidents.models import Incident


def on_incident_opened(incident: Incident) -> None:
    """Start the escalation run for a newly opened incident (policy frozen into the run)."""


def on_incident_acknowledged(incident: Incident) -> None:
    """Stop further escalation steps and update the Slack message."""


def on_incident_resolved(incident: Incident) -> None:
    """Post the final status update."""
