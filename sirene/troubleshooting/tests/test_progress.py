"""Workspace progress: a stage is done once its data is saved, the counter agrees with the checklist,
and a stage that does not apply can be skipped, with a reason."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from sirene.troubleshooting import services
from sirene.troubleshooting.models import Stage, StageState

pytestmark = pytest.mark.django_db


def states(case: Any) -> dict[str, str]:
    return {s: e.state for s, e in services.stage_entries(services.workspace_for(case)).items()}


def progress(client: Any, case: Any) -> tuple[dict[str, int], dict[str, str]]:
    context = client.get(f"/cases/{case.pk}/").context
    panel = next(p["context"] for p in context["panels"] if "progress" in p["context"])
    return panel["progress"], {row["stage"]: row["state"] for row in panel["stages"]}


def test_saving_the_data_of_five_stages_counts_five_done(client: Any, case: Any, agent: Any, now: Any) -> None:
    services.record_answers(case, {"first_seen": "gestern Abend", "device": "iPhone 13"}, actor=agent)
    services.add_backup_export(case, {"projects": []}, actor=agent)
    services.save_reproduction(
        case, reproduced="yes", steps="1. Login 2. Lektion öffnen", environment="iOS 17", actor=agent
    )
    services.generate_documentation(case, actor=agent)
    services.schedule_follow_up(case, now + dt.timedelta(days=2), actor=agent, note="nachfragen")
    client.force_login(agent)
    counter, checklist = progress(client, case)
    done = {s for s, state in checklist.items() if state != StageState.OPEN}
    assert done == {"questions", "backup", "reproduction", "documentation", "follow_up"}
    assert counter == {"done": 5, "total": 10}
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert "5 von 10 Schritten erledigt" in html


def test_a_stage_that_needs_a_backup_is_not_settled_by_a_snapshot_alone(case: Any, agent: Any) -> None:
    services.add_snapshot(case, {"projects": [{"id": 1}]}, kind="original", actor=agent)
    assert states(case)["project"] == StageState.OPEN
    services.add_backup_export(case, {"projects": [{"id": 1}]}, actor=agent)
    services.add_snapshot(case, {"projects": [{"id": 1, "x": 2}]}, kind="current", actor=agent)
    assert states(case)["project"] == StageState.DONE


def test_a_stage_set_by_hand_is_not_overwritten_by_saving_data(case: Any, agent: Any) -> None:
    services.set_stage(case, "questions", "not_needed", actor=agent, notes="Kundin hat alles schon geschrieben")
    services.record_answers(case, {"first_seen": "heute"}, actor=agent)
    assert states(case)["questions"] == StageState.NOT_NEEDED


def test_skipping_needs_a_reason(client: Any, case: Any, agent: Any) -> None:
    with pytest.raises(services.WorkspaceError) as exc:
        services.set_stage(case, "project", "not_needed", actor=agent, notes="  ")
    assert exc.value.field == "notes"
    client.force_login(agent)
    response = client.post(
        f"/troubleshooting/cases/{case.pk}/stage/", {"stage": "project", "state": "not_needed"}, follow=True
    )
    assert "Begründung: bitte begründen, warum dieser Schritt nicht zutrifft" in response.content.decode()
    client.post(
        f"/troubleshooting/cases/{case.pk}/stage/",
        {"stage": "project", "state": "not_needed", "notes": "keine Projektdaten betroffen"},
    )
    counter, checklist = progress(client, case)
    assert checklist[Stage.PROJECT] == StageState.NOT_NEEDED and counter["done"] == 1
