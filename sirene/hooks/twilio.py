"""Inbound Twilio: /hooks/twilio/status (call status callbacks) and /hooks/twilio/gather (keypress).

Verified with twilio's RequestValidator against SIRENE_PUBLIC_URL + the exact path and query, since
behind a proxy the request's own host is not what Twilio signed. Each (CallSid, status) is stored once
in WebhookDelivery, so a repeated callback changes nothing.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.twiml.voice_response import VoiceResponse

from sirene.core import clock
from sirene.escalation import worker
from sirene.flows import incidents as incident_flows
from sirene.integrations.models import WebhookDelivery
from sirene.integrations.twilio import validate_signature


def _verified(request: HttpRequest) -> bool:
    url = settings.PUBLIC_URL + request.get_full_path()
    return validate_signature(url, request.POST.dict(), request.headers.get("X-Twilio-Signature", ""))


def _attempt_id(request: HttpRequest) -> int | None:
    raw = request.GET.get("attempt", "")
    return int(raw) if raw.isdigit() else None


def _store(event: str, key: str, request: HttpRequest) -> bool:
    try:
        with transaction.atomic():
            WebhookDelivery.objects.create(
                source="twilio",
                event=event,
                delivery_key=key[:200],
                body=json.dumps(request.POST.dict())[:20000],
                received_at=clock.now(),
                processed_at=clock.now(),
            )
    except IntegrityError:
        return False
    return True


def _twiml(text: str) -> HttpResponse:
    response = VoiceResponse()
    response.say(text, language="de-DE")
    response.hangup()
    return HttpResponse(str(response), content_type="application/xml")


@csrf_exempt
@require_POST
def status(request: HttpRequest) -> HttpResponse:
    if not _verified(request):
        return JsonResponse({"error": "invalid or missing X-Twilio-Signature"}, status=403)
    attempt_id = _attempt_id(request)
    sid = request.POST.get("CallSid", "")
    call_status = request.POST.get("CallStatus", "")
    if attempt_id is None:
        return JsonResponse({"error": "attempt: missing or not a number"}, status=400)
    if not sid or not call_status:
        return JsonResponse({"error": "CallSid/CallStatus: missing"}, status=400)
    with transaction.atomic():
        if not _store("status", f"{sid}:{call_status}", request):
            return JsonResponse({"ok": True, "duplicate": True})
        changed = worker.apply_call_status(attempt_id, sid, call_status, request.POST.get("AnsweredBy", ""))
    return JsonResponse({"ok": True, "changed": changed})


@csrf_exempt
@require_POST
def gather(request: HttpRequest) -> HttpResponse:
    if not _verified(request):
        return JsonResponse({"error": "invalid or missing X-Twilio-Signature"}, status=403)
    attempt_id = _attempt_id(request)
    sid = request.POST.get("CallSid", "")
    digits = request.POST.get("Digits", "")
    if attempt_id is None or not sid:
        return JsonResponse({"error": "attempt/CallSid: missing"}, status=400)
    with transaction.atomic():
        if not _store("gather", f"{sid}:gather:{digits}", request):
            return _twiml("Danke.")
        keypress = worker.apply_keypress(attempt_id, sid, digits)
        if keypress.answered and keypress.incident is not None:
            # Pressing 1 acknowledges the incident (first ack wins), in the same transaction.
            incident_flows.acknowledge(
                keypress.incident, user=keypress.user, label=keypress.label, via="phone"
            )
    if keypress.answered:
        return _twiml("Danke, Sie haben die Störung übernommen. Das Team ist informiert.")
    if keypress.passed_on:
        return _twiml("Danke. sirene gibt an die nächste Person weiter.")
    return _twiml("Keine Übernahme. Auf Wiederhören.")


urlpatterns = [
    path("twilio/status", status, name="twilio-status"),
    path("twilio/gather", gather, name="twilio-gather"),
]
