from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from sirene.cases import services as cases
from sirene.core import clock
from sirene.flows.intake import report_case

T0 = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.UTC)


def make_case(external_id: str = "T-1", email: str = "kunde@example.com", **extra: Any) -> Any:
    result = report_case(
        cases.IntakeData(
            source="test",
            external_id=external_id,
            subject=extra.pop("subject", "App stürzt beim Öffnen ab"),
            body=extra.pop("body", "Seit dem Update stürzt die App sofort ab."),
            customer=cases.CustomerData(
                email=email, name=extra.pop("name", "Maria Müller"), attributes=extra.pop("attributes", {})
            ),
            **extra,
        )
    )
    assert result.case is not None
    return result.case


@pytest.fixture
def now() -> dt.datetime:
    clock.set_now(T0)
    return T0


@pytest.fixture
def case(db: Any, now: dt.datetime) -> Any:
    return make_case()
