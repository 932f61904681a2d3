from __future__ import annotations

from typing import Any

from sirene.cases import services as cases
from sirene.cases.models import Status
from sirene.core import clock
from sirene.flows import cases as case_flows

from .conftest import make_case


def test_the_case_page_shows_the_workspace_in_german(client: Any, case: Any, agent: Any) -> None:
    client.force_login(agent)
    page = client.get(case.get_absolute_url()).content.decode()
    assert 'id="workspace"' in page
    assert "Datensicherung" in page and "Fragen an den Kunden" in page


def test_marking_the_project_stage_done_without_a_backup_shows_a_message(
    client: Any, case: Any, agent: Any
) -> None:
    client.force_login(agent)
    response = client.post(
        f"/troubleshooting/cases/{case.pk}/stage/", {"stage": "project", "state": "done"}, follow=True
    )
    assert "Datensicherung" in response.content.decode() or "backup" in response.content.decode()
    assert any("Datensicherung" in str(m) for m in response.context["messages"])


def test_my_cases_open_questions_and_overdue_pages_render(
    client: Any, case: Any, agent: Any, lead: Any
) -> None:
    cases.take_ownership(case, agent)
    case_flows.change_status(case, Status.OPEN_QUESTION, actor=agent)
    clock.advance(hours=30)
    client.force_login(agent)
    assert f"#{case.pk}" in client.get("/troubleshooting/my-cases/").content.decode()
    assert f"#{case.pk}" in client.get("/troubleshooting/open-questions/").content.decode()
    client.force_login(lead)
    overdue = client.get("/troubleshooting/overdue/").content.decode()
    assert f"#{case.pk}" in overdue and "Überfällig" in overdue


def test_a_snapshot_file_upload_records_the_snapshot(client: Any, case: Any, agent: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(agent)
    upload = SimpleUploadedFile("p.json", b'{"projects": [{"id": 1, "name": "A"}]}', "application/json")
    client.post(f"/troubleshooting/cases/{case.pk}/snapshot/", {"kind": "original", "file": upload})
    assert case.snapshots.get().data == {"projects": [{"id": 1, "name": "A"}]}


def test_unknown_workspace_action_is_404(client: Any, case: Any, agent: Any) -> None:
    client.force_login(agent)
    assert client.post(f"/troubleshooting/cases/{case.pk}/explode/").status_code == 404
    assert make_case("T-7") is not None
