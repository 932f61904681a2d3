"""The grouping's per-process cache of group rows: a group written anywhere else is read again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from django.db import transaction

from sirene.core import clock
from sirene.incidents import grouping
from sirene.incidents.models import GroupMembership, ProblemGroup
from sirene.incidents.tests.conftest import make_case

pytestmark = pytest.mark.django_db


def _unit(*values: float) -> Any:
    v = np.zeros(8, dtype=np.float32)
    v[: len(values)] = values
    return (v / np.linalg.norm(v)).astype(np.float32)


def _cached(group_id: int) -> tuple[Any, Any]:
    """(centroid bytes, recent member bytes) as the next new case would see them."""
    groups, versions = grouping._candidates(clock.now() - timedelta(days=grouping.CANDIDATE_DAYS))
    row = next(g for g in groups if g[0] == group_id)
    members = grouping._cached_members([group_id], versions)[group_id]
    return bytes(row[1]), bytes(members) if members is not None else None


def test_a_group_rebuilt_elsewhere_with_the_same_count_and_last_seen_is_read_again() -> None:
    grouping.clear_cache()
    case = make_case("a@example.de", "Login geht nicht", vector=_unit(1, 0))
    group = grouping.assign(case).group
    assert _cached(group.pk)[0] == _unit(1, 0).tobytes()
    # Another process (an agent's move, a rebuild) changes the vectors; count and last_seen stay.
    ProblemGroup.objects.filter(pk=group.pk).update(
        centroid=_unit(0, 1).tobytes(), recent_vectors=_unit(0, 1).tobytes()
    )
    assert _cached(group.pk) == (_unit(0, 1).tobytes(), _unit(0, 1).tobytes())
    stored = ProblemGroup.objects.get(pk=group.pk)
    stored.centroid = _unit(1, 1).tobytes()
    stored.save(update_fields=["centroid"])
    assert _cached(group.pk)[0] == _unit(1, 1).tobytes()


def test_a_write_that_was_rolled_back_is_not_trusted() -> None:
    grouping.clear_cache()
    first = make_case("a@example.de", "Login geht nicht", vector=_unit(1, 0))
    group = grouping.assign(first).group
    second = make_case("b@example.de", "Login geht nicht", vector=_unit(1, 0.2))
    with pytest.raises(RuntimeError), transaction.atomic():
        joined = grouping.assign(second)
        assert joined.group_id == group.pk  # this process remembered the write ...
        raise RuntimeError("the intake failed")
    # ... which never happened: the next case sees the group as stored.
    assert _cached(group.pk)[0] == _unit(1, 0).tobytes()
    assert not GroupMembership.objects.filter(case=second).exists()


def test_a_membership_read_with_the_case_is_used_and_a_missing_one_is_queried() -> None:
    from sirene.cases.models import Case

    grouping.clear_cache()
    case = make_case("a@example.de", "Login geht nicht", vector=_unit(1, 0))
    membership = grouping.assign(case)
    loaded = Case.objects.select_related("problem_membership__group").get(pk=case.pk)
    assert grouping.assign(loaded).pk == membership.pk  # idempotent, from the joined read
    assert grouping.assign(Case.objects.get(pk=case.pk)).pk == membership.pk  # queried
