"""★ "Ist es vorbei?": the trend of new customers, and after "Fix ist ausgerollt" how likely the
silence since then would be if the problem were still there.

* Trend: new customers (the first report of each distinct customer) in the last hour against the
  hour before: ``steigend`` / ``gleichbleibend`` / ``abflauend``. A change counts when it is at
  least 2 customers and the larger count is at least 1.5 times the smaller (one customer more or
  less is noise).
* Silence: the incident's own arrival rate before the fix, λ = new customers / hours from the first
  report to the fix (at least 1 h, so a burst of minutes does not make a huge rate). If it were
  still broken, new customers would keep arriving as a Poisson process, so the probability of no
  new customer in the t hours since the fix is P = exp(−λ·t). Below 1 % sirene suggests resolving.
* A report linked to the incident after the fix is a visible warning ("neue Meldung 25 min nach
  dem Fix"); the silence is then counted from the last such report.

Pure reads: nothing is written, the page and the API compute it when shown (words at display time).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sirene.core import clock
from sirene.incidents.models import Incident, IncidentEvent, IncidentStatus

TREND_MINUTES = 60
SUGGEST_BELOW = 0.01
MIN_RATE_HOURS = 1.0


@dataclass
class Trend:
    direction: str  # rising | steady | falling
    last: int  # new customers in the last TREND_MINUTES
    before: int  # ... in the TREND_MINUTES before
    minutes: int = TREND_MINUTES

    def as_dict(self) -> dict[str, Any]:
        return {"direction": self.direction, "last": self.last, "before": self.before, "minutes": self.minutes}


@dataclass
class AfterFix:
    fixed_at: datetime
    rate_per_hour: float
    silent_hours: float
    probability: float
    reports: list[dict[str, Any]] = field(default_factory=list)  # [{case_id, minutes_after_fix}]

    @property
    def suggest_resolve(self) -> bool:
        return not self.reports and self.probability < SUGGEST_BELOW


def _first_reports(incident: Incident) -> list[datetime]:
    """Each distinct customer's first report time, oldest first."""
    first: dict[int, datetime] = {}
    for customer_id, at in incident.cases.values_list("customer_id", "received_at"):
        if customer_id not in first or at < first[customer_id]:
            first[customer_id] = at
    return sorted(first.values())


def direction(last: int, before: int) -> str:
    if last - before >= 2 and last >= 1.5 * max(before, 1):
        return "rising"
    if before - last >= 2 and before >= 1.5 * max(last, 1):
        return "falling"
    return "steady"


def trend(incident: Incident, now: datetime | None = None) -> Trend:
    now = now or (incident.resolved_at if incident.status == IncidentStatus.RESOLVED else None) or clock.now()
    step = timedelta(minutes=TREND_MINUTES)
    times = _first_reports(incident)
    last = sum(1 for t in times if now - step < t <= now)
    before = sum(1 for t in times if now - 2 * step < t <= now - step)
    return Trend(direction(last, before), last, before)


def fix_event(incident: Incident) -> IncidentEvent | None:
    """The latest status update marked "Fix ist ausgerollt"."""
    for event in incident.events.filter(kind="status_update").order_by("-at", "-id"):
        if (event.data or {}).get("fix_deployed"):
            return event
    return None


def after_fix(incident: Incident, now: datetime | None = None) -> AfterFix | None:
    event = fix_event(incident)
    if event is None:
        return None
    fixed_at = event.at
    now = now or (incident.resolved_at if incident.status == IncidentStatus.RESOLVED else None) or clock.now()
    before = [t for t in _first_reports(incident) if t <= fixed_at]
    hours = max((fixed_at - before[0]).total_seconds() / 3600.0, MIN_RATE_HOURS) if before else MIN_RATE_HOURS
    rate = len(before) / hours
    after = sorted(
        incident.cases.filter(received_at__gt=fixed_at).values_list("pk", "received_at"), key=lambda r: r[1]
    )
    reports = [
        {"case_id": pk, "minutes_after_fix": round((at - fixed_at).total_seconds() / 60.0)} for pk, at in after
    ]
    quiet_from = after[-1][1] if after else fixed_at
    silent = max((now - quiet_from).total_seconds() / 3600.0, 0.0)
    return AfterFix(
        fixed_at=fixed_at,
        rate_per_hour=round(rate, 3),
        silent_hours=round(silent, 2),
        probability=math.exp(-rate * silent),
        reports=reports,
    )


def api_facts(incident: Incident) -> dict[str, Any]:
    """`trend`, and after a fix `silence_probability`, `reports_after_fix` and `fix` (GET /incidents/{id})."""
    out: dict[str, Any] = {
        "trend": trend(incident).as_dict(),
        "silence_probability": None,
        "reports_after_fix": None,
        "fix": None,
    }
    fix = after_fix(incident)
    if fix is not None:
        out["silence_probability"] = fix.probability
        out["reports_after_fix"] = fix.reports
        out["fix"] = {
            "fixed_at": fix.fixed_at,
            "rate_per_hour": fix.rate_per_hour,
            "silent_hours": fix.silent_hours,
            "suggest_resolve": fix.suggest_resolve and incident.status != IncidentStatus.RESOLVED,
        }
    return out
