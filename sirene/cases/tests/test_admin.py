"""The admin shows cases but cannot change them past cases.services (no audit trail, no holding reply)."""

from __future__ import annotations

from typing import Any

import pytest

from sirene.cases import services as cases
from sirene.cases.models import CaseEvent, Status

pytestmark = pytest.mark.django_db


def test_a_superuser_sees_a_case_in_the_admin_but_cannot_change_add_or_delete_it(
    client: Any, admin_user: Any
) -> None:
    stored = cases.intake(
        cases.IntakeData(
            source="test",
            external_id="A-1",
            subject="Login geht nicht",
            body="Fehler 502 beim Login.",
            customer=cases.CustomerData(email="kunde@example.de"),
        )
    )
    case = stored.case
    assert case is not None
    events = CaseEvent.objects.filter(case=case).count()
    client.force_login(admin_user)

    assert "Login geht nicht" in client.get("/admin/cases/case/").content.decode()
    page = client.get(f"/admin/cases/case/{case.pk}/change/")
    assert page.status_code == 200 and "Login geht nicht" in page.content.decode()
    assert 'name="_save"' not in page.content.decode()

    posted = client.post(
        f"/admin/cases/case/{case.pk}/change/",
        {"status": Status.SOLVED, "subject": "geändert", "owner": admin_user.pk},
    )
    assert posted.status_code == 403
    assert client.get("/admin/cases/case/add/").status_code == 403
    assert client.post(f"/admin/cases/case/{case.pk}/delete/", {"post": "yes"}).status_code == 403

    case.refresh_from_db()
    assert case.subject == "Login geht nicht" and case.status != Status.SOLVED and case.owner is None
    assert CaseEvent.objects.filter(case=case).count() == events
