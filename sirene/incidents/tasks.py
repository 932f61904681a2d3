"""This domain's worker step: called by `sirene worker` on every loop; returns how much it did.

Detection itself runs inline with intake (the deciding case opens the incident in its own
transaction). The worker posts each early warning's quiet line once (detection.py) and catches up
the briefs of big live incidents, which are rebuilt on
every BRIEF_EVERY-th report rather than on each one (see services._link).
"""

from __future__ import annotations

from django.db.models import F, Q

from sirene.incidents import services
from sirene.incidents.models import Incident, IncidentStatus

_warm = False


def warm_up() -> None:
    """Load the URLconf now: the first `reverse()` imports every view module (seconds), and the
    first brief builds case links; without this the first incident a fresh worker opens pays it."""
    global _warm
    if not _warm:
        from django.urls import get_resolver

        get_resolver().url_patterns  # noqa: B018  (evaluating it is the point)
        import scipy.stats  # noqa: F401  (briefs use it; imported here, not when the escalation lane starts)

        _warm = True


def tick(limit: int = 20) -> int:
    from sirene.incidents import detection

    warm_up()
    posted = detection.post_pending_warnings(limit)
    stale = (
        Incident.objects.exclude(status=IncidentStatus.RESOLVED)
        .filter(Q(brief_updated_at__isnull=True) | Q(last_seen__gt=F("brief_updated_at")))
        .order_by("brief_updated_at")[:limit]
    )
    done = 0
    for incident in stale:
        services.refresh_brief(incident)
        done += 1
    return done + posted
