"""Early warnings: the rows detection raises and the quiet line the internal channel gets.

Detection itself (the window, the decision) is the `sirene.detection` app; `flows.detection` applies
its decision and calls `raise_early_warning` / `link_warnings` here.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db.models import Q

from sirene.cases.models import Case
from sirene.core import clock
from sirene.incidents import events
from sirene.incidents.models import EarlyWarning, Incident
from sirene.integrations import posts
from sirene.integrations.slack import escape
from sirene.preferences import services as preferences

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
        lead = (incident.opened_at - warning.raised_at).total_seconds()
        events.record(incident, "early_warning", warning=warning.pk, lead_seconds=round(lead))


def quiet_line(warning: EarlyWarning) -> str:
    """The one line the internal channel gets for an early warning (German, no mentions)."""
    example = " ".join(warning.example.split())
    if len(example) > 160:
        example = example[:160].rsplit(" ", 1)[0].rstrip(",;:.-–") + " …"  # cut at a word, never mid-word
    return (
        f"☆ Vorwarnung: {warning.customers} Kund:innen innerhalb von {warning.minutes:g} min "
        f"mit einem neuen Problem (Kategorie {warning.get_category_display()}): „{escape(example)}“ "
        "– noch keine Störung, niemand wird alarmiert."
    )


def post_pending_warnings(limit: int = 20) -> int:
    """Worker step: queue each new early warning once for the internal channel (no paging); the chat
    lane posts it on core/jobs (tries, backoff, dead state: `integrations.posts`)."""
    done = 0
    for warning in EarlyWarning.objects.filter(posted_at__isnull=True).order_by("raised_at")[:limit]:
        channel = preferences.get("slack_status_channel")  # the internal channel, as the docs say
        posts.enqueue(f"early_warning:{warning.pk}", channel, quiet_line(warning))
        done += EarlyWarning.objects.filter(pk=warning.pk, posted_at__isnull=True).update(posted_at=clock.now())
    return done


def live_warnings(limit: int = 20) -> list[EarlyWarning]:
    """Early warnings of the last day without an incident yet (the incident list shows them)."""
    since = clock.now() - timedelta(hours=24)
    return list(
        EarlyWarning.objects.filter(Q(raised_at__gte=since) & Q(incident__isnull=True)).order_by(
            "-raised_at"
        )[:limit]
    )
