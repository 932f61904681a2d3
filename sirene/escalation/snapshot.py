"""The typed shape of a frozen escalation policy (`Run.snapshot`), checked when it is read.

The run stores the policy as JSON when it starts (so editing a policy never changes a running
escalation). `PolicySnapshot.parse` turns that JSON into frozen dataclasses for the pure engine:
every field gets its type and its default here, once, instead of `.get(...) or …` at each use.
A malformed value raises `SnapshotError` naming the field (`steps[2].minutes`). Unknown step
kinds (a snapshot written by a newer version) are kept: the engine skips them.

JSON shape:
    {"name": str, "policy_id": int (absent for the fallback), "people": {key: {"name", "slack_user_id", "phone"}},
     "steps": [{"kind": "slack_post", "channel", "mentions": [key]},
               {"kind": "wait_ack", "minutes"},
               {"kind": "call", "person": key, "attempts", "gap_minutes", "ring_seconds"},
               {"kind": "task", "person": key, "title", "text"},
               {"kind": "repeat", "times", "from_step"}]}
No Django here: the engine and the preview use it without a database.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

STEP_KINDS = frozenset({"slack_post", "wait_ack", "call", "task", "repeat"})
DEFAULT_RING_SECONDS = 30


class SnapshotError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


WEEKDAYS = (0, 1, 2, 3, 4)


@dataclass(frozen=True)
class SnapshotPerson:
    name: str | None = None
    slack_user_id: str = ""
    phone: str = ""
    # Working hours (issue 22): outside them, and when the team has an on-call rota, only whoever is
    # on call is phoned. Local times in the person's time zone; weekdays 0 = Monday.
    time_zone: str = "Europe/Berlin"
    work_days: tuple[int, ...] = WEEKDAYS
    work_start: str = "08:00"
    work_end: str = "18:00"


@dataclass(frozen=True)
class OnCallSlot:
    """One entry of the on-call rota: a weekly slot (weekday, start–end local time; an end at or
    before the start runs into the next day) or an override (starts_at–ends_at, ISO datetimes),
    which wins over the weekly pattern while it lasts."""

    person: str
    weekday: int | None = None
    start: str = "00:00"
    end: str = "00:00"
    starts_at: str = ""
    ends_at: str = ""


@dataclass(frozen=True)
class SnapshotStep:
    """One step; the fields a kind does not use keep their defaults."""

    kind: str
    channel: str = ""
    mentions: tuple[str, ...] = ()
    minutes: float = 0.0
    person: str = ""  # a key of `people`; "" for none
    attempts: int = 1
    gap_minutes: float = 0.0
    ring_seconds: int = DEFAULT_RING_SECONDS
    title: str = ""
    text: str = ""
    times: int = 0
    from_step: int = 0


@dataclass(frozen=True)
class PolicySnapshot:
    name: str
    people: Mapping[str, SnapshotPerson] = field(default_factory=dict)
    steps: tuple[SnapshotStep, ...] = ()
    policy_id: int | None = None
    on_call: tuple[OnCallSlot, ...] = ()
    time_zone: str = "Europe/Berlin"

    @classmethod
    def parse(cls, raw: Any) -> PolicySnapshot:
        if isinstance(raw, PolicySnapshot):
            return raw
        if not isinstance(raw, Mapping):
            raise SnapshotError("snapshot", f"must be an object, not {type(raw).__name__}")
        people_raw = raw.get("people") or {}
        if not isinstance(people_raw, Mapping):
            raise SnapshotError("people", "must be an object keyed by person")
        people = {str(key): _person(value, f"people.{key}") for key, value in people_raw.items()}
        steps_raw = raw.get("steps") or []
        if not isinstance(steps_raw, list):
            raise SnapshotError("steps", "must be a list")
        steps = tuple(_step(value, f"steps[{i}]") for i, value in enumerate(steps_raw))
        policy_id = raw.get("policy_id")
        rota_raw = raw.get("on_call") or []
        if not isinstance(rota_raw, list):
            raise SnapshotError("on_call", "must be a list")
        return cls(
            name=_text(raw.get("name"), "name"),
            people=people,
            steps=steps,
            policy_id=None if policy_id is None else _number(int, policy_id, "policy_id"),
            on_call=tuple(_slot(value, f"on_call[{i}]") for i, value in enumerate(rota_raw)),
            time_zone=_text(raw.get("time_zone") or "Europe/Berlin", "time_zone"),
        )

    def person_name(self, key: str | None) -> str | None:
        """The person's name for display (the key itself when the snapshot has no name)."""
        if not key:
            return None
        person = self.people.get(key)
        return person.name if person is not None and person.name is not None else key

    def ring_seconds(self, index: int) -> int:
        return self.steps[index].ring_seconds if 0 <= index < len(self.steps) else DEFAULT_RING_SECONDS


def _text(value: Any, where: str) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        raise SnapshotError(where, "must be text")
    return str(value)


def _number(kind: Callable[[Any], T], value: Any, where: str) -> T:
    if isinstance(value, bool) or isinstance(value, (dict, list)):
        raise SnapshotError(where, "must be a number")
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise SnapshotError(where, f"must be a number, not {value!r}") from None


def _person(value: Any, where: str) -> SnapshotPerson:
    if not isinstance(value, Mapping):
        raise SnapshotError(where, "must be an object")
    name = value.get("name")
    days = value.get("work_days")
    if days is not None and not isinstance(days, list):
        raise SnapshotError(f"{where}.work_days", "must be a list of weekdays (0 = Monday)")
    return SnapshotPerson(
        name=None if name is None else _text(name, f"{where}.name"),
        slack_user_id=_text(value.get("slack_user_id"), f"{where}.slack_user_id"),
        phone=_text(value.get("phone"), f"{where}.phone"),
        time_zone=_text(value.get("time_zone") or "Europe/Berlin", f"{where}.time_zone"),
        work_days=WEEKDAYS if days is None else tuple(_number(int, d, f"{where}.work_days") for d in days),
        work_start=_clock(value.get("work_start") or "08:00", f"{where}.work_start"),
        work_end=_clock(value.get("work_end") or "18:00", f"{where}.work_end"),
    )


def _clock(value: Any, where: str) -> str:
    text = _text(value, where)
    hours, _sep, minutes = text.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
        raise SnapshotError(where, f"must be a time of day like 08:00, not {text!r}")
    return f"{int(hours):02d}:{int(minutes):02d}"


def _slot(value: Any, where: str) -> OnCallSlot:
    if not isinstance(value, Mapping):
        raise SnapshotError(where, "must be an object")
    weekday = value.get("weekday")
    return OnCallSlot(
        person=_text(value.get("person") or "", f"{where}.person"),
        weekday=None if weekday is None else _number(int, weekday, f"{where}.weekday"),
        start=_clock(value.get("start") or "00:00", f"{where}.start"),
        end=_clock(value.get("end") or "00:00", f"{where}.end"),
        starts_at=_text(value.get("starts_at") or "", f"{where}.starts_at"),
        ends_at=_text(value.get("ends_at") or "", f"{where}.ends_at"),
    )


def _step(value: Any, where: str) -> SnapshotStep:
    if not isinstance(value, Mapping):
        raise SnapshotError(where, "must be an object")
    mentions = value.get("mentions") or []
    if not isinstance(mentions, list):
        raise SnapshotError(f"{where}.mentions", "must be a list of person keys")
    # Empty and missing values take the defaults, as the engine always read them ("x or default").
    return SnapshotStep(
        kind=_text(value.get("kind"), f"{where}.kind"),
        channel=_text(value.get("channel") or "", f"{where}.channel"),
        mentions=tuple(str(m) for m in mentions if m is not None),
        minutes=_number(float, value.get("minutes") or 0, f"{where}.minutes"),
        person=_text(value.get("person") or "", f"{where}.person"),
        attempts=_number(int, value.get("attempts") or 1, f"{where}.attempts"),
        gap_minutes=_number(float, value.get("gap_minutes") or 0, f"{where}.gap_minutes"),
        ring_seconds=_number(int, value.get("ring_seconds") or DEFAULT_RING_SECONDS, f"{where}.ring_seconds"),
        title=_text(value.get("title") or "", f"{where}.title"),
        text=_text(value.get("text") or "", f"{where}.text"),
        times=_number(int, value.get("times") or 0, f"{where}.times"),
        from_step=_number(int, value.get("from_step") or 0, f"{where}.from_step"),
    )
