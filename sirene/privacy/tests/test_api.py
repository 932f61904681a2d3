"""The admin-only API: agents and leads get 403 and nothing changes; admins export and erase."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sirene.accounts.models import ApiToken
from sirene.cases.models import Customer
from sirene.privacy.models import Erasure
from sirene.privacy.tests.helpers import EMAIL, report

pytestmark = pytest.mark.django_db


def call(client: Any, user: Any, method: str, path: str, data: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {ApiToken.issue(user, name='t')[1]}"}
    if method == "get":
        return client.get(path, data or {}, headers=headers)
    return client.post(path, json.dumps(data), content_type="application/json", headers=headers)


@pytest.mark.parametrize("who", ["agent", "lead"])
def test_agents_and_leads_are_refused_and_nothing_changes(client: Any, start: Any, who: str, request: Any) -> None:
    user = request.getfixturevalue(who)
    report(EMAIL)
    erase = call(client, user, "post", "/api/v1/customers/erase", {"email": EMAIL})
    assert erase.status_code == 403 and "admins" in erase.json()["error"].lower()
    export = call(client, user, "get", "/api/v1/customers/export", {"email": EMAIL})
    assert export.status_code == 403
    assert Customer.objects.filter(email=EMAIL).exists() and not Erasure.objects.exists()


def test_an_admin_exports_and_erases(client: Any, start: Any, admin_user: Any) -> None:
    report(EMAIL)
    export = call(client, admin_user, "get", "/api/v1/customers/export", {"email": EMAIL.upper()})
    assert export.status_code == 200 and export.json()["cases"][0]["body"].startswith("Hallo")
    erase = call(client, admin_user, "post", "/api/v1/customers/erase", {"email": EMAIL})
    assert erase.status_code == 200, erase.content
    body = erase.json()
    assert body["status"] == "erased" and body["pseudonym"].startswith("gelöscht-") and "Groove" in body["groove"]
    assert Erasure.objects.get().by == admin_user
    again = call(client, admin_user, "post", "/api/v1/customers/erase", {"email": EMAIL})
    assert again.json()["status"] == "already_erased"
    unknown = call(client, admin_user, "post", "/api/v1/customers/erase", {"email": "x@example.org"})
    assert unknown.json()["status"] == "unknown"


def test_a_bad_address_is_a_422_naming_the_field(client: Any, start: Any, admin_user: Any) -> None:
    bad = call(client, admin_user, "post", "/api/v1/customers/erase", {"email": "kein-at"})
    assert bad.status_code == 422 and bad.json()["field"] == "email"
    missing = call(client, admin_user, "post", "/api/v1/customers/erase", {})
    assert missing.status_code == 422 and missing.json()["field"] == "email"
    assert call(client, admin_user, "get", "/api/v1/customers/export", {"email": "kein-at"}).json()["field"] == "email"
