"""The OpenAPI document is a contract: every operation says what it answers, success and errors."""

from __future__ import annotations

from typing import Any

import pytest

METHODS = ("get", "post", "put", "patch", "delete")


def _typed(schema: Any, components: dict[str, Any], depth: int = 0) -> bool:
    """A schema with properties or typed items (through $ref and unions), not a bare object."""
    if not isinstance(schema, dict) or depth > 6:
        return False
    if "$ref" in schema:
        return _typed(components.get(schema["$ref"].rsplit("/", 1)[-1], {}), components, depth + 1)
    if schema.get("properties"):
        return True
    if schema.get("items"):
        return _typed(schema["items"], components, depth + 1)
    return any(
        _typed(s, components, depth + 1) for k in ("allOf", "anyOf", "oneOf") for s in schema.get(k, [])
    )


@pytest.fixture
def spec(client: Any, db: Any) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if method in METHODS
    ]


def test_every_operation_has_a_typed_success_schema(spec: dict[str, Any]) -> None:
    components = spec.get("components", {}).get("schemas", {})
    untyped = []
    for method, path, op in _operations(spec):
        ok = {code: r for code, r in op["responses"].items() if str(code).startswith("2")}
        assert ok, f"{method} {path} declares no success response"
        if "204" in ok:
            continue
        schemas = [m.get("schema", {}) for r in ok.values() for m in r.get("content", {}).values()]
        if not any(_typed(s, components) for s in schemas):
            untyped.append(f"{method} {path}")
    assert len(_operations(spec)) > 60
    assert untyped == []


def test_every_operation_declares_its_errors_with_the_one_error_body(spec: dict[str, Any]) -> None:
    components = spec["components"]["schemas"]
    assert set(components["ErrorOut"]["properties"]) >= {"error", "field"}
    assert components["ErrorOut"]["required"] == ["error"]
    for method, path, op in _operations(spec):
        codes = set(op["responses"])
        expected = set()
        if op.get("security"):  # public operations (health) cannot answer 401
            expected.add("401")
        if op.get("parameters") or op.get("requestBody"):
            expected.add("422")
        if "{" in path:
            expected.add("404")
        if method in {"POST", "PUT", "PATCH"} and op.get("requestBody"):
            expected.add("413")
        assert expected <= codes, f"{method} {path} lacks {sorted(expected - codes)}"
        for code in codes & {"401", "403", "404", "413", "422"}:
            schema = op["responses"][code]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorOut"}, f"{method} {path} {code}"


def test_lead_only_operations_declare_403(spec: dict[str, Any]) -> None:
    for path in ("/api/v1/escalation/people", "/api/v1/escalation/absences"):
        assert "403" in spec["paths"][path]["post"]["responses"]
