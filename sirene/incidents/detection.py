"""Early warnings: the rows detection raises and the quiet line the internal channel gets.

Detection itself (the window, the decision) is the `sirene.detection` app; `flows.detection` applies
its decision and calls `raise_early_warning` / `link_warnings` here.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q

from sirene.cases.models import Case
from sirene.core import clock
from sirene.incidents import services
from sirene.incidents.models import EarlyWarning, Incident

log = logging.getLogger(__name__)


def raise_early_warning(
    case_ids: list[int], *, customers: int, category: str, minutes: float, now: datetime
) -> EarlyWarning:
    """One early warning for a new problem's first reports (the worker posts its quiet line)."""
    case = Case.objects.filter(pk=case_ids[0]).only("subject", "clean_text", "body").first()
    example = ""
    if case is not None:
        example = " ".join((case.clean_text or case.body or case.subject).split())[:240]
    warning = EarlyWarning.objects.create(
        raised_at=now,
        customers=customers,
        minutes=minutes,
        example=example,
        category=category,
    )
    # The window is memory: a case deleted since it was counted must not be linked.
    warning.cases.add(*Case.objects.filter(pk__in=case_ids).values_list("pk", flat=True))
    log.info("early warning %s: %s customers", warning.pk, warning.customers)
    return warning


def link_warnings(incident: Incident, counted: list[int]) -> None:
    """The incident opened: its problem's early warnings point to it (and say how much earlier)."""
    warnings = list(EarlyWarning.objects.filter(cases__in=counted, incident__isnull=True).distinct())
    for warning in warnings:
        EarlyWarning.objects.filter(pk=warning.pk).update(incident=incident)
        lead = (incident.opened_at - warning.raised_at).total_seconds() / 60.0
        services.add_event(
            incident,
            "early_warning",
            f"Vorwarnung EW-{warning.pk} kam {lead:.0f} min vorher",
            data={"warning_id": warning.pk, "lead_minutes": round(lead, 1)},
        )


def quiet_line(warning: EarlyWarning) -> str:
    """The one line the internal channel gets for an early warning (German, no mentions)."""
    return (
        f"☆ Vorwarnung: {warning.customers} Kundinnen/Kunden innerhalb von {warning.minutes:g} min "
        f"mit einem neuen Problem (Kategorie {warning.get_category_display()}): „{warning.example[:160]}“ "
        "– noch keine Störung, niemand wird alarmiert."
    )


def post_pending_warnings(limit: int = 20) -> int:
    """Worker step: post each new early warning once to the internal channel (no paging)."""
    from sirene.integrations.registry import chat_transport

    done = 0
    for warning in EarlyWarning.objects.filter(posted_at__isnull=True).order_by("raised_at")[:limit]:
        claimed = EarlyWarning.objects.filter(pk=warning.pk, posted_at__isnull=True).update(
            posted_at=clock.now()
        )
        if not claimed:
            continue
        try:
            chat_transport().post_message(settings.SLACK_CHANNEL, quiet_line(warning))
        except Exception:
            log.exception("posting early warning %s failed; retried by the next tick", warning.pk)
            EarlyWarning.objects.filter(pk=warning.pk).update(posted_at=None)
            continue
        done += 1
    return done


def live_warnings(limit: int = 20) -> list[EarlyWarning]:
    """Early warnings of the last day without an incident yet (the incident list shows them)."""
    since = clock.now() - timedelta(hours=24)
    return list(
        EarlyWarning.objects.filter(Q(raised_at__gte=since) & Q(incident__isnull=True)).order_by(
            "-raised_at"
        )[:limit]
    )
