"""The deciding evidence is counted around the new report: one problem whose wordings the grouping
split over two young groups still opens ONE incident at the 6th customer; unrelated clusters of the
same category do not add up."""

from __future__ import annotations

from typing import Any

import numpy as np
from django.db import transaction

from sirene.flows import incidents as incident_flows
from sirene.flows import intake as intake_flow
from sirene.incidents.models import GroupMembership, Incident, ProblemGroup
from sirene.incidents.tests.conftest import make_case


def _unit(*axes: int) -> np.ndarray:
    v = np.zeros(8, dtype=np.float32)
    v[list(axes)] = 1.0
    return v / np.linalg.norm(v)


def _report(email: str, vector: np.ndarray, category: str = "login") -> Any:
    with transaction.atomic():
        case = make_case(email, "Login geht nicht", category=category, vector=vector)
        intake_flow.group_and_escalate(case)
    return case


def test_one_problem_split_over_two_groups_opens_one_incident_at_the_sixth_customer(db: None) -> None:
    # Two wordings of one problem: far apart as groups (cosine 0), so the grouping keeps them
    # apart; a report that says both links them (cosine 0.71 to each).
    first = [_report(f"a{i}@web.de", _unit(0)) for i in range(3)]
    second = [_report(f"b{i}@web.de", _unit(1)) for i in range(2)]
    assert ProblemGroup.objects.filter(merged_into__isnull=True).count() == 2
    assert Incident.objects.count() == 0, "five customers are not an incident"
    bridge = _report("c0@web.de", _unit(0, 1))
    incident = Incident.objects.get()
    assert incident.customers_affected == 6
    assert sorted(incident.cases.values_list("id", flat=True)) == sorted(
        c.pk for c in [*first, *second, bridge]
    )
    # The fragments became one group, so later reports of either wording join the same incident.
    assert GroupMembership.objects.filter(case__in=[*first, *second]).values("group").distinct().count() == 1
    later = _report("b9@web.de", _unit(1))
    assert Incident.objects.count() == 1
    assert incident.cases.filter(pk=later.pk).exists()


def test_two_unrelated_small_clusters_of_one_category_open_nothing(db: None) -> None:
    for i in range(3):
        _report(f"a{i}@web.de", _unit(0))
    for i in range(3):
        _report(f"b{i}@web.de", _unit(1))
    assert Incident.objects.count() == 0
    assert ProblemGroup.objects.filter(merged_into__isnull=True).count() == 2


def test_similar_reports_of_another_category_do_not_count(db: None) -> None:
    for i in range(3):
        _report(f"a{i}@web.de", _unit(0))
    for i in range(2):
        _report(f"b{i}@web.de", _unit(1), category="checkout")
    _report("c0@web.de", _unit(0, 1))
    assert Incident.objects.count() == 0


def test_a_group_an_agent_split_off_is_not_merged_back_by_similar_reports(db: None) -> None:
    cases = [_report(f"a{i}@web.de", _unit(0)) for i in range(3)]
    group = ProblemGroup.objects.get(memberships__case=cases[0])
    # The agent says: the last two are a different problem.
    incident_flows.split_group(group, cases[1:])
    _report("b0@web.de", _unit(0, 1))
    _report("b1@web.de", _unit(0, 1))
    _report("b2@web.de", _unit(0, 1))
    # 6 customers of similar wording, but 2 of them sit in a group the agent made: only 4 count.
    assert Incident.objects.count() == 0
