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


@dataclass(frozen=True)
class SnapshotPerson:
    name: str | None = None
    slack_user_id: str = ""
    phone: str = ""


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
        return cls(
            name=_text(raw.get("name"), "name"),
            people=people,
            steps=steps,
            policy_id=None if policy_id is None else _number(int, policy_id, "policy_id"),
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
    return SnapshotPerson(
        name=None if name is None else _text(name, f"{where}.name"),
        slack_user_id=_text(value.get("slack_user_id"), f"{where}.slack_user_id"),
        phone=_text(value.get("phone"), f"{where}.phone"),
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
