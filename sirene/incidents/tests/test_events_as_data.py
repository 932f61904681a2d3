"""Incident events are stored as data and rendered at display time (issue 19, code review P2): every kind
the code writes renders in English without German and in German without English; writers store no prose;
old rows (no version) still read through the old patterns."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.utils import translation

from sirene.incidents import events, timeline
from sirene.incidents.models import IncidentEvent

GERMAN = re.compile(
    r"[äöüÄÖÜß]|\b(der|die|das|und|nicht|für|von|mit|ist|wurde|wurden|Aufgabe|Anruf|Fall|Fälle|Kund\w*|gelöst|"
    r"übernommen|Störung\w*|Vorwarnung|Erinnerung|Eskalation|Stunden?|Minuten?|Sekunden?|vorher|erledigt|"
    r"zusammengeführt|abgespalten|Meldung\w*|Regel|Gruppe|geändert|gesendet|bei|im|zum|zur)\b"
)
ENGLISH = re.compile(
    r"\b(the|and|of|to|for|was|were|by|with|case|cases|customer|customers|queued|reply|opened|resolved|"
    r"acknowledged|task|call|calling|skipped|sent|group|merged|split|minutes?|seconds?|before|reminder|owner|"
    r"unsolved|changed|escalation|failed|posted|checked|joined|moved|came|within|reported|same|problem|"
    r"nobody|took|over|done|started|policy|early|warning|incident|automatically|removed|published|brief|"
    r"updated|error|codes|thread|hand|linked|solved|notice|absent|not|needed|answered)\b"
)


def _every_rendering() -> list[tuple[str, dict[str, Any], str]]:
    out = []
    for kind in events.kinds():
        for params in events.EXAMPLES[kind]:
            data = {"v": events.VERSION, **params}
            text, detail = events.render(kind, data) or ("", "")
            out.append((kind, params, text))
    return out


def test_every_kind_renders_in_english_without_german() -> None:
    import sirene.escalation.apps  # noqa: F401  (every app's kinds are registered)

    with translation.override("en"):
        rendered = _every_rendering()
    assert len(rendered) >= 30
    found = {(k, t) for k, _p, t in rendered if GERMAN.search(t) or not t}
    assert found == set()


def test_every_kind_renders_in_german_without_english() -> None:
    with translation.override("de"):
        rendered = _every_rendering()
    found = {(k, t) for k, _p, t in rendered if ENGLISH.search(t) or not t}
    assert found == set()


@pytest.mark.django_db
def test_writers_store_data_not_sentences(lead: Any) -> None:
    from sirene.cases import services as cases
    from sirene.flows import incidents as incident_flows

    case = cases.intake(
        cases.IntakeData(
            source="web", external_id="e1", subject="502", body="Fehler 502",
            customer=cases.CustomerData(email="a@example.com"), tags=["technik"],
        )
    ).case
    assert case is not None
    incident = incident_flows.open_incident(title="Fehler 502", cases=[case])
    incident_flows.acknowledge(incident, user=lead, label="Lea", via="web")
    incident_flows.resolve(incident, resolution="lb-3 ersetzt", user=lead)
    rows = list(IncidentEvent.objects.filter(incident=incident))
    assert len(rows) >= 4
    for row in rows:
        assert row.message == "", (row.kind, row.message)
        assert row.data.get("v") == events.VERSION, row.kind
    with translation.override("en"):
        english = [timeline.describe(r)[0] for r in rows]
    with translation.override("de"):
        german = [timeline.describe(r)[0] for r in rows]
    assert "Acknowledged by Lea (in sirene)" in english
    assert "Übernommen von Lea (in sirene)" in german


@pytest.mark.django_db
def test_an_old_row_still_reads_through_the_old_patterns() -> None:
    old = IncidentEvent(kind="escalation", message="Anruf bei Tara (1/2)", data={"run": 1})
    with translation.override("en"):
        assert timeline.describe(old)[0] == "Calling Tara (1 of 2)"


def test_recording_an_unregistered_kind_is_refused() -> None:
    with pytest.raises(ValueError):
        events.record(None, "no_such_kind")  # type: ignore[arg-type]
