"""Issue 22, point 3: on-call hours (Rufbereitschaft). Outside working hours, when the team keeps an
on-call rota, calls go only to whoever is on call. Decided in the pure engine (`route_call`, used by
`decide` and the preview), tested at weekday, night and weekend times in Berlin."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from sirene.escalation import engine
from sirene.escalation.snapshot import PolicySnapshot

BERLIN = ZoneInfo("Europe/Berlin")
# Piwi is on call every night 18:00–08:00 and all Saturday and Sunday; Luca swaps in for one Saturday.
ROTA = [
    *({"person": "4", "weekday": day, "start": "18:00", "end": "08:00"} for day in range(5)),
    {"person": "4", "weekday": 5, "start": "00:00", "end": "00:00"},
    {"person": "4", "weekday": 6, "start": "00:00", "end": "00:00"},
]


def _snapshot(rota: list[dict[str, Any]] | None = None) -> PolicySnapshot:
    return PolicySnapshot.parse(
        {
            "name": "Standard",
            "people": {
                "2": {"name": "Tara", "phone": "+4915550000002"},
                "3": {"name": "Luca", "phone": "+4915550000003"},
                "4": {"name": "Piwi", "phone": "+4915550000004", "work_days": [0, 1, 2, 3]},
            },
            "steps": [
                {"kind": "slack_post", "channel": "#cs", "mentions": ["2", "3", "4"]},
                {"kind": "wait_ack", "minutes": 0},
                {"kind": "call", "person": "2", "attempts": 2},
            ],
            "on_call": ROTA if rota is None else rota,
        }
    )


def _at(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def _first_call(snapshot: PolicySnapshot, now: dt.datetime, absent: frozenset[str] = frozenset()) -> Any:
    decision = engine.decide(engine.RunView("active", 0, 0, now), snapshot, engine.Facts(absent=absent), now)
    return next((a for a in decision.actions if a.kind in ("call", "skip")), None)


def test_within_working_hours_the_policy_person_is_called() -> None:
    call = _first_call(_snapshot(), _at(2024, 3, 5, 10))  # Tuesday 10:00
    assert call.kind == "call" and call.person == "2" and not call.detail.get("on_call")


@pytest.mark.parametrize(
    "moment",
    [_at(2024, 3, 5, 3), _at(2024, 3, 5, 22), _at(2024, 3, 9, 3), _at(2024, 3, 10, 14)],
    ids=["tuesday-03:00", "tuesday-22:00", "saturday-03:00", "sunday-14:00"],
)
def test_at_night_and_at_the_weekend_only_whoever_is_on_call_is_called(moment: dt.datetime) -> None:
    call = _first_call(_snapshot(), moment)
    assert call.kind == "call" and call.person == "4"
    assert call.detail == {"on_call": True, "instead_of": "2"}


def test_an_override_wins_over_the_weekly_pattern() -> None:
    swap = {
        "person": "3",
        "starts_at": _at(2024, 3, 9, 0).isoformat(),
        "ends_at": _at(2024, 3, 10, 0).isoformat(),
    }
    snapshot = _snapshot([swap, *ROTA])
    assert _first_call(snapshot, _at(2024, 3, 9, 3)).person == "3"
    assert _first_call(snapshot, _at(2024, 3, 10, 3)).person == "4"  # the swap is over


def test_on_call_but_absent_means_nobody_is_called_and_it_says_why() -> None:
    skip = _first_call(_snapshot(), _at(2024, 3, 9, 3), absent=frozenset({"4"}))
    assert skip.kind == "skip" and skip.detail == {"reason": "off_hours"} and skip.person == "2"


def test_without_a_rota_the_policy_calls_as_before_even_at_night() -> None:
    call = _first_call(_snapshot([]), _at(2024, 3, 9, 3))
    assert call.person == "2" and not call.detail


def test_the_preview_shows_who_is_called_when_in_german() -> None:
    from sirene.escalation import preview_text

    moments = [_at(2024, 3, 4, 10), _at(2024, 3, 9, 3)]
    snapshot = _snapshot()
    routed = engine.routing_preview(snapshot, moments)
    with translation.override("de"):
        lines = preview_text.routing(routed, snapshot.person_name)
    assert lines == [
        "Montag 10:00 → Anruf bei Tara (Arbeitszeit)",
        "Samstag 03:00 → Anruf bei Piwi (Rufbereitschaft, statt Tara)",
    ]
    simulated = engine.format_lines(engine.simulate(snapshot, start=_at(2024, 3, 9, 3)))
    assert any("call Piwi (1/2) on call" in line for line in simulated)


@pytest.mark.django_db
def test_a_night_call_out_is_recorded_and_counted_on_the_metrics_page(
    client: Any, fake_slack: Any, fake_twilio: Any, team: Any, lead: Any
) -> None:
    from sirene.core import clock
    from sirene.escalation import services
    from sirene.escalation.models import Attempt, OnCallShift
    from sirene.escalation.tests.helpers import open_incident, run_until

    for day in range(7):
        OnCallShift.objects.create(person=team["piwi"], weekday=day, start=dt.time(18), end=dt.time(8))
    clock.set_now(_at(2024, 3, 9, 3))  # Saturday 03:00
    open_incident()
    run_until(16)
    call = Attempt.objects.get(kind="call")
    assert call.person_name == "Piwi" and call.on_call and call.target == "+4915550000004"
    assert services.call_outs_per_month() == [(dt.date(2024, 3, 1), 1)]
    client.force_login(lead)
    page = client.get("/metrics/?months=12", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Einsätze in der Rufbereitschaft" in page and 'id="call-outs"' in page


@pytest.mark.django_db
def test_the_rota_is_kept_on_the_escalation_page_and_the_policy_page_previews_it_in_german(
    client: Any, team: Any, lead: Any, start: Any
) -> None:
    from sirene.escalation.models import OnCallShift, Person

    client.force_login(lead)
    piwi = team["piwi"]
    client.post("/escalation/on-call/", {"person": piwi.pk, "weekday": "5", "start": "00:00", "end": "00:00"})
    bad = client.post("/escalation/on-call/", {"person": piwi.pk, "weekday": "9", "start": "18:00"}, follow=True)
    assert "weekday" in bad.content.decode()
    assert OnCallShift.objects.count() == 1
    client.post(
        "/escalation/people/",
        {"id": team["luca"].pk, "name": "Luca", "phone": "+4915550000003", "work_days": ["0", "2"],
         "work_start": "09:00", "work_end": "17:30"},
    )
    luca = Person.objects.get(name="Luca")
    assert luca.work_days == "02" and luca.work_start == dt.time(9) and luca.work_end == dt.time(17, 30)
    page = client.get(f"/escalation/policies/{team['policy'].pk}/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Wer wird wann angerufen" in page
    assert "Samstag 03:00 → Anruf bei Piwi (Rufbereitschaft, statt Tara)" in page
    assert "Montag 10:00 → Anruf bei Tara (Arbeitszeit)" in page
    assert "Reagiert niemand, kündigt sirene jeden Anruf im Thread der Sirene an" in page
