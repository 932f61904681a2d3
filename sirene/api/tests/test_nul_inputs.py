"""NUL and invalid characters in every query parameter, path and form field (security review F6): never a
500 on either store (PostgreSQL refuses NUL in a string). Deterministic, so it extends the schemathesis run
(test_fuzz) with exactly the inputs it rarely draws: each GET operation's query parameters × NUL values."""

from __future__ import annotations

import re
from typing import Any

import pytest

from sirene.accounts.models import ApiToken

VALUES = ["a\x00b", "\x00", "\U0001f525\x00", "\udcff"]  # the last: a lone surrogate (invalid UTF-8 bytes)


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value.encode("utf-8", "surrogateescape"), safe="")


@pytest.fixture
def seeded(agent: Any) -> int:
    from sirene.cases import services as cases

    result = cases.intake(
        cases.IntakeData(
            source="api",
            external_id="nul-1",
            subject="Login geht nicht",
            body="Das Passwort wird nicht angenommen.",
            customer=cases.CustomerData(email="k1@example.com"),
            tags=["technik"],
        )
    )
    assert result.case is not None
    return result.case.pk


def test_nul_in_every_query_parameter_of_every_api_get_is_never_a_server_error(
    client: Any, admin_user: Any, seeded: int
) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    headers = {"Authorization": f"Bearer {ApiToken.issue(admin_user, name='nul')[1]}"}
    probes, failures = 0, []
    for path, ops in spec["paths"].items():
        op = ops.get("get")
        if not op:
            continue
        url = re.sub(r"\{[^}]+\}", str(seeded), path)
        for param in op.get("parameters", []):
            if param["in"] != "query":
                continue
            for value in VALUES:
                probes += 1
                response = client.get(f"{url}?{param['name']}={_quote(value)}", headers=headers)
                if response.status_code >= 500:
                    failures.append(f"GET {url}?{param['name']}={value!r} -> {response.status_code}")
    assert probes > 60  # 19 query parameters today, 4 values each
    assert failures == []


@pytest.mark.parametrize(
    "url",
    [
        "/cases/?owner={v}",
        "/cases/?tag={v}&q={v}",
        "/helpdesk/outbox/?kind={v}",
        "/helpdesk/outbox/?q={v}",
        "/escalation/?status={v}",
        "/knowledge/?q={v}",
        "/incidents/?status={v}",
    ],
)
def test_nul_in_web_query_strings_is_never_a_server_error(client: Any, lead: Any, url: str) -> None:
    client.force_login(lead)
    for value in VALUES:
        response = client.get(url.format(v=_quote(value)))
        assert response.status_code < 500, (url, value, response.status_code)


def test_the_api_filter_with_a_nul_reads_the_value_without_it(api: Any, seeded: int) -> None:
    listed = api.client.get("/api/v1/cases?tag=tech%00nik", headers=api.headers)
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["items"]] == [seeded]


def test_nul_in_a_path_is_a_json_404_under_api_and_unknown_api_paths_are_json(api: Any) -> None:
    for url in ("/api/v1/cases/%00", "/api/v1/no-such-thing", "/api/v1/cases/1/%00/x"):
        response = api.client.get(url, headers=api.headers)
        assert response.status_code == 404, url
        assert response["Content-Type"] == "application/json" and response.json()["error"] == "not found"
    page = api.client.get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


def test_nul_in_form_fields_is_never_a_server_error(client: Any, agent: Any) -> None:
    """The login form (django-axes stores the name it counts) and a search form, with NUL in every field."""
    response = client.post("/login/", {"username": "an\x00na", "password": "x\x00"})
    assert response.status_code == 200
    response = client.post("/login/", {"username": "an\x00na", "password": "agent-pass-123"})
    assert response.status_code == 302  # the name without its NUL is anna's
