"""Escalation: every write of this domain. The incident flows (`sirene.flows.incidents`) call
`start_run` / `stop_run` / `finish_run` when an incident opens, is acknowledged or is resolved; the
worker half lives in `worker.py`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F

from sirene.accounts.models import User
from sirene.core import clock, validation
from sirene.core.errors import FieldError
from sirene.escalation import engine, messages
from sirene.escalation.models import (
    Absence,
    Attempt,
    AttemptKind,
    AttemptStatus,
    Person,
    PersonRole,
    Policy,
    Run,
    RunStatus,
    Step,
    StepKind,
    Task,
    TaskKind,
)
from sirene.escalation.snapshot import PolicySnapshot, SnapshotError
from sirene.incidents import events as incident_events
from sirene.incidents.models import Incident
from sirene.preferences import services as preferences

# Kept for policies that still carry a Facebook task step; the task itself is assigned at open.
FACEBOOK_REPLY = (
    "Hallo zusammen, wir wissen von dem Problem. Unser Technik-Team arbeitet bereits daran und wir melden "
    "uns hier, sobald es behoben ist. Danke für eure Geduld!"
)
DEFAULT_POLICY_NAME = "Standard"


class EscalationError(FieldError):
    """Bad input for this domain; `field` names the offending field."""


# --- policies -------------------------------------------------------------------------------


def snapshot_of(policy: Policy) -> dict[str, Any]:
    """The frozen copy a run keeps: steps plus everything it needs to know about each person."""
    people: dict[str, dict[str, Any]] = {}

    def ref(person: Person | None) -> str | None:
        if person is None:
            return None
        people[str(person.pk)] = _person_snapshot(person)
        return str(person.pk)

    steps = []
    for step in policy.steps.select_related("person").prefetch_related("mentions").order_by("position", "id"):
        data: dict[str, Any] = {"kind": step.kind}
        if step.kind == StepKind.SLACK_POST:
            # An empty step channel, or the environment's default, is "the team's channel": the lead's
            # setting (Einstellungen) wins over SIRENE_SLACK_CHANNEL there (a step naming another channel
            # keeps it).
            own = step.channel if step.channel and step.channel != settings.SLACK_CHANNEL else ""
            data.update(
                channel=own or preferences.get("slack_channel"), mentions=[ref(p) for p in step.mentions.all()]
            )
        elif step.kind == StepKind.WAIT_ACK:
            data.update(minutes=step.minutes)
        elif step.kind == StepKind.CALL:
            data.update(
                person=ref(step.person),
                attempts=step.attempts,
                gap_minutes=step.gap_minutes,
                ring_seconds=step.ring_seconds,
            )
        elif step.kind == StepKind.TASK:
            data.update(person=ref(step.person), title=step.title, text=step.text)
        elif step.kind == StepKind.REPEAT:
            data.update(times=step.repeat_times, from_step=step.repeat_from)
        steps.append(data)
    rota = on_call_rota(ref)
    return {
        "name": policy.name,
        "policy_id": policy.pk,
        "people": people,
        "steps": steps,
        "on_call": rota,
        "time_zone": settings.TIME_ZONE,
    }


def _person_snapshot(person: Person) -> dict[str, Any]:
    return {
        "name": person.name,
        "slack_user_id": person.slack_user_id,
        "phone": person.phone,
        "time_zone": person.time_zone,
        "work_days": [int(d) for d in person.work_days if d.isdigit() and int(d) < 7],
        "work_start": person.work_start.strftime("%H:%M"),
        "work_end": person.work_end.strftime("%H:%M"),
    }


def on_call_rota(ref: Any) -> list[dict[str, Any]]:
    """The rota as the frozen policy keeps it: the weekly pattern and the overrides not over yet."""
    from sirene.escalation.models import OnCallShift

    now = clock.now()
    rota: list[dict[str, Any]] = []
    shifts = OnCallShift.objects.select_related("person").exclude(ends_at__lt=now)
    for shift in shifts.order_by("starts_at", "weekday", "start", "id"):
        key = ref(shift.person)
        if shift.weekday is not None and shift.start is not None and shift.end is not None:
            rota.append(
                {"person": key, "weekday": shift.weekday, "start": shift.start.strftime("%H:%M"), "end": shift.end.strftime("%H:%M")}
            )
        elif shift.starts_at is not None and shift.ends_at is not None:
            rota.append({"person": key, "starts_at": shift.starts_at.isoformat(), "ends_at": shift.ends_at.isoformat()})
    # Overrides first: they win over the weekly pattern.
    rota.sort(key=lambda slot: 0 if "starts_at" in slot else 1)
    return rota


def fallback_snapshot() -> dict[str, Any]:
    """No policy configured: still post the siren to the channel, mentioning everyone we know."""
    people = {str(p.pk): _person_snapshot(p) for p in Person.objects.all()}
    return {
        "name": "(fallback)",
        "people": people,
        "steps": [{"kind": "slack_post", "channel": preferences.get("slack_channel"), "mentions": list(people)}],
    }


def default_policy() -> Policy | None:
    return Policy.objects.filter(is_default=True).first() or Policy.objects.order_by("id").first()


@transaction.atomic
def ensure_default_policy(people: dict[str, Person]) -> Policy:
    """The process as the team runs it; `people` maps lea/tara/luca/piwi to Person rows.
    Idempotent: an existing policy of that name is left as the team edited it."""
    existing = Policy.objects.filter(name=DEFAULT_POLICY_NAME).first()
    if existing is not None:
        return existing
    policy = Policy.objects.create(
        name=DEFAULT_POLICY_NAME, is_default=not Policy.objects.filter(is_default=True).exists()
    )
    post = Step.objects.create(
        policy=policy, position=0, kind=StepKind.SLACK_POST, channel=""  # "" = the team's channel (Einstellungen)
    )
    post.mentions.set([people[k] for k in ("lea", "tara", "luca", "piwi") if k in people])
    Step.objects.create(policy=policy, position=1, kind=StepKind.WAIT_ACK, minutes=15)
    Step.objects.create(
        policy=policy, position=2, kind=StepKind.CALL, person=people.get("tara"), attempts=2, gap_minutes=5
    )
    Step.objects.create(
        policy=policy, position=3, kind=StepKind.CALL, person=people.get("piwi"), attempts=2, gap_minutes=5
    )
    # The Facebook groups are not a step after the calls: that task goes out when the incident
    # opens (`assign_opening_tasks`), whoever reacts and however fast.
    Step.objects.create(policy=policy, position=4, kind=StepKind.REPEAT, repeat_times=1, repeat_from=1)
    return policy


def add_step(policy: Policy, **fields: Any) -> Step:
    kind = fields.get("kind")
    if kind not in StepKind.values:
        raise EscalationError("kind", f"{kind!r} is not one of: {', '.join(StepKind.values)}")
    if kind in (StepKind.CALL,) and not fields.get("person"):
        raise EscalationError("person", "a call step needs a person")
    mentions = fields.pop("mentions", None) or []
    with transaction.atomic():
        position = (policy.steps.order_by("-position").values_list("position", flat=True).first() or 0) + 1
        if not policy.steps.exists():
            position = 0
        step = Step.objects.create(policy=policy, position=position, **fields)
        if mentions:
            step.mentions.set(mentions)
        Policy.objects.filter(pk=policy.pk).update(updated_at=clock.now())
    return step


STEP_FIELDS = ("channel", "minutes", "attempts", "gap_minutes", "ring_seconds", "title", "text", "repeat_times", "repeat_from")


def update_step(step: Step, *, user: User | None = None, **fields: Any) -> list[str]:
    """Change a step's values (a wait's minutes, a call's attempts…); running escalations keep their
    frozen copy. Every change goes to the settings audit trail. Returns the changed field names."""
    from django.core.exceptions import ValidationError

    changed = []
    with transaction.atomic():
        step = Step.objects.select_for_update().get(pk=step.pk)
        before = {name: getattr(step, name) for name in fields}
        for name, value in fields.items():
            if name not in (*STEP_FIELDS, "person"):
                raise EscalationError(name, "cannot be changed")
            setattr(step, name, value)
        if step.kind == StepKind.CALL and step.person is None:
            raise EscalationError("person", "a call step needs a person")
        try:
            step.full_clean(exclude=["policy"])
        except ValidationError as exc:
            field, errors = next(iter(exc.message_dict.items()))
            raise EscalationError(field, "; ".join(errors)) from exc
        step.save()
        subject = f"{step.policy.name} · {step.position + 1}. {step.get_kind_display()}"
        for name, old in before.items():
            new = getattr(step, name)
            if old != new:
                preferences.audit(user, "step", subject, name, old, new)
                changed.append(name)
        if changed:
            Policy.objects.filter(pk=step.policy_id).update(updated_at=clock.now())
    return changed


def remove_step(step: Step) -> None:
    with transaction.atomic():
        Policy.objects.filter(pk=step.policy_id).update(updated_at=clock.now())
        step.delete()


def move_step(step: Step, delta: int) -> None:
    with transaction.atomic():
        steps = list(step.policy.steps.order_by("position", "id"))
        i = next(n for n, s in enumerate(steps) if s.pk == step.pk)
        j = max(0, min(len(steps) - 1, i + delta))
        steps.insert(j, steps.pop(i))
        for n, s in enumerate(steps):
            Step.objects.filter(pk=s.pk).update(position=n)


def preview(
    snapshot: dict[str, Any],
    *,
    absent: list[str] = [],  # noqa: B006 - read only
    no_answer: list[str] = [],  # noqa: B006
    ack_at: float | None = None,
) -> list[engine.PreviewLine]:
    """The timeline the worker would produce; people are given by name (case-insensitive)."""
    try:
        policy = PolicySnapshot.parse(snapshot)
    except SnapshotError as exc:
        raise EscalationError(exc.field, exc.message) from None
    by_name = {(p.name or "").lower(): k for k, p in policy.people.items()}

    def keys(names: list[str], field: str) -> frozenset[str]:
        out = set()
        for name in names:
            key = by_name.get(name.strip().lower())
            if key is None:
                raise EscalationError(
                    field, f"{name!r} is not in this policy (known: {', '.join(sorted(by_name))})"
                )
            out.add(key)
        return frozenset(out)

    return engine.simulate(
        policy, absent=keys(absent, "absent"), no_answer=keys(no_answer, "no_answer"), ack_at_minutes=ack_at
    )


def preview_moments(start: dt.datetime | None = None) -> list[dt.datetime]:
    """Sample moments of the coming week for the on-call preview: a weekday morning and night, a
    Saturday night and a Sunday afternoon (team time zone)."""
    from django.utils import timezone

    local = timezone.localtime(start or clock.now())
    monday = (local - dt.timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    monday += dt.timedelta(days=7)
    return [
        monday.replace(hour=10),
        monday.replace(hour=22),
        (monday + dt.timedelta(days=5)).replace(hour=3),
        (monday + dt.timedelta(days=6)).replace(hour=14),
    ]


def on_call_preview(snapshot: dict[str, Any], moments: list[dt.datetime] | None = None) -> list[str]:
    """"Samstag 03:00 → Anruf bei Piwi (Rufbereitschaft)": whom the first call step phones when."""
    from sirene.escalation import preview_text

    try:
        policy = PolicySnapshot.parse(snapshot)
    except SnapshotError as exc:
        raise EscalationError(exc.field, exc.message) from None
    routed = engine.routing_preview(policy, moments or preview_moments())
    return preview_text.routing(routed, policy.person_name)


def call_outs_per_month(since: dt.datetime | None = None) -> list[tuple[dt.date, int]]:
    """Calls placed to whoever was on call outside working hours (Rufbereitschaft counts as working
    time), per calendar month in the team's time zone: the team's figure, not per person."""
    from collections import Counter

    from django.utils import timezone

    rows = Attempt.objects.filter(kind=AttemptKind.CALL, on_call=True).exclude(status=AttemptStatus.CANCELED)
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    counts: Counter[dt.date] = Counter()
    for created in rows.values_list("created_at", flat=True):
        local = timezone.localtime(created)
        counts[dt.date(local.year, local.month, 1)] += 1
    return sorted(counts.items())


# --- incident lifecycle ---------------------------------------------------------------------


def start_run(incident: Incident) -> None:
    """Start the escalation run for a newly opened incident (policy frozen into the run) and hand
    out the tasks every critical incident needs at once: Facebook groups, test account."""
    if Run.objects.filter(incident=incident).exists():
        return
    policy = default_policy()
    snapshot = snapshot_of(policy) if policy is not None else fallback_snapshot()
    PolicySnapshot.parse(snapshot)  # what the engine will read: checked before it is frozen
    now = clock.now()
    run = Run.objects.create(
        incident=incident,
        policy=policy,
        snapshot=snapshot,
        step_started_at=now,
        started_at=now,
        next_action_at=now,
    )
    incident_events.record(incident, "escalation", step="started", policy=snapshot["name"])
    assign_opening_tasks(run, incident)


def _queue(run: Run, kind: str, target: str, text: str, *, person: Person | None = None) -> Attempt:
    now = clock.now()
    attempt = Attempt.objects.create(
        run=run,
        kind=kind,
        target=target,
        text=text,
        due_at=now,
        created_at=now,
        person=person,
        person_name=person.name if person else "",
    )
    Run.objects.filter(pk=run.pk).update(next_action_at=now)
    return attempt


def siren_mentions(run: Run) -> list[str]:
    """The Slack ids the siren post mentions (from the frozen policy's first Slack step)."""
    people = run.snapshot.get("people") or {}
    for step in run.snapshot.get("steps") or []:
        if step.get("kind") == "slack_post":
            return [str((people.get(str(k)) or {}).get("slack_user_id") or "") for k in step.get("mentions") or []]
    return []


def _update_siren(run: Run, incident: Incident) -> None:
    """Rewrite the siren post in place (chat.update: no new ping) with the incident as it is now."""
    if not run.attempts.filter(kind=AttemptKind.SLACK_POST).exists():
        return
    text = messages.siren_text(incident, siren_mentions(run))
    Run.objects.filter(pk=run.pk).update(siren_customers=incident.customers_affected)
    _queue(run, AttemptKind.SLACK_UPDATE, run.slack_channel, text)


def has_siren(run: Run) -> bool:
    """Does (or will) this run post a siren message that thread replies can go under?"""
    return any(s.get("kind") == "slack_post" for s in run.snapshot.get("steps") or []) or (
        run.attempts.filter(kind=AttemptKind.SLACK_POST).exists()
    )


def _thread(run: Run, text: str) -> Attempt | None:
    if not has_siren(run):
        return None
    return _queue(run, AttemptKind.THREAD_REPLY, run.slack_channel, text)


def stop_run(incident: Incident) -> None:
    """Stop further escalation steps, mark the siren post taken and say so in its thread."""
    run = Run.objects.filter(incident=incident).first()
    if run is None:
        return
    now = clock.now()
    Run.objects.filter(pk=run.pk, status=RunStatus.ACTIVE).update(
        status=RunStatus.ACKNOWLEDGED, finished_at=now
    )
    # Calls and tasks decided but not yet placed are dropped; one already ringing cannot be recalled.
    run.attempts.filter(status=AttemptStatus.PENDING, kind__in=[AttemptKind.CALL, AttemptKind.TASK]).update(
        status=AttemptStatus.CANCELED, finished_at=now
    )
    _update_siren(run, incident)
    _thread(run, messages.acknowledged_text(incident))


def finish_run(incident: Incident, replies: dict[str, Any] | None = None) -> None:
    """Post the final status update, mark the siren post resolved and say so in its thread."""
    run = Run.objects.filter(incident=incident).first()
    if run is None:
        return
    now = clock.now()
    Run.objects.filter(pk=run.pk).exclude(status=RunStatus.RESOLVED).update(
        status=RunStatus.RESOLVED, finished_at=now
    )
    # Nothing of a resolved incident goes out afterwards: calls, tasks, DMs, thread replies and
    # updates still queued are dropped (the resolution's own messages are queued below), and the
    # tasks still open are closed.
    run.attempts.filter(
        status=AttemptStatus.PENDING,
        kind__in=[
            AttemptKind.CALL,
            AttemptKind.TASK,
            AttemptKind.DM,
            AttemptKind.THREAD_REPLY,
            AttemptKind.SLACK_UPDATE,
            AttemptKind.SLACK_POST,
        ],
    ).update(status=AttemptStatus.CANCELED, finished_at=now)
    closed = run.tasks.filter(done_at__isnull=True).update(done_at=now, not_needed=True)
    if closed:
        incident_events.record(incident, "escalation", step="tasks_closed", what="tasks_closed", run=run.pk, n=closed)
    author = incident.resolved_by.display_name() if incident.resolved_by else "sirene"
    _queue(
        run,
        AttemptKind.STATUS_UPDATE,
        preferences.get("slack_status_channel"),
        messages.status_update_text(incident, f"Gelöst: {incident.resolution}", author),
    )
    _update_siren(run, incident)
    _thread(run, messages.resolved_text(incident, replies))


@transaction.atomic
def post_status_update(
    incident: Incident, text: str, *, user: User | None, fix_deployed: bool = False
) -> Attempt:
    """The lead's update: to the internal status channel and the siren post's thread (via the
    worker), and the incident timeline."""
    text = (text or "").strip()
    if not text:
        raise EscalationError("text", "must not be empty")
    if len(text) > 3000:
        raise EscalationError("text", "is longer than 3000 characters")
    run = Run.objects.filter(incident=incident).first()
    if run is None:
        run = Run.objects.create(
            incident=incident,
            snapshot={"name": "(none)", "people": {}, "steps": []},
            status=RunStatus.ACKNOWLEDGED,
        )
    author = user.display_name() if user else "sirene"
    # ★ fix_deployed: "Fix ist ausgerollt" (incidents.afterwards measures the silence from here).
    if fix_deployed:
        incident_events.record(incident, "status_update", actor=user, text=text, fix_deployed=True)
    else:
        incident_events.record(incident, "status_update", actor=user, text=text)
    body = messages.status_update_text(incident, text, author)
    _thread(run, body)
    return _queue(run, AttemptKind.STATUS_UPDATE, preferences.get("slack_status_channel"), body)


def complete_task(task: Task, *, user: User | None, not_needed: bool = False) -> bool:
    """Done (or not needed): recorded once, with who and when, on the incident's timeline."""
    with transaction.atomic():
        done = Task.objects.filter(pk=task.pk, done_at__isnull=True).update(
            done_at=clock.now(), done_by=user, not_needed=not_needed
        )
        if done:
            incident_events.record(
                task.run.incident, "escalation", actor=user, step="task_done", title=task.title, not_needed=not_needed
            )
    return bool(done)


# --- the tasks every incident needs at once -----------------------------------------------------

FACEBOOK_TITLE = "Facebook-Gruppen prüfen und antworten"
TEST_ACCOUNT_TITLE = "Im Testkonto nachstellen"


def _person_named(name: str) -> Person | None:
    name = (name or "").strip()
    return Person.objects.filter(name__iexact=name).first() if name else None


def _absent(person: Person, at: dt.datetime) -> bool:
    return Absence.objects.filter(person=person, starts_at__lte=at, ends_at__gt=at).exists()


def facebook_person(at: dt.datetime) -> tuple[Person | None, str]:
    """(who gets the Facebook task, why): SIRENE_FACEBOOK_PERSON, or their deputy when absent."""
    named = preferences.get("facebook_person")
    primary = _person_named(named)
    if primary is None and not named:
        primary = Person.objects.filter(role=PersonRole.RESPONDER).order_by("name").first()
    deputy = _person_named(settings.FACEBOOK_DEPUTY)
    if deputy is None:
        others = Person.objects.filter(role=PersonRole.DEPUTY)
        deputy = (others.exclude(pk=primary.pk) if primary is not None else others).first()
    if primary is not None and not _absent(primary, at):
        return primary, ""
    if deputy is not None and not _absent(deputy, at):
        note = f"Vertretung für {primary.name} (abwesend)" if primary is not None else ""
        return deputy, note
    return primary or deputy, ("alle zuständigen Personen sind abwesend" if primary or deputy else "")


def assign_opening_tasks(run: Run, incident: Incident) -> None:
    """The Facebook groups task (DM with the prepared group reply) and "Im Testkonto nachstellen"
    (in the siren post's thread, with the link to the test-account notes). Once per incident."""
    now = clock.now()
    if not run.tasks.filter(kind=TaskKind.FACEBOOK).exists():
        person, note = facebook_person(now)
        group_reply = messages.facebook_group_reply(incident)
        task = Task.objects.create(
            run=run,
            kind=TaskKind.FACEBOOK,
            person=person,
            assigned_note=note[:200],
            title=FACEBOOK_TITLE,
            text=group_reply,
            created_at=now,
        )
        target = (person.slack_user_id if person else "") or preferences.get("slack_channel")
        _queue(run, AttemptKind.DM, target, messages.facebook_task_text(incident, group_reply, note=note), person=person)
        incident_events.record(
            incident,
            "escalation",
            step="task",
            who=person.name if person else "",
            title=task.title,
            note=note,
            run=run.pk,
            task=task.pk,
        )
    if not run.tasks.filter(kind=TaskKind.TEST_ACCOUNT).exists():
        link = preferences.get("test_account_url")
        task = Task.objects.create(
            run=run,
            kind=TaskKind.TEST_ACCOUNT,
            title=TEST_ACCOUNT_TITLE,
            text="Das Problem im Testkonto nachstellen und das Ergebnis auf der Störungsseite eintragen.",
            link=link[:500],
            created_at=now,
        )
        text = messages.test_account_task_text(incident, link)
        if _thread(run, text) is None:
            _queue(run, AttemptKind.THREAD_REPLY, preferences.get("slack_channel"), text)
        incident_events.record(
            incident, "escalation", step="task", who="", title=task.title, note="", run=run.pk, task=task.pk
        )


def remind_tasks(limit: int = 50) -> int:
    """One reminder for a Facebook task still open after SIRENE_FACEBOOK_REMINDER_MINUTES."""
    now = clock.now()
    cutoff = now - dt.timedelta(minutes=settings.FACEBOOK_REMINDER_MINUTES)
    due = list(
        Task.objects.filter(
            kind=TaskKind.FACEBOOK, done_at__isnull=True, reminded_at__isnull=True, created_at__lte=cutoff
        )
        .exclude(run__incident__status="resolved")
        .select_related("run__incident", "person")[:limit]
    )
    sent = 0
    for task in due:
        with transaction.atomic():
            if not Task.objects.filter(pk=task.pk, reminded_at__isnull=True).update(reminded_at=now):
                continue  # another worker reminded already
            incident = task.run.incident
            person = task.person
            target = (person.slack_user_id if person else "") or preferences.get("slack_channel")
            text = messages.facebook_task_text(incident, task.text, note=task.assigned_note, reminder=True)
            _queue(task.run, AttemptKind.DM, target, text, person=person)
            incident_events.record(
                incident,
                "escalation",
                step="reminder",
                who=person.name if person else "",
                title=task.title,
                task=task.pk,
            )
            sent += 1
    return sent


def refresh_siren_posts(limit: int = 50) -> int:
    """Customers joined since the siren post was last written: update it in place (no new ping)."""
    stale = list(
        Run.objects.exclude(slack_ts="")
        .exclude(incident__status="resolved")
        .exclude(siren_customers=F("incident__customers_affected"))
        .select_related("incident")[:limit]
    )
    done = 0
    for run in stale:
        with transaction.atomic():
            count = run.incident.customers_affected
            if not Run.objects.filter(pk=run.pk, siren_customers=run.siren_customers).update(
                siren_customers=count
            ):
                continue
            _queue(run, AttemptKind.SLACK_UPDATE, run.slack_channel, messages.siren_text(run.incident, siren_mentions(run)))
            done += 1
    return done


def escalate_now(run: Run, label: str) -> bool:
    """"Jetzt eskalieren": the worker's next pass leaves the current step (a wait or a person's calls)
    for the next one. Only while the run escalates; returns False otherwise."""
    now = clock.now()
    changed = Run.objects.filter(pk=run.pk, status=RunStatus.ACTIVE, incident__status="open").update(
        escalate_requested_at=now, escalate_requested_by=label[:200], next_action_at=now
    )
    return bool(changed)


# --- acknowledgements from Slack --------------------------------------------------------------


def run_for_message(channel: str, ts: str) -> Run | None:
    runs = Run.objects.filter(slack_ts=ts).select_related("incident")
    return runs.filter(slack_channel=channel).first() or runs.first()


@dataclass(frozen=True)
class Acknowledger:
    """Who acknowledged, as the incident flow records it."""

    user: User | None
    label: str


@dataclass(frozen=True)
class TakeOver:
    """Who wants to take an incident over, and whether they may: only the incident's responders (the
    people its frozen policy mentions, calls or gives a task) or a lead stop the escalation."""

    user: User | None
    label: str
    allowed: bool


def responder_keys(snapshot: dict[str, Any]) -> frozenset[str]:
    """The person keys of the frozen policy: mentioned by the siren, called, given a task, or on call."""
    keys: set[str] = set()
    for step in snapshot.get("steps") or []:
        keys.update(str(k) for k in step.get("mentions") or [] if k)
        if step.get("person"):
            keys.add(str(step["person"]))
    # Whoever is in the on-call rota may be phoned instead of the policy's person: a responder too.
    keys.update(str(slot["person"]) for slot in snapshot.get("on_call") or [] if slot.get("person"))
    return frozenset(keys)


def _may_take_over(run: Run | None, person: Person | None, user: User | None) -> bool:
    if run is None:
        return True  # no escalation to stop: the role table alone decides
    if user is not None and user.is_lead:
        return True
    if person is None:
        return False
    return person.role == PersonRole.LEAD or str(person.pk) in responder_keys(run.snapshot)


def take_over_by_slack(run: Run, slack_user_id: str) -> TakeOver:
    """The Slack user behind a button, reaction or thread reply on the siren message."""
    who = slack_acknowledger(slack_user_id)
    person = Person.objects.filter(slack_user_id=slack_user_id).first() if slack_user_id else None
    return TakeOver(who.user, who.label, _may_take_over(run, person, who.user))


def run_of(incident: Incident) -> Run | None:
    return Run.objects.filter(incident=incident).first()


def take_over_by_user(incident: Incident, user: User | None) -> TakeOver:
    """A signed-in user's "Übernehmen" (web page or API)."""
    run = Run.objects.filter(incident=incident).first()
    person = None
    if user is not None:
        person = Person.objects.filter(user=user).first() or (
            Person.objects.filter(slack_user_id=user.slack_user_id).first() if user.slack_user_id else None
        )
    label = user.display_name() if user else ""
    return TakeOver(user, label, _may_take_over(run, person, user))


def ack_reaction(name: str) -> bool:
    """Is this Slack reaction one of the configured "I'm on it" reactions (skin tones ignored)?"""
    base = (name or "").split("::", 1)[0].strip(":")
    return base in {r.strip().strip(":") for r in settings.ACK_REACTIONS}


def record_no_takeover(run: Run, label: str, how: str, *, reaction: str = "", text: str = "", user: User | None = None) -> None:
    """A reaction, reply or click that does not stop the escalation: on the timeline, as data."""
    reason = "reaction" if how == "reaction" and not ack_reaction(reaction) else "not_responder"
    incident_events.record(
        run.incident,
        "no_takeover",
        actor=user,
        actor_label=label,
        who=label,
        how=how,
        reaction=reaction[:50],
        text=validation.clean_text(text)[:200],
        reason=reason,
    )


def slack_acknowledger(slack_user_id: str) -> Acknowledger:
    """The person behind a button, reaction or thread reply on the siren message (the Slack hook then
    calls `flows.incidents.acknowledge`)."""
    person = (
        Person.objects.filter(slack_user_id=slack_user_id).select_related("user").first()
        if slack_user_id
        else None
    )
    user = (person.user if person else None) or (
        User.objects.filter(slack_user_id=slack_user_id).first() if slack_user_id else None
    )
    label = person.name if person else (user.display_name() if user else slack_user_id or "Slack")
    return Acknowledger(user=user, label=label)


# --- people -----------------------------------------------------------------------------------


def save_person(person: Person | None = None, **fields: Any) -> Person:
    person = person or Person()
    for key, value in fields.items():
        setattr(person, key, validation.clean_text(value) if isinstance(value, str) else value)
    if "work_days" in fields and not all(d in "0123456" for d in person.work_days):
        raise EscalationError("work_days", "weekdays as digits 0 (Monday) to 6 (Sunday), e.g. 01234")
    if "time_zone" in fields:
        try:
            validation.check_time_zone(person.time_zone)
        except ValueError as exc:
            raise EscalationError("time_zone", str(exc)) from None
    from django.core.exceptions import ValidationError

    try:
        person.full_clean()
    except ValidationError as exc:
        field, errors = next(iter(exc.message_dict.items()))
        raise EscalationError(field, "; ".join(errors)) from exc
    person.save()
    return person


def demo_people() -> list[dict[str, Any]]:
    return [
        {
            "key": "lea",
            "name": "Lea",
            "slack_user_id": "U0000LEA01",
            "phone": "+4915550000001",
            "role": PersonRole.RESPONDER,
        },
        {
            "key": "tara",
            "name": "Tara",
            "slack_user_id": "U0000TARA1",
            "phone": "+4915550000002",
            "role": PersonRole.LEAD,
        },
        {
            "key": "luca",
            "name": "Luca",
            "slack_user_id": "U0000LUCA1",
            "phone": "+4915550000003",
            "role": PersonRole.RESPONDER,
        },
        {
            "key": "piwi",
            "name": "Piwi",
            "slack_user_id": "U0000PIWI1",
            "phone": "+4915550000004",
            "role": PersonRole.DEPUTY,
        },
    ]


def integration_problems(limit: int = 20) -> list[Attempt]:
    """Permanent failures (bad token, unknown channel, invalid number): shown to admins."""
    return list(
        Attempt.objects.filter(status=AttemptStatus.FAILED, permanent_error=True)
        .select_related("run__incident")
        .order_by("-finished_at")[:limit]
    )


def now_plus(minutes: float) -> dt.datetime:
    return clock.now() + dt.timedelta(minutes=minutes)


def format_preview(lines: list[engine.PreviewLine]) -> list[str]:
    return engine.format_lines(lines)


def create_policy(name: str) -> Policy:
    name = (name or "").strip()
    if not name:
        raise EscalationError("name", "must not be empty")
    if Policy.objects.filter(name=name).exists():
        raise EscalationError("name", f"a policy named {name!r} exists already")
    return Policy.objects.create(name=name[:100], is_default=not Policy.objects.exists())


def add_absence(
    person: Person,
    *,
    starts_at: dt.datetime | None,
    ends_at: dt.datetime | None,
    kind: str = "vacation",
    note: str = "",
) -> Absence:
    from sirene.escalation.models import AbsenceKind

    if starts_at is None:
        raise EscalationError("starts_at", "missing or not a date and time")
    if ends_at is None:
        raise EscalationError("ends_at", "missing or not a date and time")
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        try:
            validation.check_planned_at(value)
        except ValueError as exc:
            raise EscalationError(name, str(exc)) from None
    if ends_at <= starts_at:
        raise EscalationError("ends_at", "must be after the start")
    if kind not in AbsenceKind.values:
        raise EscalationError("kind", f"{kind!r} is not one of: {', '.join(AbsenceKind.values)}")
    return Absence.objects.create(
        person=person, starts_at=starts_at, ends_at=ends_at, kind=kind, note=validation.clean_text(note)[:200]
    )


def delete_absence(absence: Absence) -> None:
    absence.delete()


def restart_run(incident: Incident, *, policy: Policy | None = None) -> None:
    """★ A reopened incident escalates again from the first step: of the lead's chosen policy, else
    the start policy (the run's frozen snapshot is replaced; its Slack post stays the same)."""
    run = Run.objects.filter(incident=incident).first()
    if run is None:
        start_run(incident)
        return
    policy = policy or default_policy()
    snapshot = snapshot_of(policy) if policy is not None else fallback_snapshot()
    PolicySnapshot.parse(snapshot)
    now = clock.now()
    Run.objects.filter(pk=run.pk).update(
        policy=policy,
        snapshot=snapshot,
        status=RunStatus.ACTIVE,
        step_index=0,
        cycle=0,
        step_started_at=now,
        started_at=now,
        next_action_at=now,
        finished_at=None,
        lease_owner="",
        lease_until=None,
    )
    incident_events.record(incident, "escalation", step="started", policy=snapshot["name"], restarted=True)


def rewrite_siren(incident: Incident) -> None:
    """The siren post says something new that is not a count (e.g. the near miss of issue 18 was
    noted or answered): rewrite it in place, no new ping. Nothing when it was not posted yet."""
    run = Run.objects.filter(incident=incident).first()
    if run is not None:
        _update_siren(run, incident)


def add_on_call_shift(
    person: Person,
    *,
    weekday: int | None = None,
    start: dt.time | None = None,
    end: dt.time | None = None,
    starts_at: dt.datetime | None = None,
    ends_at: dt.datetime | None = None,
    note: str = "",
) -> Any:
    """A rota entry: a weekly slot (weekday 0 = Monday, from–until local time; an end at or before the
    start runs into the next morning) or an override (from–until date and time)."""
    from sirene.escalation.models import OnCallShift

    if starts_at is not None or ends_at is not None:
        if starts_at is None:
            raise EscalationError("starts_at", "missing or not a date and time")
        if ends_at is None or ends_at <= starts_at:
            raise EscalationError("ends_at", "missing, or not after the start")
        return OnCallShift.objects.create(
            person=person, starts_at=starts_at, ends_at=ends_at, note=validation.clean_text(note)[:200]
        )
    if weekday is None or not 0 <= weekday <= 6:
        raise EscalationError("weekday", "must be 0 (Monday) to 6 (Sunday)")
    if start is None:
        raise EscalationError("start", "missing or not a time like 18:00")
    if end is None:
        raise EscalationError("end", "missing or not a time like 08:00")
    return OnCallShift.objects.create(
        person=person, weekday=weekday, start=start, end=end, note=validation.clean_text(note)[:200]
    )
