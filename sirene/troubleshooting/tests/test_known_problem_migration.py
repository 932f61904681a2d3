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
    try:
        # Read through the migration's state: the models of today may have columns of later migrations.
        new = executor.loader.project_state(AFTER).apps.get_model("troubleshooting", "Workspace")
        assert new.objects.get(case_id=kept_case.pk).known_problem_id == problem.pk
        assert new.objects.get(case_id=dangling_case.pk).known_problem_id is None
        assert new.objects.get(case_id=empty_case.pk).known_problem_id is None
    finally:
        # Every later migration again, or the tests after this one meet an old schema.
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    # The constraint holds from now on: deleting the problem empties the link instead of leaving an id.
    problem.delete()
    assert Workspace.objects.get(case=kept_case).known_problem_id is None
