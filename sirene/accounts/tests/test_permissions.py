"""The role table (accounts.permissions) is what every write endpoint enforces, in the API and the web UI.

Table-driven: the write operations are read from the OpenAPI document and the URL configuration, so a new
endpoint without a permission fails here; each is called once per role and the answer must match
PERMISSIONS (403 and nothing stored for a refused role, anything but 401/403 for an allowed one).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from sirene.accounts.models import ApiToken, Role, User
from sirene.accounts.permissions import PERMISSIONS, Action, can, markdown_table, role_of
from sirene.api.urls import api as ninja_api

pytestmark = pytest.mark.django_db

ROLES = [Role.AGENT, Role.LEAD, Role.ADMIN]


def _write_operations() -> list[tuple[str, str, Action]]:
    schema = ninja_api.get_openapi_schema()
    out = []
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            if method in {"post", "put", "patch", "delete"}:
                assert "x-sirene-permission" in op, f"{method.upper()} {path} has no permission"
                out.append((method, re.sub(r"\{[^}]+\}", "1", path), Action(op["x-sirene-permission"])))
    return out


WRITE_OPERATIONS = _write_operations()


def _user(role: Role) -> User:
    # No password hashing (slow by design): these personas log in with force_login or a token.
    return User.objects.create(username=f"user-{role}", email=f"{role}@example.com", role=role)


def _stored() -> dict[str, int]:
    """Row counts of everything a write could touch."""
    from django.apps import apps

    return {
        m._meta.label: m._default_manager.count()
        for m in apps.get_models()
        if m._meta.app_label
        in {"cases", "incidents", "escalation", "helpdesk", "knowledge", "troubleshooting", "integrations"}
    }


def test_the_table_has_a_row_for_every_action_and_the_readme_shows_it() -> None:
    assert set(PERMISSIONS) == set(Action)
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    from django.utils import translation

    with translation.override("en"):
        assert markdown_table() in readme, "README: paste the output of `sirene permissions`"


def test_the_process_rules_hold() -> None:
    agent, lead = User(role=Role.AGENT, is_active=True), User(role=Role.LEAD, is_active=True)
    admin = User(role=Role.ADMIN, is_active=True)
    for action in (Action.REPORT_CASE, Action.OPEN_INCIDENT, Action.ACKNOWLEDGE_INCIDENT):
        assert can(agent, action)
    for action in (
        Action.POST_STATUS_UPDATE,
        Action.RESOLVE_INCIDENT,
        Action.SEND_DELAY_NOTICE,
        Action.SEND_MASS_REPLY,
        Action.EDIT_RULES,
        Action.EDIT_PEOPLE,
        Action.EDIT_POLICIES,
    ):
        assert not can(agent, action) and can(lead, action) and can(admin, action)
    for action in (Action.MANAGE_USERS, Action.MANAGE_TOKENS):
        assert not can(lead, action) and can(admin, action)
    assert role_of(User(role=Role.AGENT, is_active=True, is_superuser=True)) == Role.ADMIN
    assert role_of(User(role=Role.ADMIN, is_active=False)) is None


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "action"), WRITE_OPERATIONS, ids=lambda v: str(v))
def test_api_write_endpoint_follows_the_table(client: Client, role: Role, method: str, path: str, action: Action) -> None:
    token = ApiToken.issue(_user(role), name="t")[1]
    before = _stored()
    response = client.generic(
        method.upper(), path, "{}", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    if role in PERMISSIONS[action]:
        assert response.status_code not in (401, 403), response.content
    else:
        assert response.status_code == 403, response.content
        assert response.json()["field"] == "" and response.json()["error"]
        assert _stored() == before


@pytest.mark.parametrize(("method", "path", "action"), WRITE_OPERATIONS, ids=lambda v: str(v))
def test_api_write_endpoint_without_or_with_a_wrong_token_is_401(
    client: Client, method: str, path: str, action: Action
) -> None:
    headers: dict[str, str]
    for headers in ({}, {"Authorization": "Bearer srn_wrong"}, {"Authorization": "Basic eDp5"}):
        response = client.generic(method.upper(), path, "{}", content_type="application/json", headers=headers)
        assert response.status_code == 401, (headers, response.content)
        assert "token" in response.json()["error"]


def _web_patterns() -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                if str(p.pattern) in {"admin/", "api/v1/", "hooks/", "i18n/"}:
                    continue
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                out.append((prefix + str(p.pattern), p.callback))

    walk(get_resolver().url_patterns, "")
    return out


def _fill(route: str) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: "x" if m.group(1) in {"action", "decision"} else "1", route)


def test_every_web_write_view_names_its_permission(client: Client) -> None:
    client.force_login(_user(Role.ADMIN))
    missing = []
    for route, view in _web_patterns():
        if route in {"login/", "logout/"}:
            continue
        if client.get(_fill(route)).status_code == 405 and not hasattr(view, "sirene_permission"):
            missing.append(route)
    assert missing == []


WEB_WRITES = [
    (route, view.sirene_permission) for route, view in _web_patterns() if hasattr(view, "sirene_permission")
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("route", "action"), WEB_WRITES, ids=lambda v: str(v))
def test_web_write_view_follows_the_same_table(client: Client, role: Role, route: str, action: Action) -> None:
    client.force_login(_user(role))
    before = _stored()
    response = client.post(_fill(route), {})
    if role in PERMISSIONS[action]:
        assert response.status_code != 403
    else:
        assert response.status_code == 403
        assert _stored() == before


def test_an_agent_token_cannot_post_a_status_update_or_resolve_but_a_lead_can(
    client: Client, agent: User, lead: User
) -> None:
    from sirene.escalation.models import Attempt
    from sirene.incidents import services as incidents

    incident = incidents.open_incident(title="Video hängt", opened_by=agent, origin="manual")
    agent_token, lead_token = ApiToken.issue(agent)[1], ApiToken.issue(lead)[1]

    def post(path: str, data: str, token: str) -> Any:
        return client.post(path, data, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")

    update = f"/api/v1/escalation/incidents/{incident.pk}/status-updates"
    resolve = f"/api/v1/incidents/{incident.pk}/resolve"
    attempts = Attempt.objects.count()
    assert post(update, '{"text": "Wir sind dran"}', agent_token).status_code == 403
    assert post(resolve, '{"resolution": "CDN neu gestartet"}', agent_token).status_code == 403
    assert Attempt.objects.count() == attempts
    incident.refresh_from_db()
    assert incident.status != "resolved"
    assert post(update, '{"text": "Wir sind dran"}', lead_token).status_code == 201
    assert post(resolve, '{"resolution": "CDN neu gestartet"}', lead_token).status_code == 200
    incident.refresh_from_db()
    assert incident.status == "resolved"


def test_the_same_refusal_on_the_web_in_german(client: Client, agent: User) -> None:
    from sirene.incidents import services as incidents

    incident = incidents.open_incident(title="Video hängt", opened_by=agent, origin="manual")
    client.force_login(agent)
    page = client.post(f"/incidents/{incident.pk}/resolve/", {"resolution": "x"}, HTTP_ACCEPT_LANGUAGE="de")
    assert page.status_code == 403
    assert "Nur die Leitung" in page.content.decode()


def test_a_lead_no_longer_sees_or_revokes_an_admins_token(client: Client, lead: User, admin_user: User) -> None:
    token, _raw = ApiToken.issue(admin_user, name="admin")
    client.force_login(lead)
    assert token.prefix not in client.get("/account/tokens/").content.decode()
    assert client.post(f"/account/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    client.force_login(admin_user)
    assert token.prefix in client.get("/account/tokens/").content.decode()
