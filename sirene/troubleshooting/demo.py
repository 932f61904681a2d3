"""Demo data for the workspace: a few cases with stages under way, a snapshot pair with a diff, a backup,
an open question and a follow-up. Idempotent: only touches demo cases whose workspace does not exist yet."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sirene.accounts.models import User
from sirene.cases import services as cases
from sirene.cases.models import Case, Status
from sirene.core import clock
from sirene.flows import cases as case_flows
from sirene.troubleshooting import services
from sirene.troubleshooting.models import Workspace

ORIGINAL = {
    "account": {"plan": "Club", "courses": 3},
    "projects": [
        {"id": 101, "name": "Hochbeet", "lessons_done": 12},
        {"id": 102, "name": "Kräuterspirale", "lessons_done": 4},
    ],
}
CURRENT = {
    "account": {"plan": "Club", "courses": 3},
    "projects": [
        {"id": 101, "name": "Hochbeet", "lessons_done": 0},
        {"id": 102, "name": "Kräuterspirale", "lessons_done": 4},
    ],
}


def load(stdout: Any) -> None:
    agent = User.objects.filter(username="lea").first() or User.objects.filter(is_active=True).first()
    if agent is None:
        return
    demo_cases = list(
        Case.objects.filter(source="demo").exclude(status=Status.SOLVED).order_by("received_at")[:3]
    )
    made = 0
    for index, case in enumerate(demo_cases):
        if Workspace.objects.filter(case=case).exists():
            continue
        if case.owner_id is None:
            case = cases.take_ownership(case, agent)
        services.set_stage(case, "preparation", "done", actor=agent, notes="Fall übernommen")
        services.set_stage(case, "history", "done", actor=agent)
        if index == 0:
            services.record_answers(
                case, {"first_seen": "Seit gestern Abend", "device": "iPhone 13"}, actor=agent
            )
            services.add_snapshot(case, ORIGINAL, kind="original", label="vor Neukonvertierung", actor=agent)
            services.add_snapshot(case, CURRENT, kind="current", label="nach Sync", actor=agent)
            services.add_backup_export(case, CURRENT, actor=agent, note="Export aus dem Admin-Tool")
            services.schedule_follow_up(
                case, clock.now() + dt.timedelta(days=1), actor=agent, note="Kundin meldet sich nach dem Test"
            )
        if index == 1:
            case_flows.change_status(case, Status.OPEN_QUESTION, actor=agent, note="Wartet auf Technik")
            services.forward_to_tech(case, actor=agent, note="Sync-Logs prüfen")
        made += 1
    stdout.write(f"troubleshooting: {made} demo workspaces\n")
