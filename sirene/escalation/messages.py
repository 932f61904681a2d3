"""What sirene says in Slack and on the phone. Internal team texts, written in German directly."""

from __future__ import annotations

from typing import Any

from sirene.incidents.models import Incident
from sirene.integrations.slack import escape

ACK_ACTION_ID = "sirene_ack"


def incident_text(incident: Incident) -> str:
    return (incident.description or "").strip()


def siren_text(incident: Incident, mention_ids: list[str]) -> str:
    mentions = " ".join(f"<@{uid}>" for uid in mention_ids if uid)
    lines = [f":rotating_light: *Kritische Störung INC-{incident.pk}:* {escape(incident.title)}"]
    body = incident_text(incident)
    if body:
        lines.append(escape(body[:2500]))
    if mentions:
        lines.append(f"{mentions} bitte reagieren (Knopf, Reaktion oder Antwort im Thread).")
    return "\n".join(lines)


def siren_blocks(incident: Incident, text: str, run_id: int) -> list[dict[str, Any]]:
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": text[:2900]}},
        {
            "type": "actions",
            "block_id": "sirene_ack",
            "elements": [
                {
                    "type": "button",
                    "action_id": ACK_ACTION_ID,
                    "style": "primary",
                    "text": {"type": "plain_text", "text": "Ich kümmere mich"},
                    "value": str(run_id),
                }
            ],
        },
    ]


def acknowledged_text(incident: Incident) -> str:
    who = escape(incident.acknowledged_label or "jemand")
    when = incident.acknowledged_at.strftime("%H:%M UTC") if incident.acknowledged_at else ""
    return (
        f":white_check_mark: *INC-{incident.pk}:* {escape(incident.title)}\n"
        f"Übernommen von {who} ({incident.acknowledged_via}) {when}".rstrip()
    )


def resolved_text(incident: Incident) -> str:
    return f":white_check_mark: *INC-{incident.pk} gelöst:* {escape(incident.title)}\n{escape(incident.resolution)}"


def status_update_text(incident: Incident, text: str, author: str) -> str:
    return f":information_source: *INC-{incident.pk}* {escape(incident.title)}\n{escape(text)}\n— {escape(author)}"


def call_message(incident: Incident) -> str:
    return f"Hier ist sirene. Kritische Störung: {incident.title[:200]}. Im Slack hat noch niemand reagiert."


def task_text(incident: Incident, title: str, text: str) -> str:
    return f":clipboard: Aufgabe zu INC-{incident.pk} ({escape(incident.title)}): {escape(title)}\n\n{text}"
