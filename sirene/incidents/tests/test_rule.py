from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.db import transaction

from sirene.core import clock
from sirene.flows import intake as intake_flow
from sirene.incidents import rules
from sirene.incidents.models import Incident, IncidentRule, ProblemGroup
from sirene.incidents.tests.conftest import make_case


def _report(email: str | None, **kw: object) -> None:
    with transaction.atomic():
        intake_flow.group_and_escalate(make_case(email, "Login geht nicht, Fehler 502", **kw))  # type: ignore[arg-type]


def test_one_customer_writing_four_times_counts_once(db: None) -> None:
    for _ in range(4):
        _report("same@example.org")
    for i in range(4):
        _report(f"other{i}@example.org")
    assert Incident.objects.count() == 0  # 5 distinct customers, 8 reports
    _report("sixth@example.org")
    incident = Incident.objects.get()
    assert (incident.customers_affected, incident.reports) == (6, 9)


def test_a_customer_without_email_counts_by_helpdesk_id(db: None) -> None:
    for i in range(5):
        _report(None, external_id=f"groove-{i}")
    _report(None, external_id="groove-0")
    assert Incident.objects.count() == 0
    _report(None, external_id="groove-5")
    assert Incident.objects.get().customers_affected == 6


def test_reports_older_than_the_window_do_not_count(db: None) -> None:
    start = clock.now()
    clock.set_now(start - timedelta(hours=30))
    for i in range(3):
        _report(f"old{i}@example.org")
    clock.set_now(start)
    for i in range(5):
        _report(f"new{i}@example.org")
    assert Incident.objects.count() == 0


def test_a_per_category_rule_lowers_the_threshold(db: None) -> None:
    IncidentRule.objects.create(category="login", threshold=2, window_hours=12)
    rules.clear_cache()
    for i in range(3):
        _report(f"k{i}@example.org")
    assert Incident.objects.count() == 1


def test_env_rules_parse_and_reject_nonsense() -> None:
    assert rules.parse_env_rules("login=3/12, checkout=4") == {"login": (3, 12.0), "checkout": (4, None)}
    with pytest.raises(ValueError, match="category=N"):
        rules.parse_env_rules("login")
    with pytest.raises(ValueError, match="N >= 1"):
        rules.parse_env_rules("login=0")


def test_the_floor_is_the_sixth_customer_and_nothing_raises_it() -> None:
    rule = rules.default_rule()
    assert not rules.decide(5, rule).fire
    assert rules.decide(6, rule).fire and rules.decide(6, rule).required == 6
    assert rule.describe() == "ab der 6. Kundin / dem 6. Kunden innerhalb von 24 h"
    never = rules.Rule(5, 24.0, "category", pages=False, subject="login")
    assert not rules.decide(50, never).fire
    assert "keine Alarmierung" in never.describe()


def test_an_everyday_problem_with_days_of_history_still_opens_at_the_sixth(db: None) -> None:
    start = clock.now()
    for day in range(4, 0, -1):  # four days with 4 customers each: history, never "usual rate"
        clock.set_now(start - timedelta(days=day))
        for i in range(4):
            _report(f"d{day}-{i}@example.org")
    clock.set_now(start)
    for i in range(5):
        _report(f"today{i}@example.org")
    assert Incident.objects.count() == 0
    _report("today5@example.org")
    incident = Incident.objects.get()
    assert incident.customers_affected == 6
    assert incident.brief["rate"]["rule"] == "ab der 6. Kundin / dem 6. Kunden innerhalb von 24 h"


def test_a_rule_for_one_known_problem_wins_over_the_category(db: None) -> None:
    IncidentRule.objects.create(known_problem_key="kp-passwort", threshold=14, window_hours=24)
    IncidentRule.objects.create(category="login", threshold=3, window_hours=24)
    rules.clear_cache()
    rule = rules.rule_for("login", "kp-passwort")
    assert (rule.threshold, rule.source) == (14, "known_problem")
    assert "15. Kundin" in rule.describe() and "kp-passwort" in rule.describe()
    assert rules.rule_for("login").threshold == 3


def test_later_cases_join_the_open_incident_and_the_timeline_says_so(db: None) -> None:
    for i in range(6):
        _report(f"k{i}@example.org")
    _report("late@example.org")
    incident = Incident.objects.get()
    assert incident.cases.count() == 7
    assert incident.events.filter(kind="case_joined").count() == 1
    assert incident.customers_affected == 7


def test_unrelated_reports_do_not_join_the_group(db: None) -> None:
    a = np.zeros(8, dtype=np.float32)
    a[0] = 1
    b = np.zeros(8, dtype=np.float32)
    b[1] = 1
    for i in range(4):
        _report(f"a{i}@example.org", vector=a)
        _report(f"b{i}@example.org", vector=b, category="checkout")
    assert ProblemGroup.objects.count() == 2
    assert Incident.objects.count() == 0


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_workers_never_open_two_incidents_for_the_same_group() -> None:
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite has no row locks across connections")
    for i in range(5):
        _report(f"k{i}@example.org")
    cases = [make_case(f"racer{i}@example.org", "Login geht nicht, Fehler 502") for i in range(8)]
    barrier = threading.Barrier(len(cases))
    errors: list[BaseException] = []

    def worker(case: object) -> None:
        try:
            barrier.wait()
            with transaction.atomic():
                intake_flow.group_and_escalate(case)  # type: ignore[arg-type]
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(c,)) for c in cases]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert Incident.objects.count() == 1
    assert Incident.objects.get().cases.count() == 13
