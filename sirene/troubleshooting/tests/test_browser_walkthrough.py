"""An agent takes a new case from intake to documented solution and follow-up without leaving sirene."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from conftest import login
from sirene.knowledge.models import KnownProblem
from sirene.troubleshooting.models import Backup, Conversion, FollowUp, StageEntry, StageState

from .conftest import make_case

pytestmark = pytest.mark.django_db(transaction=True)


def settle(page: Any, stage: str, state: str = "done") -> None:
    """Mark a stage done by hand (unless saving its data already did) or skip it with a reason."""
    box = page.locator(f"#stage-{stage} .stage-state")
    if state == "done":
        button = box.locator("input[name=state][value=done] ~ button")
        if button.count():
            button.click()
            page.wait_for_load_state()
        return
    page.click(f"#stage-{stage} details.skip summary")
    box.locator("input[name=notes]").fill("trifft hier nicht zu")
    box.locator("details.skip button").click()
    page.wait_for_load_state()


def auto_done(stage: str, case: Any) -> bool:
    return StageEntry.objects.get(workspace__case=case, stage=stage).state == StageState.DONE


def test_an_agent_walks_a_case_through_every_stage(browser_page: Any, agent: Any) -> None:
    page = browser_page
    case = make_case("B-1", name="Maria Müller")
    login(page, "anna", "agent-pass-123")
    page.goto(f"/cases/{case.pk}/")
    # Only the current stage opens by itself; this agent works through all of them out of order, so
    # every page load unfolds them (as clicking each stage's title would).
    assert page.locator(".stage > details[open]").count() == 1
    page.add_init_script(
        "document.addEventListener('DOMContentLoaded', () => "
        "document.querySelectorAll('.stage > details').forEach(d => { d.open = true; }))"
    )
    page.reload()
    page.click("#take-ownership")
    assert "Anna" in page.inner_text("#case-owner")

    page.fill("#stage-preparation input[name=note]", "Bitte Crash-Logs prüfen")
    page.click("#forward-to-tech")
    assert "Du bleibst" in page.inner_text("main")
    settle(page, "preparation")
    settle(page, "history")
    settle(page, "open_tickets", "not_needed")

    page.fill("#stage-articles input[name=article]", "https://hilfe.example.com/app-neu-installieren")
    page.fill("#stage-articles input[name=title]", "App neu installieren")
    page.click("#add-article")
    assert "App neu installieren" in page.inner_text("#articles-read")
    settle(page, "articles")

    reply = page.input_value("#reply-text")
    assert "Hallo Maria Müller" in reply and "zum ersten Mal" in reply
    page.fill("#stage-questions input[name=first_seen]", "Seit dem Update am Montag")
    page.fill("#stage-questions input[name=action_before]", "App aktualisiert")
    page.fill("#stage-questions input[name=app_version]", "3.4.0")
    page.fill("#stage-questions input[name=device]", "Pixel 8")
    page.click("#save-answers")
    assert page.is_visible("#reply-text-none")
    assert auto_done("questions", case)  # saving the answers settled the stage

    settle(page, "project")  # refused: no backup yet
    assert "Datensicherung" in page.inner_text(".flash.error")
    for kind, data in (
        ("original", {"projects": [{"id": 1, "status": "ok"}]}),
        ("current", {"projects": [{"id": 1, "status": "kaputt"}]}),
    ):
        page.select_option("#stage-project select[name=kind]", kind)
        page.fill("#stage-project textarea[name=data]", json.dumps(data))
        page.click("#add-snapshot")
    assert "projects[id=1].status" in page.inner_text("#snapshot-diff")
    page.click("#backup-snapshot")
    assert Backup.objects.filter(case=case).count() == 1
    page.select_option("#stage-project select[name=result]", "success")
    page.click("#record-conversion")
    assert Conversion.objects.filter(case=case).count() == 1
    settle(page, "project")
    settle(page, "backup")

    page.select_option("#stage-reproduction select[name=reproduced]", "yes")
    page.fill("#stage-reproduction textarea[name=steps]", "App öffnen, Lektion 4 starten")
    page.click("#save-reproduction")
    settle(page, "reproduction")

    page.click("#generate-documentation")
    assert "App öffnen, Lektion 4 starten" in page.input_value("#documentation-text")
    page.click("#make-known-problem")
    assert page.is_visible("#known-problem-done")
    assert KnownProblem.objects.count() == 1
    settle(page, "documentation")

    due = (dt.datetime.now() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    page.fill("#stage-follow_up input[name=due_at]", due)
    page.fill("#stage-follow_up input[name=note]", "Kundin ruft zurück")
    page.click("#schedule-follow-up")
    assert FollowUp.objects.filter(case=case).count() == 1
    settle(page, "follow_up")

    assert "10 von 10" in page.inner_text("#workspace-progress")
    assert set(StageEntry.objects.filter(workspace__case=case).values_list("state", flat=True)) <= {
        StageState.DONE,
        StageState.NOT_NEEDED,
    }
    page.goto("/troubleshooting/my-cases/")
    assert f"#{case.pk}" in page.inner_text("main")
