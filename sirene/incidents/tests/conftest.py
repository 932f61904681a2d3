from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

# Six customers, six different wordings, one problem: the login of the members' area fails.
LOGIN_REPORTS = [
    (
        "Login geht nicht",
        "Hallo, ich kann mich seit heute Morgen nicht mehr einloggen. Es kommt immer ein Fehler 502.",
    ),
    ("Anmeldung fehlgeschlagen", "Beim Anmelden im Mitgliederbereich erscheint nur Fehler 502 Bad Gateway."),
    (
        "Kein Zugang zum Mitgliederbereich",
        "Ich komme nicht mehr in den Mitgliederbereich, Login zeigt 502 an.",
    ),
    ("Einloggen unmöglich", "Wenn ich mich einloggen will, lädt die Seite und dann kommt Fehlermeldung 502."),
    (
        "Login Problem",
        "Seit heute funktioniert der Login nicht mehr, nach dem Passwort kommt ein 502 Fehler.",
    ),
    ("Komme nicht rein", "Die Anmeldung klappt nicht, ich sehe nur eine Fehlerseite mit 502."),
]


@pytest.fixture
def report(api: Any) -> Callable[..., Any]:
    """POST one report through the real intake API; returns the created case id."""
    counter = {"n": 0}

    def send(
        subject: str,
        body: str,
        *,
        email: str | None = None,
        external_id: str | None = None,
        attributes: dict[str, Any] | None = None,
        category: str | None = None,
    ) -> int:
        counter["n"] += 1
        customer: dict[str, Any] = {"attributes": attributes or {}}
        if email:
            customer["email"] = email
        if external_id:
            customer["external_id"] = external_id
        payload: dict[str, Any] = {
            "source": "test",
            "external_id": f"r-{counter['n']}",
            "subject": subject,
            "body": body,
            "customer": customer,
        }
        if category:
            payload["category"] = category
        response = api.post("/api/v1/cases", payload)
        assert response.status_code in (200, 201), response.content
        return int(response.json()["id"])

    return send


@pytest.fixture(autouse=True)
def _fresh_rule_cache() -> Any:
    from sirene.incidents import brief, rules

    rules.clear_cache()
    brief.clear_baseline_cache()
    yield
    rules.clear_cache()
    brief.clear_baseline_cache()


def make_case(
    email: str | None,
    text: str,
    *,
    category: str = "login",
    vector: Any = None,
    at: Any = None,
    external_id: str | None = None,
    attributes: dict[str, Any] | None = None,
) -> Any:
    """A stored case with a given embedding (tests of the rule need no encoder)."""
    import numpy as np

    from sirene.cases.models import Case, Customer
    from sirene.core import clock

    if email:
        customer, _ = Customer.objects.get_or_create(email=email, defaults={"attributes": attributes or {}})
    else:
        customer, _ = Customer.objects.get_or_create(
            external_id=external_id, defaults={"attributes": attributes or {}}
        )
    if vector is None:
        vector = np.ones(8, dtype=np.float32) / np.sqrt(8)
    when = at or clock.now()
    n = Case.objects.count() + 1
    return Case.objects.create(
        source="t",
        external_id=f"t{n}-{email or external_id}",
        subject=text[:60],
        body=text,
        customer=customer,
        category=category,
        received_at=when,
        created_at=when,
        updated_at=when,
        clean_text=text,
        embedding=np.asarray(vector, dtype=np.float32).tobytes(),
        encoder="test-vectors",
    )
