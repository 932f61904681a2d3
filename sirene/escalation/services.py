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
        people[str(person.pk)] = {
            "name": person.name,
            "slack_user_id": person.slack_user_id,
            "phone": person.phone,
        }
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
    return {"name": policy.name, "policy_id": policy.pk, "people": people, "steps": steps}


def fallback_snapshot() -> dict[str, Any]:
    """No policy configured: still post the siren to the channel, mentioning everyone we know."""
    people = {
        str(p.pk): {"name": p.name, "slack_user_id": p.slack_user_id, "phone": p.phone}
        for p in Person.objects.all()
    }
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
    run.attempts.filter(status=AttemptStatus.PENDING, kind__in=[AttemptKind.CALL, AttemptKind.TASK]).update(
        status=AttemptStatus.CANCELED, finished_at=now
    )
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
def post_status_update(incident: Incident, text: str, *, user: User | None) -> Attempt:
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


# --- acknowledgements from Slack --------------------------------------------------------------


def run_for_message(channel: str, ts: str) -> Run | None:
    runs = Run.objects.filter(slack_ts=ts).select_related("incident")
    return runs.filter(slack_channel=channel).first() or runs.first()


@dataclass(frozen=True)
class Acknowledger:
    """Who acknowledged, as the incident flow records it."""

    user: User | None
    label: str


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
