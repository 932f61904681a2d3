"""Absences from iCalendar: recurrences, exceptions, edited occurrences, all-day events, DST."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from sirene.core import clock
from sirene.escalation import calendar, services
from sirene.escalation.models import Absence

pytestmark = pytest.mark.django_db

BERLIN_WEEKLY = b"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
BEGIN:VEVENT
UID:weekly-friday@test
DTSTART;TZID=Europe/Berlin:20240315T080000
DTEND;TZID=Europe/Berlin:20240315T180000
RRULE:FREQ=WEEKLY;BYDAY=FR;COUNT=4
EXDATE;TZID=Europe/Berlin:20240322T080000
SUMMARY:Frei (Teilzeit)
END:VEVENT
BEGIN:VEVENT
UID:weekly-friday@test
RECURRENCE-ID;TZID=Europe/Berlin:20240405T080000
DTSTART;TZID=Europe/Berlin:20240405T120000
DTEND;TZID=Europe/Berlin:20240405T180000
SUMMARY:Frei (Teilzeit, verschoben)
END:VEVENT
BEGIN:VEVENT
UID:vacation@test
DTSTART;VALUE=DATE:20240520
DTEND;VALUE=DATE:20240525
SUMMARY:Urlaub
END:VEVENT
END:VCALENDAR
"""


def _absent(person: Any, at: dt.datetime) -> bool:
    return Absence.objects.filter(person=person, starts_at__lte=at, ends_at__gt=at).exists()


def test_it_expands_recurrences_with_exceptions_and_dst(team: Any) -> None:
    clock.set_now(dt.datetime(2024, 3, 10, tzinfo=dt.UTC))
    count = calendar.import_absences(team["tara"], BERLIN_WEEKLY, source="tara.ics")
    rows = list(Absence.objects.filter(person=team["tara"]).order_by("starts_at"))
    assert count == len(rows) == 4  # 4 Fridays − 1 EXDATE + the vacation
    utc = [(a.starts_at.astimezone(dt.UTC), a.ends_at.astimezone(dt.UTC)) for a in rows]
    # 15 March: CET (UTC+1); 29 March: still CET (DST starts 31 March); 5 April: CEST, moved to 12:00.
    assert utc[0] == (dt.datetime(2024, 3, 15, 7, tzinfo=dt.UTC), dt.datetime(2024, 3, 15, 17, tzinfo=dt.UTC))
    assert utc[1][0] == dt.datetime(2024, 3, 29, 7, tzinfo=dt.UTC)
    assert utc[2] == (dt.datetime(2024, 4, 5, 10, tzinfo=dt.UTC), dt.datetime(2024, 4, 5, 16, tzinfo=dt.UTC))
    # All-day: from local midnight 20 May to local midnight 25 May (CEST).
    assert utc[3] == (
        dt.datetime(2024, 5, 19, 22, tzinfo=dt.UTC),
        dt.datetime(2024, 5, 24, 22, tzinfo=dt.UTC),
    )
    assert rows[3].kind == "vacation"
    # 22 March is the EXDATE: no absence covers it; 29 March is a recurrence.
    assert not _absent(team["tara"], dt.datetime(2024, 3, 22, 10, tzinfo=dt.UTC))
    assert _absent(team["tara"], dt.datetime(2024, 3, 29, 10, tzinfo=dt.UTC))


def test_reimporting_replaces_instead_of_duplicating(team: Any) -> None:
    clock.set_now(dt.datetime(2024, 3, 10, tzinfo=dt.UTC))
    calendar.import_absences(team["tara"], BERLIN_WEEKLY, source="tara.ics")
    calendar.import_absences(team["tara"], BERLIN_WEEKLY, source="tara.ics")
    assert Absence.objects.filter(person=team["tara"]).count() == 4


def test_a_broken_file_is_refused_naming_the_field(team: Any) -> None:
    with pytest.raises(services.EscalationError) as err:
        calendar.import_absences(team["tara"], b"this is not a calendar", source="x.ics")
    assert err.value.field == "file"
    assert not Absence.objects.exists()


def test_import_by_url_fetches_through_httpx(team: Any) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar")
            self.end_headers()
            self.wfile.write(BERLIN_WEEKLY)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        clock.set_now(dt.datetime(2024, 3, 10, tzinfo=dt.UTC))
        url = f"http://127.0.0.1:{server.server_address[1]}/tara.ics"
        assert calendar.import_absences_from_url(team["tara"], url) == 4
    finally:
        server.shutdown()
        server.server_close()


def test_an_imported_absence_makes_the_engine_skip_tara(fake_slack: Any, fake_twilio: Any, team: Any) -> None:
    from sirene.escalation.tests.helpers import calls, open_incident, run_until

    clock.set_now(dt.datetime(2024, 3, 10, tzinfo=dt.UTC))
    calendar.import_absences(team["tara"], BERLIN_WEEKLY, source="tara.ics")
    clock.set_now(dt.datetime(2024, 5, 21, 1, 0, tzinfo=dt.UTC))
    open_incident()
    run_until(16)
    assert [c.person_name for c in calls()] == ["Piwi"]
