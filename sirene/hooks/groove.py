"""POST /hooks/groove/<secret>: Groove's webhooks (the event name is in the X-Groove-Event header).

Groove signs nothing, so the endpoint is protected by a long secret in its URL, compared in constant time;
any other path, or no secret configured, answers 404 and stores nothing. The raw body is stored
(`WebhookDelivery`) before it is parsed; a re-delivery (same event + body) changes nothing. The worker
(`sirene.helpdesk.tasks`) processes stored deliveries: it re-fetches the ticket through the API before
trusting anything, so answering here stays fast.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from sirene.core import clock
from sirene.core.validation import clean_text
from sirene.integrations.models import WebhookDelivery

log = logging.getLogger(__name__)

SOURCE = "groove"
# The events sirene acts on; anything else is acknowledged (200) and ignored.
HANDLED_EVENTS = frozenset(
    {
        "ticket_started",
        "ticket_opened",
        "ticket_tagged",
        "customer_replied",
        "ticket_closed",
        "ticket_state_changed",
    }
)
# Only these headers are kept with the raw body (never cookies or authorisation).
KEPT_HEADERS = ("X-Groove-Event", "Content-Type", "User-Agent")


def secret_matches(given: str) -> bool:
    expected = settings.GROOVE_WEBHOOK_SECRET
    if not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def delivery_key(event: str, body: bytes) -> str:
    return hashlib.sha256(event.encode("utf-8") + b"\n" + body).hexdigest()


@csrf_exempt
@require_POST
def groove_webhook(request: HttpRequest, secret: str) -> HttpResponse:
    if not secret_matches(secret):
        raise Http404
    event = request.headers.get("X-Groove-Event", "").strip()[:100]
    body = request.body
    try:
        with transaction.atomic():
            delivery = WebhookDelivery.objects.create(
                source=SOURCE,
                event=event,
                delivery_key=delivery_key(event, body),
                headers={h: request.headers[h] for h in KEPT_HEADERS if h in request.headers},
                # As text, NUL-free (PostgreSQL refuses NUL in text; the hash above keys the raw bytes).
                body=clean_text(body.decode("utf-8", errors="replace")),
            )
    except IntegrityError:
        return JsonResponse({"ok": True, "duplicate": True})
    problem = _problem(event, body)
    if problem:
        log.warning("Groove webhook %s (delivery %s) refused: %s", event or "?", delivery.pk, problem)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(error=problem, processed_at=clock.now())
        return JsonResponse({"ok": False, "error": problem}, status=400)
    if event not in HANDLED_EVENTS:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            error=f"ignored event {event!r}", processed_at=clock.now()
        )
        return JsonResponse({"ok": True, "ignored": event})
    return JsonResponse({"ok": True, "queued": delivery.pk}, status=202)


def _problem(event: str, body: bytes) -> str:
    if not event:
        return "X-Groove-Event header: missing"
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        return f"body: not valid JSON ({exc})"
    if not isinstance(data, dict):
        return "body: must be a JSON object"
    return ""


urlpatterns = [path("groove/<str:secret>", groove_webhook, name="groove_webhook")]
