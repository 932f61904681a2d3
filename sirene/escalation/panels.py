"""Context for this domain's incident panel (templates/escalation/incident_panel.html)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from sirene.accounts.models import User
from sirene.accounts.permissions import Action, can
from sirene.escalation.models import AttemptKind, Run
from sirene.incidents.models import Incident, IncidentStatus


def _label(step: dict[str, Any], people: dict[str, Any]) -> str:
    def name(key: Any) -> str:
        return str((people.get(str(key)) or {}).get("name") or "—")

    kind = step.get("kind")
    if kind == "slack_post":
        return f"Slack {step.get('channel')} → " + ", ".join(name(k) for k in step.get("mentions") or [])
    if kind == "wait_ack":
        return f"⏱ {step.get('minutes')} min"
    if kind == "call":
        return f"☎ {name(step.get('person'))} ×{step.get('attempts')}"
    if kind == "task":
        return f"✔ {name(step.get('person'))}: {step.get('title')}"
    if kind == "repeat":
        return f"↻ {step.get('times')}×"
    return str(kind)


def incident_panel_context(request: HttpRequest, incident: Incident) -> dict[str, Any]:
    run = Run.objects.filter(incident=incident).first()
    if run is None:
        return {"run": None}
    attempts = list(run.attempts.all())
    people = run.snapshot.get("people") or {}
    steps = []
    for index, step in enumerate(run.snapshot.get("steps") or []):
        steps.append(
            {
                "label": _label(step, people),
                "current": index == run.step_index and run.status == "active",
                "attempts": [a for a in attempts if a.step_index == index],
            }
        )
    user = request.user if isinstance(request.user, User) else None
    # Raw Slack ids (U…, C…) read as people and channels; the ids stay behind "Details".
    names = {
        str(p.get("slack_user_id")): str(p.get("name"))
        for p in people.values()
        if isinstance(p, dict) and p.get("slack_user_id")
    }
    for a in attempts:
        target = str(a.target or "")
        a.target_label = names.get(target) or (  # type: ignore[attr-defined]
            target if target.startswith("#") else ("Slack-Kanal" if target[:1] in ("C", "G") else "")
        )
    by = incident.acknowledged_by
    return {
        "run": run,
        "incident": incident,
        "acknowledged_who": incident.acknowledged_label or (by.display_name() if by is not None else "—"),
        "steps": steps,
        "other_attempts": [
            a
            for a in attempts
            if a.kind
            in (AttemptKind.SLACK_UPDATE, AttemptKind.STATUS_UPDATE, AttemptKind.DM, AttemptKind.THREAD_REPLY)
        ],
        "tasks": list(run.tasks.select_related("person", "done_by")),
        "can_ack": incident.status == IncidentStatus.OPEN,
        "can_escalate": incident.status == IncidentStatus.OPEN and run.status == "active",
        "can_update": can(user, Action.POST_STATUS_UPDATE) and incident.status != IncidentStatus.RESOLVED,
    }
