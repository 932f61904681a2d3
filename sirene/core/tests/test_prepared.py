"""Prepared reads return exactly what the ORM's queryset returns, on either database."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db.models import Q, QuerySet

from sirene.cases.models import Case, Customer
from sirene.core.prepared import Prepared

pytestmark = pytest.mark.django_db


def _case(n: int, at: dt.datetime) -> Case:
    customer = Customer.objects.create(email=f"k{n}@example.de", attributes={"os": "iOS"})
    return Case.objects.create(
        source="t",
        external_id=f"p{n}",
        subject=f"Fall {n}",
        customer=customer,
        tags=["technik", f"t{n}"],
        received_at=at,
        embedding=bytes([n, 0, 255]),
    )


def _query(since: dt.datetime, source: str, after: int) -> QuerySet[Any, Any]:
    return (
        Case.objects.filter(received_at__gte=since, source=source, pk__gt=after)
        .order_by("id")
        .values_list("id", "received_at", "tags", "embedding", "customer__email", "customer__attributes")
    )


def test_rows_match_the_orm_with_the_real_arguments_each_call() -> None:
    start = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
    cases = [_case(n, start + dt.timedelta(hours=n)) for n in range(4)]
    prepared = Prepared(_query, dt.datetime, str, int)
    for since, source, after in [
        (start, "t", 0),
        (start + dt.timedelta(hours=2), "t", 0),
        (start, "t", cases[2].pk),
        (start, "other", 0),
    ]:
        expected = [
            tuple(bytes(v) if isinstance(v, memoryview) else v for v in r)
            for r in _query(since, source, after)
        ]
        got = [
            tuple(bytes(v) if isinstance(v, memoryview) else v for v in r)
            for r in prepared.rows(since, source, after)
        ]
        assert got == expected


def test_flat_rows_and_an_argument_used_twice_is_refused() -> None:
    case = _case(1, dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    flat = Prepared(lambda pk: Case.objects.filter(pk=pk).values_list("external_id", flat=True), int)
    assert flat.rows(case.pk) == ["p1"]
    assert flat.rows(case.pk + 1) == []
    twice = Prepared(
        lambda pk: Case.objects.filter(Q(pk=pk) | Q(customer_id=pk)).values_list("pk", flat=True), int
    )
    with pytest.raises(ValueError, match="exactly one"):
        twice.rows(case.pk)
