"""Worker health per lane: oldest due item, dead items, last loop — in `sirene status`, the API and the
overview page (a German warning when a lane lags)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.management import call_command

from sirene.cases.models import AnalysisJob, Status
from sirene.core import clock, jobs
from sirene.flows import cases as case_flows
from sirene.flows import health
from sirene.helpdesk.tests.conftest import make_groove_case

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


def lane(name: str) -> health.LaneHealth:
    return next(lane for lane in health.lanes() if lane.lane == name)


def test_a_reply_waiting_over_a_minute_makes_the_background_lane_lag(agent: Any, client: Any) -> None:
    clock.set_now(T0)
    case = make_groove_case(101, "anna.k@example.com")
    case_flows.change_status(case, Status.OPEN_QUESTION, actor=agent)  # queues the holding reply
    jobs.Heartbeat("escalation", "host:1:1").loop(0.01, 0)
    jobs.Heartbeat("background", "host:1:2").loop(0.01, 0)
    assert not lane("background").lagging

    clock.advance(seconds=90)
    jobs.Heartbeat("escalation", "host:1:1").loop(0.01, 0)  # the escalation worker still beats
    background = lane("background")
    replies = next(q for q in background.queues if q["name"] == "customer_replies")
    assert replies["due"] == 1 and replies["oldest_due_age_s"] == 90
    assert background.lagging and background.last_loop_age_s == 90
    assert not lane("escalation").lagging, "nothing due there"

    client.force_login(agent)
    html = client.get("/").content.decode()
    assert "Der Hintergrund-Worker hängt hinterher" in html
    assert "Eskalations-Worker" not in html

    response = client.get("/api/v1/health")
    assert response.status_code == 503
    data = response.json()
    by_lane = {row["lane"]: row for row in data["lanes"]}
    assert data["ok"] is False and by_lane["background"]["lagging"] is True
    assert by_lane["background"]["oldest_due_age_s"] == 90
    with pytest.raises(SystemExit) as exited:
        call_command("status")
    assert exited.value.code == 1


def test_dead_items_are_counted_and_a_lane_nobody_runs_is_reported(agent: Any) -> None:
    clock.set_now(T0)
    case = make_groove_case(102, "b@example.com")
    AnalysisJob.objects.update_or_create(case=case, defaults={"dead_at": T0, "due_at": None, "tries": 5})
    background = lane("background")
    assert background.dead == 1
    assert background.last_loop_at is None and background.workers == 0
    assert background.lagging, "no heartbeat in the last minute: nobody runs the lane"
    with pytest.raises(SystemExit) as exited:
        call_command("status", "--json")
    assert exited.value.code == 1


def test_a_lane_without_a_recent_heartbeat_lags_with_nothing_due_and_health_says_503(client: Any) -> None:
    clock.set_now(T0)
    for name in ("escalation", "chat", "background"):
        jobs.Heartbeat(name, f"host:1:{name}").loop(0.01, 0)
    assert client.get("/api/v1/health").status_code == 200
    clock.advance(seconds=health.LAG_WARNING_SECONDS + 1)
    jobs.Heartbeat("escalation", "host:1:escalation-2").loop(0.01, 0)
    jobs.Heartbeat("chat", "host:1:chat-2").loop(0.01, 0)
    background = lane("background")
    assert background.due == 0 and background.lagging and not lane("escalation").lagging
    response = client.get("/api/v1/health")
    assert response.status_code == 503 and response.json()["ok"] is False
