"""Bad input at intake: a defined "no suggestion" with a reason, never a crash."""

from __future__ import annotations

from typing import Any

import pytest

from sirene.knowledge import services
from sirene.knowledge.models import MatchOutcome
from sirene.knowledge.tests.conftest import report

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("", "Viele Grüße\nAnna Schmidt\n--\nGesendet von meinem iPhone"),
        ("", "Am 12.03.2024 um 10:00 schrieb Support <support@example.de>:\n> Ihr Ticket wurde geschlossen."),
    ],
    ids=["only-signature", "only-quote"],
)
def test_a_text_with_nothing_to_compare_gets_no_suggestion_with_the_empty_text_reason(
    starter_kb: Any, subject: str, body: str
) -> None:
    case = report("1", subject, body)
    assert case.analysed_at is not None
    assert services.suggestions_for(case) == []
    assert services.match_reason(case)["outcome"] == MatchOutcome.EMPTY_TEXT
    assert services.similar_cases_for(case) == []


@pytest.mark.parametrize("body", ["", "   \n\t  "], ids=["empty", "whitespace"])
def test_a_report_without_subject_and_body_is_refused_at_intake(starter_kb: Any, body: str) -> None:
    from sirene.cases.models import Case
    from sirene.cases.services import IntakeError

    with pytest.raises(IntakeError) as refused:
        report("1", "", body)
    assert refused.value.field == "subject"
    assert not Case.objects.exists()


def test_binary_garbage_is_analysed_without_a_crash(starter_kb: Any) -> None:
    garbage = bytes(range(256)).decode("latin-1") * 40
    # NUL bytes are left out: storing them is the intake's concern (PostgreSQL refuses them in text).
    case = report("1", "\x01\x02", garbage.replace("\x00", ""))
    assert case.analysed_at is not None
    assert services.match_reason(case)["outcome"] in {MatchOutcome.EMPTY_TEXT, MatchOutcome.NOT_CLOSE_ENOUGH}


def test_a_huge_report_still_gets_its_suggestion(starter_kb: Any) -> None:
    body = "Ich komme nicht in mein Konto, das Passwort wird nicht akzeptiert.\n" + (
        "log line 4711 ok\n" * 11_000
    )
    case = report("1", "Login", body[:199_000])
    assert case.analysed_at is not None
    assert services.match_reason(case)["outcome"] in {MatchOutcome.MATCHED, MatchOutcome.NOT_CLOSE_ENOUGH}


def test_a_case_that_was_never_analysed_says_pending(starter_kb: Any) -> None:
    from sirene.cases.models import Case, Customer

    customer = Customer.objects.create(email="x@example.de")
    case = Case.objects.create(source="t", external_id="1", subject="Login", customer=customer)
    assert services.suggestions_for(case) == []
    assert services.match_reason(case)["outcome"] == "pending"
    assert services.similar_cases_for(case) == []
