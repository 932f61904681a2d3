"""★ "Ist es vorbei?" (issue 21): the trend of new customers, and after a status update marked "Fix ist
ausgerollt" the probability of the silence since then if it were still broken (Poisson from the
incident's own arrival rate), < 1 % suggests resolving; a report after the fix is a visible warning."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sirene.core import clock
from sirene.flows import incidents as incident_flows
from sirene.incidents import afterwards
from sirene.incidents.tests.conftest import make_case

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def _incident(minutes: list[int]) -> Any:
    cases = [make_case(f"c{n}@example.com", "Login zeigt Fehler 502", at=T0 + timedelta(minutes=m)) for n, m in enumerate(minutes)]
    with clock.frozen(T0 + timedelta(minutes=max(minutes))):
        return incident_flows.open_incident(title="Fehler 502 beim Login", cases=cases)


@pytest.mark.parametrize(
    ("last", "before", "direction"),
    [(6, 2, "rising"), (2, 6, "falling"), (3, 3, "steady"), (2, 1, "steady"), (3, 1, "rising"), (0, 2, "falling")],
)
def test_direction_needs_two_customers_and_half_again(last: int, before: int, direction: str) -> None:
    assert afterwards.direction(last, before) == direction


def test_the_trend_counts_new_customers_per_hour_and_the_page_says_it_in_german(client: Any, lead: Any) -> None:
    # two customers in the first hour, five in the second: rising
    incident = _incident([5, 40, 65, 70, 80, 95, 110])
    clock.set_now(T0 + timedelta(minutes=120))
    trend = afterwards.trend(incident)
    assert (trend.direction, trend.last, trend.before) == ("rising", 5, 2)
    client.force_login(lead)
    html = client.get(incident.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "steigend" in html and "5 neue Kund:innen in der letzten Stunde, 2 in der Stunde davor" in html
    clock.set_now(T0 + timedelta(minutes=200))
    assert afterwards.trend(incident).direction == "falling"


def test_silence_after_the_fix_suggests_resolving_below_one_percent(lead_api: Any, client: Any, lead: Any) -> None:
    # six customers from 10:00 to 11:00; the fix at 12:00: 6 customers in 2 h = 3 per hour
    incident = _incident([0, 12, 24, 36, 48, 60])
    clock.set_now(T0 + timedelta(hours=2))
    response = lead_api.post(
        f"/api/v1/escalation/incidents/{incident.pk}/status-updates",
        {"text": "Zertifikat getauscht, Fix ist ausgerollt.", "fix_deployed": True},
    )
    assert response.status_code == 201, response.content
    clock.set_now(T0 + timedelta(hours=3, minutes=30))  # 1.5 h quiet: e^-4.5 = 1.1 %
    body = lead_api.get(f"/api/v1/incidents/{incident.pk}").json()
    assert body["silence_probability"] == pytest.approx(math.exp(-4.5), rel=1e-3)
    assert body["fix"]["rate_per_hour"] == 3.0 and body["fix"]["suggest_resolve"] is False
    assert body["reports_after_fix"] == [] and body["trend"]["direction"] == "steady"
    clock.set_now(T0 + timedelta(hours=3, minutes=45))  # 1.75 h: e^-5.25 = 0.5 %
    body = lead_api.get(f"/api/v1/incidents/{incident.pk}").json()
    assert body["silence_probability"] < 0.01 and body["fix"]["suggest_resolve"] is True
    client.force_login(lead)
    html = client.get(incident.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Wahrscheinlich vorbei: unter 1 %" in html
    assert "Statusmeldung gepostet – Fix ist ausgerollt" in html


def test_a_report_after_the_fix_is_a_visible_warning(lead_api: Any, client: Any, lead: Any) -> None:
    incident = _incident([0, 12, 24, 36, 48, 60])
    clock.set_now(T0 + timedelta(hours=2))
    lead_api.post(
        f"/api/v1/escalation/incidents/{incident.pk}/status-updates", {"text": "Fix ist raus", "fix_deployed": True}
    )
    late = make_case("spaet@example.com", "Login zeigt wieder Fehler 502", at=T0 + timedelta(hours=2, minutes=25))
    from sirene.incidents import services

    services.attach_case(incident, late)
    clock.set_now(T0 + timedelta(hours=6))
    body = lead_api.get(f"/api/v1/incidents/{incident.pk}").json()
    assert body["reports_after_fix"] == [{"case_id": late.pk, "minutes_after_fix": 25}]
    assert body["fix"]["suggest_resolve"] is False
    client.force_login(lead)
    html = client.get(incident.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "neue Meldung 25 min nach dem Fix" in html and "Wahrscheinlich vorbei" not in html


def test_without_a_fix_there_is_no_silence_probability(api: Any) -> None:
    incident = _incident([0, 10])
    body = api.get(f"/api/v1/incidents/{incident.pk}").json()
    assert body["silence_probability"] is None and body["reports_after_fix"] is None
    assert body["trend"]["direction"] in ("rising", "steady", "falling")
