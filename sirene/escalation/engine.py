"""The escalation engine: a pure function (run state + frozen policy + what happened + now → actions).

No Django, no I/O. The worker (services/tasks) and `sirene escalation preview` both call `decide`, so
the preview shows exactly what the worker will do.

The frozen policy comes typed (`snapshot.PolicySnapshot`, parsed and checked from the run's JSON).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sirene.escalation.snapshot import OnCallSlot, PolicySnapshot, SnapshotStep

# A call with no final status this long after it was placed (beyond ringing) counts as unanswered:
# time for the message, the keypress prompt and Twilio's callback.
ANSWER_GRACE_SECONDS = 120

OPEN_CALL_STATUSES = frozenset({"pending", "sending", "sent"})


@dataclass(frozen=True)
class AttemptView:
    """One side effect of the current step, as the engine needs to know it."""

    number: int
    status: str  # pending | sending | sent | answered | unanswered | failed | canceled
    created_at: dt.datetime
    finished_at: dt.datetime | None = None
    deadline: dt.datetime | None = None


@dataclass(frozen=True)
class RunView:
    status: str
    step_index: int
    cycle: int
    step_started_at: dt.datetime
    # Attempts belonging to (step_index, cycle) only.
    attempts: tuple[AttemptView, ...] = ()


@dataclass(frozen=True)
class Facts:
    acknowledged: bool = False
    resolved: bool = False
    absent: frozenset[str] = frozenset()
    # "Jetzt eskalieren" (Slack button, page) or "2" on the phone: leave the current step now.
    escalate_now: bool = False


# --- on-call hours (Rufbereitschaft) ------------------------------------------------------------


def _minutes(hhmm: str) -> int:
    hours, _sep, minutes = hhmm.partition(":")
    return int(hours) * 60 + int(minutes)


def _zone(name: str) -> dt.tzinfo:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        return ZoneInfo("Europe/Berlin")


def is_working(snapshot: PolicySnapshot, key: str, now: dt.datetime) -> bool:
    """Is this person within their working hours at `now` (their own time zone)?"""
    person = snapshot.people.get(key)
    if person is None:
        return True
    local = now.astimezone(_zone(person.time_zone))
    minute = local.hour * 60 + local.minute
    return local.weekday() in person.work_days and _minutes(person.work_start) <= minute < _minutes(person.work_end)


def _in_slot(slot: OnCallSlot, local: dt.datetime) -> bool:
    if slot.weekday is None:
        return False
    minute = local.hour * 60 + local.minute
    start, end = _minutes(slot.start), _minutes(slot.end)
    if start < end:
        return local.weekday() == slot.weekday and start <= minute < end
    # Runs past midnight (e.g. 18:00–08:00): the evening of its day or the morning after.
    return (local.weekday() == slot.weekday and minute >= start) or (
        local.weekday() == (slot.weekday + 1) % 7 and minute < end
    )


def on_call_at(snapshot: PolicySnapshot, now: dt.datetime, absent: frozenset[str] = frozenset()) -> str | None:
    """Who is on call at `now`: an override wins over the weekly pattern; absent people are not."""
    for slot in snapshot.on_call:
        if slot.weekday is None and slot.starts_at and slot.ends_at:
            try:
                begins, ends = dt.datetime.fromisoformat(slot.starts_at), dt.datetime.fromisoformat(slot.ends_at)
            except ValueError:
                continue
            if begins <= now < ends and slot.person not in absent:
                return slot.person
    local = now.astimezone(_zone(snapshot.time_zone))
    for slot in snapshot.on_call:
        if _in_slot(slot, local) and slot.person not in absent:
            return slot.person
    return None


@dataclass(frozen=True)
class Route:
    """Whom a call step phones at a given moment, and why."""

    person: str | None
    on_call: bool = False
    instead_of: str | None = None
    reason: str = ""  # "" | absent | off_hours | no person


def route_call(snapshot: PolicySnapshot, key: str, now: dt.datetime, absent: frozenset[str]) -> Route:
    """The policy names `key`. Within their working hours (or when the team keeps no on-call rota)
    they are called; outside them only whoever is on call is, instead of them."""
    if not key:
        return Route(None, reason="no person")
    if not snapshot.on_call or is_working(snapshot, key, now):
        return Route(None, reason="absent", instead_of=key) if key in absent else Route(key)
    duty = on_call_at(snapshot, now, absent)
    if duty is None:
        return Route(None, reason="off_hours", instead_of=key)
    return Route(duty, on_call=True, instead_of=None if duty == key else key)


@dataclass(frozen=True)
class Action:
    kind: str  # slack_post | call | task | skip | stop
    step_index: int
    cycle: int
    person: str | None = None
    number: int = 1
    of: int = 1
    deadline: dt.datetime | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    actions: tuple[Action, ...]
    status: str
    step_index: int
    cycle: int
    step_started_at: dt.datetime
    next_action_at: dt.datetime | None


def _call_deadline(step: SnapshotStep, now: dt.datetime) -> dt.datetime:
    return now + dt.timedelta(seconds=step.ring_seconds + ANSWER_GRACE_SECONDS)


def decide(run: RunView, snapshot: PolicySnapshot, facts: Facts, now: dt.datetime) -> Decision:
    steps = snapshot.steps
    idx, cycle, entered = run.step_index, run.cycle, run.step_started_at
    attempts = run.attempts
    actions: list[Action] = []

    def result(status: str, next_at: dt.datetime | None) -> Decision:
        return Decision(tuple(actions), status, idx, cycle, entered, next_at)

    if run.status != "active":
        return result(run.status, None)
    if facts.resolved or facts.acknowledged:
        actions.append(
            Action("stop", idx, cycle, detail={"reason": "resolved" if facts.resolved else "acknowledged"})
        )
        return result("resolved" if facts.resolved else "acknowledged", None)
    if any(a.status == "answered" for a in attempts):
        actions.append(Action("stop", idx, cycle, detail={"reason": "acknowledged"}))
        return result("acknowledged", None)

    def advance(to: int | None = None) -> None:
        nonlocal idx, entered, attempts
        idx = idx + 1 if to is None else to
        entered = now
        attempts = ()

    if facts.escalate_now and idx < len(steps):
        # Leave the waiting or calling step now; a call already ringing cannot be recalled.
        actions.append(Action("escalated", idx, cycle))
        advance()

    # Bounded: every pass either returns or advances; a repeat loops back at most `times` per cycle.
    for _ in range(4 * (len(steps) + 1) * (1 + sum(s.times for s in steps))):
        if idx >= len(steps):
            actions.append(Action("stop", idx, cycle, detail={"reason": "exhausted"}))
            return result("exhausted", None)
        step = steps[idx]
        kind = step.kind
        if kind == "slack_post":
            if not attempts:
                actions.append(
                    Action(
                        "slack_post",
                        idx,
                        cycle,
                        detail={"channel": step.channel, "mentions": list(step.mentions)},
                    )
                )
            advance()
        elif kind == "wait_ack":
            due = entered + dt.timedelta(minutes=step.minutes)
            if now < due:
                return result("active", due)
            advance()
        elif kind == "call":
            total = max(1, step.attempts)
            last = attempts[-1] if attempts else None
            if last is not None and last.status in OPEN_CALL_STATUSES:
                if last.deadline is None or now < last.deadline:
                    # Still ringing (or being placed): wake at its deadline unless a callback comes first.
                    return result("active", last.deadline or now + dt.timedelta(seconds=5))
            route = route_call(snapshot, step.person, now, facts.absent)
            person = route.person
            if not person:
                if not attempts:
                    actions.append(
                        Action(
                            "skip", idx, cycle, person=route.instead_of or step.person or None,
                            detail={"reason": route.reason},
                        )
                    )
                advance()
                continue
            if len(attempts) >= total:
                advance()
                continue
            if last is not None:
                ended = last.finished_at or last.deadline or last.created_at
                ready = ended + dt.timedelta(minutes=step.gap_minutes)
                if now < ready:
                    return result("active", ready)
            deadline = _call_deadline(step, now)
            detail: dict[str, Any] = {}
            if route.on_call:
                detail = {"on_call": True, "instead_of": route.instead_of or ""}
            actions.append(
                Action(
                    "call", idx, cycle, person=person, number=len(attempts) + 1, of=total, deadline=deadline,
                    detail=detail,
                )
            )
            return result("active", deadline)
        elif kind == "task":
            if not attempts:
                actions.append(
                    Action(
                        "task",
                        idx,
                        cycle,
                        person=step.person or None,
                        detail={"title": step.title, "text": step.text},
                    )
                )
            advance()
        elif kind == "repeat":
            if cycle < step.times:
                cycle += 1
                actions.append(Action("repeat", idx, cycle, detail={"round": cycle + 1}))
                advance(to=min(max(0, step.from_step), idx))
            else:
                advance()
        else:
            advance()  # an unknown step kind (newer snapshot) must not stall the run
    actions.append(Action("stop", idx, cycle, detail={"reason": "exhausted"}))
    return result("exhausted", None)


# ---------------------------------------------------------------------------------------------
# Simulation for the preview: feeds the engine the outcomes a scenario implies, same `decide`.


@dataclass(frozen=True)
class PreviewLine:
    at: float  # seconds from start
    action: str  # slack_post | call | task | status_update | stop
    person: str | None
    text: str


def simulate(
    snapshot: PolicySnapshot,
    *,
    absent: frozenset[str] = frozenset(),
    no_answer: frozenset[str] = frozenset(),
    ack_at_minutes: float | None = None,
    start: dt.datetime | None = None,
    horizon_hours: float = 24,
) -> list[PreviewLine]:
    """The timeline the worker would produce. People not in `no_answer` answer their first call
    (pressing 1) after ringing; an ack at `ack_at_minutes` comes from Slack."""
    start = start or dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    name = snapshot.person_name

    state = RunView("active", 0, 0, start)
    ack_at = start + dt.timedelta(minutes=ack_at_minutes) if ack_at_minutes is not None else None
    lines: list[PreviewLine] = []
    now = start
    # Outcomes of calls in flight: (deadline, attempt index in state.attempts, answered?)
    pending: list[tuple[dt.datetime, bool]] = []
    end = start + dt.timedelta(hours=horizon_hours)
    for _ in range(10_000):
        acked = ack_at is not None and now >= ack_at
        decision = decide(state, snapshot, Facts(acknowledged=acked, absent=absent), now)
        attempts = (
            list(state.attempts)
            if decision.step_index == state.step_index and decision.cycle == state.cycle
            else []
        )
        for action in decision.actions:
            secs = (now - start).total_seconds()
            if action.kind == "stop":
                if action.detail.get("reason") == "acknowledged":
                    lines.append(
                        PreviewLine(secs, "status_update", None, "Slack message updated: acknowledged")
                    )
                lines.append(PreviewLine(secs, "stop", None, f"stop: {action.detail.get('reason', '')}"))
            elif action.kind == "call":
                who = action.person or ""
                duty = " on call" if action.detail.get("on_call") else ""
                lines.append(
                    PreviewLine(secs, "call", name(who), f"call {name(who)} ({action.number}/{action.of}){duty}")
                )
                answers = who not in no_answer
                ring_end = now + dt.timedelta(seconds=snapshot.ring_seconds(action.step_index))
                attempts.append(AttemptView(action.number, "sent", now, None, action.deadline))
                pending.append((ring_end, answers))
            elif action.kind == "slack_post":
                mentions = ", ".join(filter(None, (name(k) for k in action.detail.get("mentions", []))))
                lines.append(
                    PreviewLine(
                        secs, "slack_post", None, f"Slack post in {action.detail.get('channel')} → {mentions}"
                    )
                )
            elif action.kind == "task":
                lines.append(
                    PreviewLine(
                        secs,
                        "task",
                        name(action.person),
                        f"task for {name(action.person)}: {action.detail.get('title')}",
                    )
                )
            elif action.kind == "repeat":
                lines.append(PreviewLine(secs, "repeat", None, f"repeat: round {action.detail.get('round')}"))
            elif action.kind == "skip":
                lines.append(
                    PreviewLine(
                        secs,
                        "skip",
                        name(action.person),
                        f"skip {name(action.person)} ({action.detail.get('reason')})",
                    )
                )
        if decision.status != "active":
            break
        state = RunView(
            decision.status, decision.step_index, decision.cycle, decision.step_started_at, tuple(attempts)
        )
        # Next moment anything can change: the engine's wake-up, a call's outcome, or the ack.
        candidates = [t for t in (decision.next_action_at, ack_at) if t is not None and t > now]
        candidates += [t for t, _ in pending if t > now]
        if not candidates:
            candidates = [t for t, _ in pending] or [now + dt.timedelta(seconds=1)]
        now = max(now, min(candidates))
        if now > end:
            break
        # Apply call outcomes that have happened by now.
        still = []
        for t, answers in pending:
            if t <= now and state.attempts:
                last = state.attempts[-1]
                outcome = "answered" if answers else "unanswered"
                state = RunView(
                    state.status,
                    state.step_index,
                    state.cycle,
                    state.step_started_at,
                    state.attempts[:-1]
                    + (AttemptView(last.number, outcome, last.created_at, t, last.deadline),),
                )
                if answers:
                    lines.append(PreviewLine((t - start).total_seconds(), "answer", None, "pressed 1"))
            elif t > now:
                still.append((t, answers))
        pending = still
    return lines


@dataclass(frozen=True)
class RoutingLine:
    """Who the policy's first call step phones at a moment (the on-call preview)."""

    at: dt.datetime
    person: str | None
    on_call: bool
    instead_of: str | None
    reason: str


def routing_preview(
    snapshot: PolicySnapshot, moments: list[dt.datetime], absent: frozenset[str] = frozenset()
) -> list[RoutingLine]:
    """For each moment: whom the first call step would phone (same `route_call` as `decide`)."""
    step = next((s for s in snapshot.steps if s.kind == "call"), None)
    if step is None:
        return []
    out = []
    for moment in moments:
        route = route_call(snapshot, step.person, moment, absent)
        out.append(RoutingLine(moment, route.person, route.on_call, route.instead_of, route.reason))
    return out


def format_lines(lines: list[PreviewLine]) -> list[str]:
    out = []
    for line in lines:
        minutes, seconds = divmod(int(line.at), 60)
        out.append(f"{minutes:02d}:{seconds:02d} {line.text}")
    return out
