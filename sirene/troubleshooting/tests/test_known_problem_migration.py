"""Migration 0002: the workspace's known-problem id becomes a foreign key; existing ids stay, dangling ones
become NULL."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from sirene.knowledge.models import KnownProblem
from sirene.troubleshooting.models import Workspace
from sirene.troubleshooting.tests.conftest import make_case

BEFORE = [("troubleshooting", "0001_initial")]
AFTER = [("troubleshooting", "0002_workspace_known_problem_foreign_key")]


@pytest.mark.django_db(transaction=True)
def test_existing_known_problem_ids_are_kept_and_dangling_ones_become_null(now: Any) -> None:
    kept_case, dangling_case, empty_case = make_case("M-1"), make_case("M-2"), make_case("M-3")
    problem = KnownProblem.objects.create(key="export-bricht-ab", title="Export bricht ab")
    gone = KnownProblem.objects.create(key="geloescht", title="Gelöscht")
    gone_id = gone.pk
    gone.delete()

    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps.get_model("troubleshooting", "Workspace")
    old.objects.create(case_id=kept_case.pk, known_problem_id=problem.pk)
    old.objects.create(case_id=dangling_case.pk, known_problem_id=gone_id)
    old.objects.create(case_id=empty_case.pk)

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)

    assert Workspace.objects.get(case=kept_case).known_problem == problem
    assert Workspace.objects.get(case=dangling_case).known_problem_id is None
    assert Workspace.objects.get(case=empty_case).known_problem_id is None
    # The constraint holds from now on: deleting the problem empties the link instead of leaving an id.
    problem.delete()
    assert Workspace.objects.get(case=kept_case).known_problem_id is None
