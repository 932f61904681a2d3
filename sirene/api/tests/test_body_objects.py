"""Every JSON body is an object (security review F1): a string, list, number, true or null sent to any write
operation of the OpenAPI document is a 422 naming `body`, and nothing is stored or changed."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.apps import apps

from sirene.accounts.models import ApiToken

NOT_OBJECTS = ['"AAA"', "[]", '["x"]', "7", "null", "true"]


def _counts() -> dict[str, int]:
    return {m._meta.label: m._default_manager.count() for m in apps.get_models()}


def _seed(agent: Any) -> tuple[int, int]:
    """A case and a known problem with a phrasing: the ids every path parameter gets."""
    from sirene.cases import services as cases
    from sirene.knowledge import services as knowledge

    result = cases.intake(
        cases.IntakeData(
            source="api",
            external_id="objects-1",
            subject="Login geht nicht",
            body="Das Passwort wird nicht angenommen.",
            customer=cases.CustomerData(email="k1@example.com"),
        )
    )
    assert result.case is not None
    problem = knowledge.create_known_problem(
        knowledge.ProblemData(title="Passwort abgelehnt", phrasings=["Passwort geht nicht"]), actor=agent
    )
    return result.case.pk, problem.pk


@pytest.mark.django_db(transaction=False)
def test_every_json_write_operation_refuses_a_body_that_is_not_an_object(
    client: Any, admin_user: Any, agent: Any
) -> None:
    case_id, problem_id = _seed(agent)
    spec = client.get("/api/v1/openapi.json").json()
    token = ApiToken.issue(admin_user, name="objects")[1]
    headers = {"Authorization": f"Bearer {token}"}
    operations = [
        (method, path)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if method in ("post", "put", "patch", "delete")
        and "application/json" in op.get("requestBody", {}).get("content", {})
    ]
    assert len(operations) >= 30  # the review counted 33 JSON write operations
    before = _counts()
    from sirene.knowledge.models import KnownProblem

    accepted = []
    for method, path in operations:
        ident = problem_id if path.startswith("/api/v1/knowledge/problems/") else case_id
        url = re.sub(r"\{[^}]+\}", str(ident), path)
        for body in NOT_OBJECTS:
            response = getattr(client, method)(url, body, content_type="application/json", headers=headers)
            answer = response.json() if response.get("Content-Type", "").startswith("application/json") else {}
            if response.status_code != 422 or answer.get("field") != "body":
                accepted.append(f"{method.upper()} {url} {body} -> {response.status_code} {answer}")
            else:
                assert answer["error"].startswith("body: must be a JSON object"), answer
    assert accepted == []
    assert _counts() == before
    problem = KnownProblem.objects.get(pk=problem_id)
    assert problem.title == "Passwort abgelehnt" and problem.phrasings.count() == 1


def test_an_object_body_still_works_and_the_string_names_its_kind(api: Any) -> None:
    response = api.post("/api/v1/incidents", raw='"AAA"')
    assert response.status_code == 422
    assert response.json() == {
        "error": "body: must be a JSON object, not a string",
        "field": "body",
        "errors": [{"field": "body", "message": "must be a JSON object, not a string"}],
    }
    assert json.loads(api.post("/api/v1/incidents", raw="null").content)["error"].endswith("not null")
    response = api.post("/api/v1/knowledge/problems", {"title": "Drucker streikt"})
    assert response.status_code == 201, response.content
