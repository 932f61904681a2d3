"""Intake drops what several different customers sent verbatim in recent days (a company's signature
line, a chat bot's greeting) from the text it embeds, through the real intake path and database."""

from __future__ import annotations

import datetime as dt

import pytest

from sirene.cases import services as cases
from sirene.cases.models import Case
from sirene.core import clock
from sirene.flows import intake

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
BOT = "Hallo! Ich bin Tanja, die digitale Assistentin. Wobei darf ich helfen?"


def _report(n: int, email: str, text: str, at: dt.datetime) -> Case:
    result = intake.report_case(
        cases.IntakeData(
            source="api",
            external_id=f"bp-{n}",
            subject="",
            body=f"{BOT}\n{text}",
            customer=cases.CustomerData(email=email),
            received_at=at,
        ),
        actor_label="api",
    )
    assert result.case is not None
    return result.case


def test_a_line_three_customers_sent_this_week_is_not_embedded() -> None:
    with clock.frozen(T0):
        _report(1, "a@example.com", "Wo finde ich meine Rechnung?", T0 - dt.timedelta(days=2))
        _report(2, "b@example.com", "Kann ich den Kurs pausieren?", T0 - dt.timedelta(days=1))
        third = _report(3, "c@example.com", "Das Video ruckelt.", T0 - dt.timedelta(hours=1))
        fourth = _report(4, "d@example.com", "Die App stürzt beim Start ab.", T0)
    # the third customer's report still carries it (only two had sent it before), the fourth's no more
    assert "Wobei darf ich helfen" in third.clean_text
    assert fourth.clean_text == "Die App stürzt beim Start ab."


def test_older_than_the_boilerplate_days_or_one_customer_repeating_does_not_count() -> None:
    with clock.frozen(T0):
        _report(1, "a@example.com", "Wo finde ich meine Rechnung?", T0 - dt.timedelta(days=9))
        _report(2, "b@example.com", "Kann ich den Kurs pausieren?", T0 - dt.timedelta(days=8))
        _report(3, "c@example.com", "Das Video ruckelt.", T0 - dt.timedelta(days=1))
        _report(4, "c@example.com", "Immer noch.", T0 - dt.timedelta(hours=2))
        fifth = _report(5, "d@example.com", "Die App stürzt beim Start ab.", T0)
    assert "Wobei darf ich helfen" in fifth.clean_text
