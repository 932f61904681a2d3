"""A case whose analysis keeps failing: bounded retries with backoff, one event per kind of failure, a dead
state on the case page with a retry button — no retry storm.

The failing part is the encoder (the third-party model behind the similarity library's Encoder
interface): a stand-in encoder raises like a crashed model, then recovers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pytest

from sirene.cases import analysis
from sirene.cases import services as cases
from sirene.cases.models import AnalysisJob, CaseEvent
from sirene.core import clock
from sirene.flows import intake
from sirene.similarity import encoders

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


class FlakyEncoder:
    name = "flaky"

    def __init__(self, real: Any) -> None:
        self.real = real
        self.dim = real.dim
        self.error: BaseException | None = RuntimeError("model crashed")
        self.calls = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return self.real.encode(texts)  # type: ignore[no-any-return]


@pytest.fixture
def flaky(monkeypatch: pytest.MonkeyPatch) -> Iterator[FlakyEncoder]:
    fake = FlakyEncoder(encoders.default_encoder())
    monkeypatch.setattr(encoders, "_DEFAULT", fake)
    yield fake


def _intake() -> Any:
    result = intake.report_case(
        cases.IntakeData(
            source="api",
            external_id="flaky-1",
            subject="Video lädt nicht",
            body="Seit heute lädt das Video in Lektion 3 nicht mehr.",
            customer=cases.CustomerData(email="k@example.com"),
        ),
        actor_label="api",
    )
    return result.case


def _failure_events(case: Any) -> list[CaseEvent]:
    return list(CaseEvent.objects.filter(case=case, data__has_key="analysis_failure"))


def test_a_failing_analysis_backs_off_logs_once_per_kind_and_ends_dead(flaky: FlakyEncoder) -> None:
    clock.set_now(T0)
    case = _intake()
    case.refresh_from_db()
    assert case.analysed_at is None, "the case is stored although its analysis failed"
    job = AnalysisJob.objects.get(case=case)
    assert job.tries == 1 and job.due_at is not None and job.due_at > T0

    for _ in range(5):  # the worker loops: nothing is due before the backoff ran out
        intake.analyse_pending()
    assert flaky.calls == 1

    waits = []
    for round_ in range(5):
        job.refresh_from_db()
        if round_ == 2:
            flaky.error = MemoryError("out of memory")  # a second kind of failure
        assert job.due_at is not None
        waits.append((job.due_at - clock.now()).total_seconds())
        clock.set_now(job.due_at)
        intake.analyse_pending()
    job.refresh_from_db()
    assert job.dead_at is not None and job.tries == analysis.ANALYSIS.backoff.max_tries
    assert flaky.calls == 6
    assert waits[1] > waits[0] * 1.3, "exponential backoff"
    kinds = sorted(e.data["analysis_failure"] for e in _failure_events(case))
    assert kinds == ["MemoryError", "RuntimeError"], "one event per kind of failure, not one per try"
    assert CaseEvent.objects.filter(case=case, data__has_key="analysis_dead").count() == 1

    clock.advance(days=3)
    for _ in range(5):
        intake.analyse_pending()
    assert flaky.calls == 6, "dead: waits for a person"


def test_the_case_page_shows_the_dead_analysis_and_its_retry_button_works(
    flaky: FlakyEncoder, client: Any, agent: Any
) -> None:
    clock.set_now(T0)
    case = _intake()
    AnalysisJob.objects.filter(case=case).update(
        tries=6, dead_at=T0, due_at=None, last_error="RuntimeError: x"
    )
    client.force_login(agent)
    html = client.get(case.get_absolute_url()).content.decode()
    assert "Analyse aufgegeben" in html and "Analyse erneut versuchen" in html

    flaky.error = None  # the model is back
    response = client.post(f"/cases/{case.pk}/analysis/retry/")
    assert response.status_code == 302
    assert not analysis.retry(case), "a second click changes nothing"
    intake.analyse_pending()
    case.refresh_from_db()
    assert case.analysed_at is not None
    assert not AnalysisJob.objects.filter(case=case).exists()
    html = client.get(case.get_absolute_url()).content.decode()
    assert "Analyse aufgegeben" not in html
