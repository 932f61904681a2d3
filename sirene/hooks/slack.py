"""Inbound Slack: /hooks/slack/events (Events API) and /hooks/slack/interactivity (buttons).

Every request is verified (v0 HMAC, 5-minute window on sirene's clock) before anything is parsed;
event_callbacks are stored in WebhookDelivery under their event_id, so a retry changes nothing.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from sirene.core import clock
from sirene.core.validation import clean_text
from sirene.escalation import messages
from sirene.escalation import services as escalation
from sirene.escalation.models import Run
from sirene.flows import incidents as incident_flows
from sirene.integrations.models import WebhookDelivery
from sirene.integrations.slack import verify_signature

log = logging.getLogger("sirene.integrations.slack")


def _refuse(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _store(event: str, key: str, request: HttpRequest) -> WebhookDelivery | None:
    """The delivery row, or None when this key was seen before (a retry)."""
    try:
        with transaction.atomic():
            return WebhookDelivery.objects.create(
                source="slack",
                event=event[:100],
                delivery_key=key[:200],
                headers={k: v for k, v in request.headers.items() if k.lower().startswith("x-slack")},
                body=clean_text(request.body.decode("utf-8", "replace")),
                received_at=clock.now(),
            )
    except IntegrityError:
        return None


@csrf_exempt
@require_POST
def events(request: HttpRequest) -> HttpResponse:
    if not verify_signature(request.body, dict(request.headers)):
        return _refuse("invalid or missing Slack signature", 403)
    try:
        data = json.loads(request.body.decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("body must be a JSON object")
    except (ValueError, UnicodeDecodeError) as exc:
        return _refuse(f"malformed JSON: {exc}", 400)
    kind = data.get("type")
    if kind == "url_verification":
        return JsonResponse({"challenge": str(data.get("challenge", ""))})
    if kind != "event_callback":
        return JsonResponse({"ok": True, "ignored": str(kind)})
    event = data.get("event")
    event_id = data.get("event_id")
    if not isinstance(event, dict) or not isinstance(event_id, str) or not event_id:
        return _refuse("event: missing event or event_id", 400)
    with transaction.atomic():
        delivery = _store(str(event.get("type", "")), event_id, request)
        if delivery is None:
            return JsonResponse({"ok": True, "duplicate": True})
        outcome = _handle_event(event)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(processed_at=clock.now())
    return JsonResponse({"ok": True, "outcome": outcome})


def _acknowledge(run: Run, slack_user_id: str, how: str, *, reaction: str = "", text: str = "") -> str:
    """A button, reaction or thread reply on the siren message. It takes the incident over only when a
    responder of the incident's policy or a lead did it, and a reaction only from the configured set;
    anything else is put on the timeline ("keine Übernahme") and the calls still come."""
    who = escalation.take_over_by_slack(run, slack_user_id)
    deliberate = how != "reaction" or escalation.ack_reaction(reaction)
    if not (who.allowed and deliberate):
        if run.incident.status == "open":
            escalation.record_no_takeover(run, who.label, how, reaction=reaction, text=text, user=who.user)
        return "no takeover"
    done = incident_flows.acknowledge(run.incident, user=who.user, label=who.label, via=f"slack {how}")
    return "acknowledged" if done else "already"


def _handle_event(event: dict[str, Any]) -> str:
    etype = event.get("type")
    if etype == "reaction_added":
        item = event.get("item") or {}
        if not isinstance(item, dict) or item.get("type") != "message":
            return "ignored"
        run = escalation.run_for_message(str(item.get("channel", "")), str(item.get("ts", "")))
        if run is None:
            return "unknown message"
        return _acknowledge(run, str(event.get("user", "")), "reaction", reaction=str(event.get("reaction", "")))
    if etype == "message":
        thread_ts = event.get("thread_ts")
        # A thread reply carries thread_ts different from its own ts; sirene's own posts carry bot_id.
        if not thread_ts or thread_ts == event.get("ts") or event.get("bot_id") or event.get("subtype"):
            return "ignored"
        run = escalation.run_for_message(str(event.get("channel", "")), str(thread_ts))
        if run is None:
            return "unknown thread"
        return _acknowledge(run, str(event.get("user", "")), "reply", text=str(event.get("text", "")))
    return "ignored"


@csrf_exempt
@require_POST
def interactivity(request: HttpRequest) -> HttpResponse:
    if not verify_signature(request.body, dict(request.headers)):
        return _refuse("invalid or missing Slack signature", 403)
    raw = request.POST.get("payload")
    if not raw:
        return _refuse("payload: missing", 400)
    try:
        payload = json.loads(raw)
        if not isinstance(payload, dict):
            raise ValueError("payload must be a JSON object")
    except ValueError as exc:
        return _refuse(f"payload: malformed JSON: {exc}", 400)
    if payload.get("type") != "block_actions":
        return JsonResponse({"ok": True, "ignored": str(payload.get("type"))})
    actions = payload.get("actions") or []
    action = actions[0] if isinstance(actions, list) and actions and isinstance(actions[0], dict) else {}
    if action.get("action_id") not in (messages.ACK_ACTION_ID, messages.ESCALATE_ACTION_ID):
        return JsonResponse({"ok": True, "ignored": "action"})
    # Signed by Slack, but still typed input: a field of the wrong type is a 400, never a 500.
    user, container = _object(payload, "user"), _object(payload, "container")
    channel_obj, message = _object(payload, "channel"), _object(payload, "message")
    if None in (user, container, channel_obj, message):
        return _refuse("payload: user, channel, container and message must be objects", 400)
    assert user is not None and container is not None and channel_obj is not None and message is not None
    channel = channel_obj.get("id") or container.get("channel_id") or ""
    ts = str(container.get("message_ts") or message.get("ts") or "")
    key = f"action:{ts}:{user.get('id', '')}:{action.get('action_ts', '')}"
    with transaction.atomic():
        if _store("block_actions", key, request) is None:
            return JsonResponse({"ok": True, "duplicate": True})
        run = escalation.run_for_message(str(channel), ts)
        if run is None:
            return _refuse("message: not an escalation message sirene knows", 404)
        if action.get("action_id") == messages.ESCALATE_ACTION_ID:
            # "Jetzt eskalieren" wakes the next person sooner: anyone in the channel may ask for it.
            who = escalation.slack_acknowledger(str(user.get("id", "")))
            escalated = escalation.escalate_now(run, who.label)
            return JsonResponse({"ok": True, "escalated": escalated})
        outcome = _acknowledge(run, str(user.get("id", "")), "button")
    return JsonResponse({"ok": True, "acknowledged": outcome == "acknowledged", "outcome": outcome})


def _object(payload: dict[str, Any], name: str) -> dict[str, Any] | None:
    """payload[name] as a dict ({} when absent), or None when it is present but not an object."""
    value = payload.get(name) or {}
    return value if isinstance(value, dict) else None


urlpatterns = [
    path("slack/events", events, name="slack-events"),
    path("slack/interactivity", interactivity, name="slack-interactivity"),
]
