from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from sirene.cases import services as cases
from sirene.core import clock
from sirene.troubleshooting import services, tasks
from sirene.troubleshooting.models import DmState, Reminder


class FakeSlack(BaseHTTPRequestHandler):
    calls: list[tuple[str, dict[str, Any]]] = []
    fail = False

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        data = (
            json.loads(body)
            if body.startswith("{")
            else dict(pair.split("=", 1) for pair in body.split("&") if "=" in pair)
        )
        FakeSlack.calls.append((self.path, data))
        reply = (
            {"ok": False, "error": "channel_not_found"}
            if FakeSlack.fail
            else {
                "ok": True,
                "channel": "D0TEST",
                "ts": "1700000000.000100",
                "message": {"text": data.get("text")},
            }
        )
        payload = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def slack(settings: Any) -> Iterator[type[FakeSlack]]:
    FakeSlack.calls, FakeSlack.fail = [], False
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeSlack)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SLACK_TOKEN = "xoxb-test"
    settings.SLACK_API_URL = f"http://127.0.0.1:{server.server_address[1]}/api/"
    yield FakeSlack
    server.shutdown()
    server.server_close()


def test_a_follow_up_must_lie_in_the_future(api: Any, case: Any) -> None:
    past = (clock.now() - dt.timedelta(hours=1)).isoformat()
    response = api.post(f"/api/v1/workspace/{case.pk}/follow-ups", {"due_at": past})
    assert response.status_code == 422 and response.json()["field"] == "due_at"


def test_the_owner_is_reminded_in_sirene_once_the_follow_up_is_due(
    case: Any, agent: Any, settings: Any
) -> None:
    settings.SLACK_TOKEN = ""
    cases.take_ownership(case, agent)
    services.schedule_follow_up(case, clock.now() + dt.timedelta(days=1), actor=agent, note="Rückruf")
    assert tasks.tick() == 0
    clock.advance(days=1, minutes=1)
    assert tasks.tick() == 1
    assert tasks.tick() == 0  # never twice
    reminder = Reminder.objects.get()
    assert reminder.user == agent and reminder.dm_state == DmState.NOT_SENT
    assert f"Fall #{case.pk}" in reminder.text and "Rückruf" in reminder.text


def test_the_reminder_goes_out_as_a_slack_dm_when_configured(case: Any, agent: Any, slack: Any) -> None:
    agent.slack_user_id = "U0ANNA"
    agent.save()
    cases.take_ownership(case, agent)
    services.schedule_follow_up(case, clock.now() + dt.timedelta(hours=2), actor=agent)
    clock.advance(hours=3)
    tasks.tick()
    assert [(path, data["channel"]) for path, data in slack.calls] == [("/api/chat.postMessage", "U0ANNA")]
    assert "Follow-up fällig" in slack.calls[0][1]["text"]
    assert Reminder.objects.get().dm_state == DmState.SENT


def test_a_failed_dm_still_leaves_the_reminder_in_sirene(case: Any, agent: Any, slack: Any) -> None:
    slack.fail = True
    agent.slack_user_id = "U0ANNA"
    agent.save()
    cases.take_ownership(case, agent)
    services.schedule_follow_up(case, clock.now() + dt.timedelta(hours=2), actor=agent)
    clock.advance(hours=3)
    tasks.tick()
    reminder = Reminder.objects.get()
    assert reminder.dm_state == DmState.FAILED and "channel_not_found" in reminder.dm_error


def test_completing_a_follow_up_clears_its_reminder_and_restarts_the_overdue_clock(
    case: Any, agent: Any
) -> None:
    cases.take_ownership(case, agent)
    follow_up = services.schedule_follow_up(case, clock.now() + dt.timedelta(hours=2), actor=agent)
    clock.advance(hours=3)
    tasks.tick()
    services.complete_follow_up(follow_up, actor=agent, outcome="Problem gelöst")
    case.refresh_from_db()
    assert Reminder.objects.get().dismissed_at is not None
    assert case.last_customer_contact_at == clock.now()


def test_the_follow_up_stage_needs_a_scheduled_follow_up(api: Any, case: Any) -> None:
    assert api.post(f"/api/v1/workspace/{case.pk}/stages/follow_up", {"state": "done"}).status_code == 422
    skip = f"/api/v1/workspace/{case.pk}/stages/follow_up"
    # Skipping a stage needs a reason, so the next person sees why.
    assert api.post(skip, {"state": "not_needed"}).json()["field"] == "notes"
    assert api.post(skip, {"state": "not_needed", "notes": "Kundin meldet sich selbst"}).status_code == 200


def test_documentation_is_generated_from_the_stages_and_editable(api: Any, case: Any) -> None:
    api.post(
        f"/api/v1/workspace/{case.pk}/answers",
        {"answers": {"first_seen": "Seit Montag", "device": "Pixel 8"}},
    )
    api.post(
        f"/api/v1/workspace/{case.pk}/reproduction",
        {"reproduced": "yes", "steps": "App öffnen, Lektion 4 starten", "environment": "Android 14"},
    )
    api.post(f"/api/v1/workspace/{case.pk}/backups", {"kind": "export", "data": {"p": 1}})
    api.post(
        f"/api/v1/workspace/{case.pk}/conversions", {"result": "success", "note": "Projekt neu konvertiert"}
    )
    doc = api.post(f"/api/v1/workspace/{case.pk}/documentation/generate").json()
    assert "Seit Montag" in doc["symptoms"] and "Pixel 8" in doc["symptoms"]
    assert "device: " not in doc["symptoms"]  # the attribute's label, not its key
    assert "Projekt neu konvertiert" in doc["solution_steps"]
    assert "App öffnen, Lektion 4 starten" in doc["text"]
    edited = api.post(
        f"/api/v1/workspace/{case.pk}/documentation", {**doc, "title": "App-Absturz nach Update 3.4.0"}
    ).json()
    assert edited["title"] == "App-Absturz nach Update 3.4.0"
    assert api.post(f"/api/v1/workspace/{case.pk}/stages/documentation", {"state": "done"}).status_code == 200


def test_the_documentation_stage_cannot_be_done_while_empty(api: Any, case: Any) -> None:
    response = api.post(f"/api/v1/workspace/{case.pk}/stages/documentation", {"state": "done"})
    assert response.status_code == 422


def test_one_click_turns_the_documentation_into_a_known_problem_once(api: Any, case: Any) -> None:
    from sirene.knowledge.models import KnownProblem

    api.post(
        f"/api/v1/workspace/{case.pk}/documentation",
        {
            "title": "App-Absturz nach Update",
            "symptoms": "App schließt sich sofort",
            "solution_steps": "App neu installieren",
            "text": "…",
        },
    )
    first = api.post(f"/api/v1/workspace/{case.pk}/documentation/known-problem").json()
    second = api.post(f"/api/v1/workspace/{case.pk}/documentation/known-problem").json()
    assert first == second
    problem = KnownProblem.objects.get(pk=first["known_problem_id"])
    assert problem.title == "App-Absturz nach Update"
    assert KnownProblem.objects.filter(title="App-Absturz nach Update").count() == 1


def test_deleting_the_known_problem_keeps_the_documentation_and_a_new_click_makes_a_new_one(
    api: Any, case: Any
) -> None:
    from sirene.knowledge import services as knowledge
    from sirene.knowledge.models import KnownProblem
    from sirene.troubleshooting.models import Workspace

    api.post(
        f"/api/v1/workspace/{case.pk}/documentation",
        {"title": "Export bricht ab", "symptoms": "PDF leer", "solution_steps": "Cache leeren", "text": "…"},
    )
    first = api.post(f"/api/v1/workspace/{case.pk}/documentation/known-problem").json()["known_problem_id"]
    knowledge.delete_known_problem(KnownProblem.objects.get(pk=first))

    workspace = Workspace.objects.get(case=case)
    assert workspace.known_problem is None and workspace.doc_title == "Export bricht ab"
    again = api.post(f"/api/v1/workspace/{case.pk}/documentation/known-problem").json()["known_problem_id"]
    assert again != first and KnownProblem.objects.get(pk=again).title == "Export bricht ab"
