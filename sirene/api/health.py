"""/api/v1/health: the worker's lanes (for monitors and the overview page).

Public on purpose (a load balancer or uptime monitor has no token): it shows counts and ages only,
never a customer, a case or an error text.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema
from ninja import Status as HttpStatus

from sirene.flows import health

router = Router(tags=["health"])


class QueueHealthOut(Schema):
    name: str
    due: int
    oldest_due_age_s: float
    dead: int


class LaneHealthOut(Schema):
    lane: str
    lagging: bool
    due: int
    oldest_due_age_s: float
    dead: int
    last_loop_at: str | None
    last_loop_age_s: float | None
    workers: int
    queues: list[QueueHealthOut]


class HealthOut(Schema):
    ok: bool
    lag_warning_s: float
    lanes: list[LaneHealthOut]


@router.get("", response={200: HealthOut, 503: HealthOut}, auth=None)
def get_health(request: HttpRequest) -> HttpStatus[HealthOut]:
    """200 when every lane is fine, 503 (same body, `ok: false`) when one lags: a status-code monitor sees it."""
    lanes = [LaneHealthOut(**lane.as_dict()) for lane in health.lanes()]
    ok = not any(lane.lagging for lane in lanes)
    return HttpStatus(200 if ok else 503, HealthOut(ok=ok, lag_warning_s=health.LAG_WARNING_SECONDS, lanes=lanes))
