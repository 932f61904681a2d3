"""The window store holds exactly what the database holds, whatever the order reports are analysed in,
whichever thread decides, and whatever rolls back (the review's P1; real intake, real encoder, the six
login wordings of the incidents tests)."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest
from django.db import connections, transaction

from sirene.cases import services as cases
from sirene.cases.models import Case
from sirene.detection.store import STORE
from sirene.flows import intake
from sirene.incidents.models import Incident
from sirene.incidents.tests.conftest import LOGIN_REPORTS, make_case


def _data(i: int) -> cases.IntakeData:
    subject, body = LOGIN_REPORTS[i]
    return cases.IntakeData(
        source="test",
        external_id=f"order-{i}",
        subject=subject,
        body=body,
        customer=cases.CustomerData(email=f"kundin{i}@example.org"),
        tags=["technik"],
    )


@pytest.mark.django_db
@pytest.mark.parametrize("first_stored_only", [False, True])
def test_the_sixth_customer_opens_whatever_the_analysis_order(first_stored_only: bool) -> None:
    if first_stored_only:
        cases.intake(_data(0))  # stored; its analysis failed or was deferred
        for i in range(1, 6):
            intake.report_case(_data(i))
        assert Incident.objects.count() == 0  # five analysed customers
        assert intake.analyse_pending() == 1  # the retry analyses case 0 last
    else:
        for i in range(6):
            intake.report_case(_data(i))
    incident = Incident.objects.get()
    assert incident.customers_affected == 6
    assert incident.cases.count() == 6
    # Reconciled on what changed: the late case came in by its analysis stamp, not by a re-read.
    assert STORE.rebuilds == 1


@pytest.mark.django_db
def test_a_rolled_back_analysis_leaves_nothing_in_the_window() -> None:
    for i in range(4):
        intake.report_case(_data(i))
    stored = cases.intake(_data(4)).case
    assert stored is not None

    class RolledBack(Exception):
        pass

    with pytest.raises(RolledBack), transaction.atomic():
        assert intake.analyse(stored)  # the 5th customer is analysed, decided on …
        assert STORE.holds(stored.pk)
        raise RolledBack  # … and its transaction rolls back
    stored.refresh_from_db()
    assert stored.analysed_at is None and stored.embedding is None
    intake.report_case(_data(5))  # a 6th customer, but only five analysed reports: nothing opens
    assert not STORE.holds(stored.pk)
    assert Incident.objects.count() == 0
    assert intake.analyse_pending() == 1  # the retry: now there are six
    incident = Incident.objects.get()
    assert incident.customers_affected == 6
    assert stored.pk in set(incident.cases.values_list("id", flat=True))


@pytest.mark.django_db(transaction=True)
def test_two_threads_deciding_at_once_open_one_incident() -> None:
    for i in range(4):
        intake.report_case(_data(i))  # committed
    racers = [cases.intake(_data(i)).case for i in (4, 5)]  # stored, analysed by the two threads
    barrier = threading.Barrier(len(racers))
    errors: list[BaseException] = []

    def work(case: Any) -> None:
        try:
            barrier.wait()
            assert intake.analyse(case)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(c,)) for c in racers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert Case.objects.filter(analysed_at__isnull=True).count() == 0
    incident = Incident.objects.get()
    assert incident.customers_affected == 6
    assert incident.cases.count() == 6


@pytest.mark.django_db
def test_reports_of_another_encoder_are_not_compared() -> None:
    from sirene.flows import intake as intake_flow

    vector = np.ones(8, dtype=np.float32)
    made = [make_case(f"k{i}@example.org", "Login geht nicht, Fehler 502", vector=vector) for i in range(6)]
    Case.objects.filter(pk=made[5].pk).update(encoder="another-encoder")
    made[5].refresh_from_db()
    for case in made:
        with transaction.atomic():
            intake_flow.group_and_escalate(case)
    assert Incident.objects.count() == 0  # five of one encoder, one of another
    sixth = make_case("k6@example.org", "Login geht nicht, Fehler 502", vector=vector)
    with transaction.atomic():
        intake_flow.group_and_escalate(sixth)
    incident = Incident.objects.get()
    assert made[5].pk not in set(incident.cases.values_list("id", flat=True))
    assert incident.customers_affected == 6


@pytest.mark.django_db
def test_an_agents_split_made_in_another_process_reaches_this_window(agent: Any) -> None:
    from sirene.core import clock
    from sirene.detection.store import WindowStore
    from sirene.flows import incidents as incident_flows

    vector = np.ones(8, dtype=np.float32)
    made = [make_case(f"k{i}@example.org", "Login geht nicht, Fehler 502", vector=vector) for i in range(3)]
    for case in made:
        with transaction.atomic():
            intake.group_and_escalate(case)
    worker = WindowStore()  # the window of another process, e.g. `sirene worker`
    with worker.lock:
        view = worker.sync(clock.now(), "test-vectors")
    assert view.window.reports[made[0].pk].group == ""
    group = made[0].problem_membership.group
    new = incident_flows.split_group(group, [made[0]], user=agent)  # the web process
    with worker.lock:
        view = worker.sync(clock.now(), "test-vectors")
    assert view.window.reports[made[0].pk].group == f"g{new.pk}"
    assert worker.rebuilds == 1  # relabelled in place
