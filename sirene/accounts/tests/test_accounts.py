from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command

from sirene.accounts.models import ApiToken, User
from sirene.accounts.services import authenticate_token

pytestmark = pytest.mark.django_db


def test_createuser_with_token_prints_a_working_token_as_the_last_line(monkeypatch: Any) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a-good-password\n"))
    out = io.StringIO()
    call_command(
        "createuser", "lea", "--role", "lead", "--password-stdin", "--token", stdout=out, stderr=io.StringIO()
    )
    raw = out.getvalue().strip().splitlines()[-1]
    user = User.objects.get(username="lea")
    assert user.role == "lead" and user.check_password("a-good-password")
    assert authenticate_token(raw) == user
    token = ApiToken.objects.get()
    assert token.token_hash != raw and raw not in token.token_hash


def test_createuser_refuses_a_short_password(monkeypatch: Any) -> None:
    from django.core.management.base import CommandError

    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    with pytest.raises(CommandError):
        call_command("createuser", "lea", "--password-stdin", stdout=io.StringIO(), stderr=io.StringIO())
    assert not User.objects.exists()


def test_a_token_can_be_created_and_revoked_in_the_ui(client: Any, agent: Any) -> None:
    client.force_login(agent)
    response = client.post("/account/tokens/", {"name": "Groove"})
    assert response.status_code == 200
    raw = response.context["new_token"]
    assert authenticate_token(raw) == agent
    token = ApiToken.objects.get()
    client.post(f"/account/tokens/{token.pk}/revoke/")
    assert authenticate_token(raw) is None


def test_an_agent_cannot_revoke_someone_elses_token(client: Any, agent: Any, lead: Any) -> None:
    token, raw = ApiToken.issue(lead)
    client.force_login(agent)
    assert client.post(f"/account/tokens/{token.pk}/revoke/").status_code == 404
    assert authenticate_token(raw) == lead
