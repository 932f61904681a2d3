"""The siren post in natural German (issue 19): "seit 5 Minuten (22:00 Uhr)", one facet per fact and no
lowercase raw values in the thread, nested quotes that look right; the Vorwarnung quote cut at a word."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sirene.escalation import messages

FINDINGS = [
    {"attribute": "app_version", "value": "3.5.0", "customers": 6, "known": 6, "share": 1.0, "baseline_share": 0.0},
    {"attribute": "platform", "value": "android", "customers": 6, "known": 6, "share": 1.0, "baseline_share": 0.0},
    {"attribute": "os", "value": "android", "customers": 6, "known": 6, "share": 1.0, "baseline_share": 0.0},
    {"attribute": "client", "value": "app", "customers": 6, "known": 6, "share": 1.0, "baseline_share": 0.0},
]


def test_the_thread_reads_as_one_fact_per_facet() -> None:
    sentence = messages.thread_sentence({"common_thread": FINDINGS})
    assert sentence == "App-Version 3.5.0 (6 von 6), nur Android"
    assert "scheint" not in sentence and "android" not in sentence and "Gerät" not in sentence


def test_since_when_is_plain_german() -> None:
    now = dt.datetime(2026, 12, 6, 21, 5, tzinfo=dt.UTC)
    assert messages.since_words(now - dt.timedelta(minutes=5), now) == "seit 5 Minuten (22:00 Uhr)"
    assert messages.since_words(now - dt.timedelta(seconds=20), now).startswith("seit weniger als einer Minute")
    assert "ca." not in messages.since_words(now - dt.timedelta(minutes=3), now)


def test_the_early_warning_quote_is_cut_at_a_word(db: Any) -> None:
    from sirene.incidents.detection import quiet_line
    from sirene.incidents.models import EarlyWarning

    example = (
        "Meditationen spielen nicht mehr ab. seit dem Update heute Abend kann ich in der App keine einzige "
        "Meditation mehr anhören. Ich tippe auf Play, der Kreis dreht sich und dann passiert gar nichts mehr."
    )
    warning = EarlyWarning(customers=3, minutes=60, example=example, category="content")
    line = quiet_line(warning)
    quoted = line.split("„", 1)[1].split("“", 1)[0]
    assert quoted.endswith(" …")
    assert example.startswith(quoted[:-2]) and example[len(quoted) - 2] == " "
