"""The background-work primitive on the real store (SQLite or PostgreSQL, whichever the run uses):
leases, takeover after a crash, bounded backoff with jitter, the dead state and a person's retry."""

from __future__ import annotations

import datetime as dt
import random
import threading
from typing import Any

import pytest
from django.db import close_old_connections
from django.db.models import Q

from sirene.cases.models import AnalysisJob, Case, Customer
from sirene.core import clock, jobs

START = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
QUEUE = jobs.Queue(
    "test", AnalysisJob, lease_seconds=30, backoff=jobs.Backoff(base=10, cap=100, max_tries=4, jitter=0.2)
)


def make_jobs(n: int, *, due: dt.datetime = START) -> list[AnalysisJob]:
    customer = Customer.objects.create(email=f"c{random.randint(0, 10**9)}@example.com")
    rows = []
    for i in range(n):
        case = Case.objects.create(source="test", external_id=f"{customer.pk}-{i}", customer=customer)
        rows.append(AnalysisJob.objects.create(case=case, due_at=due + dt.timedelta(seconds=i)))
    return rows


@pytest.fixture
def now() -> dt.datetime:
    clock.set_now(START + dt.timedelta(minutes=1))
    return clock.now()


@pytest.mark.django_db
def test_a_claim_leases_due_rows_oldest_first_and_counts_a_try(now: dt.datetime) -> None:
    rows = make_jobs(3)
    later = Case.objects.create(source="t", external_id="later", customer=rows[0].case.customer)
    AnalysisJob.objects.create(case=later, due_at=now + dt.timedelta(hours=1))
    claimed = QUEUE.claim("w1", limit=2)
    assert claimed == [rows[0].pk, rows[1].pk]
    first = AnalysisJob.objects.get(pk=rows[0].pk)
    assert (
        first.lease_owner == "w1" and first.lease_until == now + dt.timedelta(seconds=30) and first.tries == 1
    )
    assert QUEUE.claim("w2", limit=10) == [rows[2].pk], "leased and future rows are not due"


@pytest.mark.django_db
def test_a_crashed_workers_lease_runs_out_and_another_takes_the_row_over(now: dt.datetime) -> None:
    [row] = make_jobs(1)
    assert QUEUE.claim("dead-worker") == [row.pk]
    clock.advance(seconds=29)
    assert QUEUE.claim("w2") == []
    clock.advance(seconds=2)
    assert QUEUE.claim("w2") == [row.pk]
    assert not QUEUE.renew(row.pk, "dead-worker"), "the old owner lost it"
    assert not QUEUE.complete(row.pk, "dead-worker")
    assert QUEUE.complete(row.pk, "w2")
    row.refresh_from_db()
    assert row.due_at is None and row.lease_owner == "" and row.tries == 2


@pytest.mark.django_db
def test_renew_extends_the_lease(now: dt.datetime) -> None:
    [row] = make_jobs(1)
    QUEUE.claim("w1")
    clock.advance(seconds=25)
    assert QUEUE.renew(row.pk, "w1")
    clock.advance(seconds=25)
    assert QUEUE.claim("w2") == []


@pytest.mark.django_db
def test_failures_back_off_exponentially_with_jitter_then_the_row_is_dead(now: dt.datetime) -> None:
    [row] = make_jobs(1)
    delays = []
    for expected in (10, 20, 40):
        [pk] = QUEUE.claim("w1")
        failure = QUEUE.fail(pk, "w1", "encoder crashed")
        assert not failure.dead and failure.retry_at is not None
        delay = (failure.retry_at - clock.now()).total_seconds()
        assert expected * 0.8 <= delay <= expected * 1.2
        delays.append(delay)
        assert QUEUE.claim("w1") == [], "not due before the backoff ran out"
        clock.set_now(failure.retry_at)
    [pk] = QUEUE.claim("w1")
    failure = QUEUE.fail(pk, "w1", "encoder crashed again")
    assert failure.dead and failure.tries == 4
    row.refresh_from_db()
    assert row.dead_at == clock.now() and row.due_at is None and row.last_error == "encoder crashed again"
    clock.advance(days=30)
    assert QUEUE.claim("w1") == [], "a dead row waits for a person"
    backlog = QUEUE.backlog()
    assert backlog.dead == 1 and backlog.due == 0


@pytest.mark.django_db
def test_a_permanent_error_is_dead_at_once_and_revive_gives_fresh_tries(now: dt.datetime) -> None:
    [row] = make_jobs(1)
    [pk] = QUEUE.claim("w1")
    assert QUEUE.fail(pk, "w1", "bad token", permanent=True).dead
    assert QUEUE.revive(AnalysisJob.objects.filter(pk=row.pk)) == 1
    row.refresh_from_db()
    assert row.dead_at is None and row.tries == 0 and row.due_at == clock.now()
    assert QUEUE.claim("w1") == [row.pk]
    assert QUEUE.revive(AnalysisJob.objects.filter(pk=row.pk)) == 0, "only dead rows are revived"


@pytest.mark.django_db
def test_retry_after_is_a_floor_and_the_cap_holds() -> None:
    backoff = jobs.Backoff(base=10, cap=100, max_tries=20, jitter=0.2)
    rng = random.Random(1)
    assert all(backoff.delay(tries, rng=rng) <= 120 for tries in range(1, 20))
    assert backoff.delay(1, retry_after=300, rng=rng) == 300
    # Jitter spreads a burst: 50 rows failing together do not all come back in the same second.
    spread = {round(backoff.delay(3, rng=rng)) for _ in range(50)}
    assert len(spread) > 5


@pytest.mark.django_db
def test_take_once_consumes_the_row_for_exactly_one_taker(now: dt.datetime) -> None:
    once = jobs.Queue("once", AnalysisJob, owner=None, lease_until=None, where=Q(last_error=""))
    [row] = make_jobs(1)
    assert once.take_once(row.pk, last_error="taken")
    assert not once.take_once(row.pk, last_error="taken again")
    row.refresh_from_db()
    assert row.last_error == "taken" and row.tries == 1
    with pytest.raises(TypeError):
        once.claim("w1")


@pytest.mark.django_db
def test_backlog_reports_the_oldest_due_row(now: dt.datetime) -> None:
    make_jobs(3)
    backlog = QUEUE.backlog()
    assert backlog.due == 3 and backlog.oldest_due_at == START
    assert backlog.oldest_age_seconds() == 60


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_never_hand_one_row_to_two_workers() -> None:
    rows = make_jobs(60, due=clock.now() - dt.timedelta(minutes=5))
    got: dict[str, list[int]] = {}
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            mine: list[int] = []
            while True:
                batch = QUEUE.claim(name, limit=4)
                if not batch:
                    break
                mine.extend(batch)
            got[name] = mine
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    claimed: list[Any] = [pk for batch in got.values() for pk in batch]
    assert sorted(claimed) == sorted(r.pk for r in rows), "every row once, none twice"
