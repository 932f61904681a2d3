from __future__ import annotations

from typing import Any

import pytest

from sirene.flows.intake import report_case


@pytest.fixture
def starter_kb(db: Any) -> Any:
    """The shipped German starter set, loaded the way `sirene demo` loads it."""
    from sirene.knowledge.transfer import import_starter_set

    return import_starter_set()


def report(
    external_id: str, subject: str, body: str = "", email: str = "kundin@example.de", **extra: Any
) -> Any:
    """Intake one case through the real intake service (analysis included)."""
    from sirene.cases import services

    data = services.IntakeData(
        source="test",
        external_id=external_id,
        subject=subject,
        body=body,
        customer=services.CustomerData(email=email),
        **extra,
    )
    result = report_case(data, actor_label="test")
    assert result.case is not None
    return result.case
