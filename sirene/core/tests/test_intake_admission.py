"""Under overload the intake pushes back (issue 23): a bounded queue, then 503 with Retry-After at once."""

from __future__ import annotations

from typing import Any

import pytest

from sirene.cases.models import Case
from sirene.core import middleware

pytestmark = pytest.mark.django_db

REPORT = {"source": "api", "external_id": "adm-1", "subject": "Login", "body": "geht nicht", "customer": {"email": "a@example.com"}}


def test_a_full_intake_answers_503_with_retry_after_and_stores_nothing(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    admission = middleware.IntakeAdmission(concurrency=1, queue=0, wait_seconds=0.0)
    monkeypatch.setattr(middleware, "_admission", admission)
    assert admission.acquire()  # another report is being analysed right now
    refused = api.post("/api/v1/cases", REPORT)
    assert refused.status_code == 503 and refused["Retry-After"] == "2"
    assert refused.json()["error"] == "too many reports at once, please retry"
    assert Case.objects.count() == 0
    assert api.get("/api/v1/cases").status_code == 200  # only the intake is admitted, reads are not
    admission.release()
    assert api.post("/api/v1/cases", REPORT).status_code == 201


def test_the_queue_is_bounded() -> None:
    admission = middleware.IntakeAdmission(concurrency=1, queue=1, wait_seconds=0.01)
    assert admission.acquire()
    assert admission.acquire() is False  # waited its 10 ms in the queue, then refused
    admission.release()
    assert admission.acquire()
