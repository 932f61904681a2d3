"""iCalendar import of absences: recurrences (RRULE), exceptions (EXDATE, edited RECURRENCE-ID
occurrences) and DST handled by `recurring-ical-events`; all-day events are whole days in the
person's own time zone. Re-importing the same calendar replaces what it imported before."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
import recurring_ical_events
from django.db import transaction

from sirene.core import clock, validation
from sirene.escalation.models import Absence, AbsenceKind, Person
from sirene.escalation.services import EscalationError

# How far ahead recurring absences are expanded (re-import to extend).
HORIZON_DAYS = 400


def _aware(value: dt.date | dt.datetime, tz: ZoneInfo) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=tz)  # floating time: the person's
    return dt.datetime.combine(value, dt.time.min, tzinfo=tz)


def _kind(summary: str) -> str:
    lowered = summary.lower()
    if any(word in lowered for word in ("krank", "sick", "ill")):
        return AbsenceKind.SICK
    if any(
        word in lowered for word in ("urlaub", "vacation", "holiday", "frei", "abwesend", "out of office")
    ):
        return AbsenceKind.VACATION
    return AbsenceKind.OTHER


def parse_absences(
    data: bytes, tz_name: str, *, start: dt.datetime, end: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime, str, str]]:
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("Europe/Berlin")
    try:
        cal = icalendar.Calendar.from_ical(data)
    except (ValueError, IndexError, KeyError) as exc:
        raise EscalationError("file", f"not a valid iCalendar file: {exc}") from exc
    try:
        events = recurring_ical_events.of(cal).between(start, end)
    except Exception as exc:  # the library raises its own types for broken rules
        raise EscalationError("file", f"cannot expand the calendar: {exc}") from exc
    out = []
    for event in events:
        if (
            str(event.get("TRANSP", "")).upper() == "TRANSPARENT"
            or str(event.get("STATUS", "")).upper() == "CANCELLED"
        ):
            continue
        begin = event.get("DTSTART")
        if begin is None:
            continue
        finish = event.get("DTEND")
        begin_v = begin.dt
        if finish is not None:
            finish_v = finish.dt
        elif event.get("DURATION") is not None:
            finish_v = begin_v + event.get("DURATION").dt
        else:
            finish_v = begin_v + dt.timedelta(days=1) if not isinstance(begin_v, dt.datetime) else begin_v
        try:
            s, e = _aware(begin_v, tz), _aware(finish_v, tz)
            # An open-ended absence ("until 9999") is kept up to the planning horizon of core.validation.
            s, e = max(s, validation.EARLIEST), min(e, validation.LATEST_PLANNED)
        except OverflowError:
            continue
        if e <= s:
            continue
        summary = validation.clean_text(str(event.get("SUMMARY", "")))[:200]
        out.append((s.astimezone(dt.UTC), e.astimezone(dt.UTC), _kind(summary), summary))
    return out


def import_absences(person: Person, data: bytes, *, source: str) -> int:
    now = clock.now()
    start, end = now - dt.timedelta(days=1), now + dt.timedelta(days=HORIZON_DAYS)
    found = parse_absences(data, person.time_zone, start=start, end=end)
    source = (source or "calendar")[:300]
    with transaction.atomic():
        # Replace, not add: a re-import (or an event deleted in the calendar) leaves no stale rows.
        Absence.objects.filter(person=person, source=source, ends_at__gte=start).delete()
        Absence.objects.bulk_create(
            [
                Absence(person=person, starts_at=s, ends_at=e, kind=kind, note=note, source=source)
                for s, e, kind, note in found
            ]
        )
    return len(found)


def import_absences_from_url(person: Person, url: str) -> int:
    from sirene.integrations.base import IntegrationError
    from sirene.integrations.calendars import fetch_ical

    try:
        data = fetch_ical(url)
    except IntegrationError as exc:
        raise EscalationError("url", str(exc).removeprefix("url: ")) from exc
    return import_absences(person, data, source=url)
