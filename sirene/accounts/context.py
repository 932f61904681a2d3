"""Template context: `can.<action>` from the one permission table, so pages show only allowed buttons."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from sirene.accounts.permissions import Action, can


class _Can:
    def __init__(self, user: Any) -> None:
        self._user = user

    def __getattr__(self, name: str) -> bool:
        try:
            action = Action(name)
        except ValueError:
            raise AttributeError(name) from None
        return can(self._user, action)


def permissions(request: HttpRequest) -> dict[str, Any]:
    return {"can": _Can(getattr(request, "user", None))}
