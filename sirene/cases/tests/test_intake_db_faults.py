"""The database fails during intake (security review F11): either nothing is stored and the API answers 503
with Retry-After, or the case is stored and the API answers 201 — never "500 but stored". The fault is
injected at the database driver boundary (Django's public `connection.execute_wrapper`), so every query
of ours runs as it would and only the database's answer changes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import OperationalError, connection

from sirene.cases.models import Case
from sirene.flows import intake

pytestmark = pytest.mark.django_db(transaction=True)

REPORT = {
    "source": "api",
    "external_id": "db-fault-1",
    "subject": "Login geht nicht",
    "body": "Das Passwort wird nicht angenommen.",
    "customer": {"email": "k1@example.com"},
}


class DatabaseGoesDown:
    """Every query fails from the first one containing `at` (a piece of SQL), or from the start."""

    def __init__(self, at: str = "") -> None:
        self.at = at
        self.down = not at

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        if self.at and self.at in sql:
            self.down = True
        if self.down:
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)


def test_database_down_before_the_case_is_stored_is_503_with_retry_after_and_nothing_stored(api: Any) -> None:
    with connection.execute_wrapper(DatabaseGoesDown()):
        response = api.post("/api/v1/cases", REPORT)
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert response.json()["error"] == "the database is not available, please retry"
    assert Case.objects.count() == 0
    assert api.post("/api/v1/cases", REPORT).status_code == 201  # the retry


def test_database_down_right_after_the_case_is_stored_is_201_and_the_worker_analyses_it_later(api: Any) -> None:
    # The analysis writes the embedded text: the intake transaction has committed long before.
    with connection.execute_wrapper(DatabaseGoesDown(at='SET "clean_text"')):
        response = api.post("/api/v1/cases", REPORT)
    assert response.status_code == 201, response.content
    case = Case.objects.get(external_id="db-fault-1")
    assert response.json()["id"] == case.pk and case.analysed_at is None
    assert intake.analyse_pending() == 1
    case.refresh_from_db()
    assert case.analysed_at is not None
    again = api.post("/api/v1/cases", REPORT)  # a retry by the sender changes nothing
    assert again.status_code == 200 and Case.objects.count() == 1
