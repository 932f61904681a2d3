"""Every write to cases and customers goes through here (views, API, import and webhooks stay thin).

This module only stores, validates and audits: analysis after intake (`sirene.flows.intake`) and the
holding reply after a status change (`sirene.flows.cases`) are the flows' business.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from sirene.accounts.models import User
from sirene.cases.categorize import guess_category
from sirene.cases.models import (
    OPEN_STATUSES,
    Case,
    CaseEvent,
    Category,
    Customer,
    Reproduced,
    Status,
    UntrackedReport,
)
from sirene.core import clock, validation
from sirene.core.errors import FieldError

log = logging.getLogger(__name__)

MAX_SUBJECT = 500
MAX_BODY = 200_000
MAX_TAGS = 50


class IntakeError(FieldError):
    """Bad input for intake; `field` names the offending field (dotted path)."""


@dataclass
class CustomerData:
    email: str | None = None
    external_id: str | None = None
    name: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class IntakeData:
    source: str
    external_id: str
    subject: str
    body: str
    customer: CustomerData
    tags: list[str] = field(default_factory=list)
    category: str | None = None
    channel: str = "email"
    received_at: datetime | None = None
    raw_payload: dict[str, Any] = field(default_factory=dict)
    # Only reports tagged with settings.TECH_TAG (or not tagged at all: the caller reports a tech case)
    # are tracked. The spreadsheet import turns this off: its rows are tracking-list rows already.
    require_tech_tag: bool = True


@dataclass
class IntakeResult:
    case: Case | None
    created: bool
    tracked: bool
    reason: str = ""


def normalise_tag(tag: str) -> str:
    return tag.strip().lstrip("#").strip().lower()


def normalise_tags(tags: list[str]) -> list[str]:
    seen: list[str] = []
    for tag in tags:
        value = normalise_tag(tag)
        if value and value not in seen:
            seen.append(value)
    return seen


def excluded_tag(tags: list[str]) -> str | None:
    excluded = {normalise_tag(t) for t in settings.EXCLUDE_TAGS}
    for tag in normalise_tags(tags):
        if tag in excluded:
            return tag
    return None


def untracked_reason(tags: list[str], *, require_tech_tag: bool = True) -> str | None:
    """Why a report with these (normalised) tags is not a tech case, or None when it is one."""
    hit = excluded_tag(tags)
    if hit is not None:
        return f"tagged #{hit}: an application/user error, not a tech case"
    tech = normalise_tag(settings.TECH_TAG)
    if require_tech_tag and tags and tech not in tags:
        shown = ", ".join(f"#{t}" for t in tags[:5])
        return f"tagged {shown} but not #{tech}: only #{tech} reports are tech cases (kept for the audit only)"
    return None


def _remember_untracked(data: IntakeData, tags: list[str], reason: str) -> None:
    """The audit row of a report that is not a tech case (idempotent on source + external id)."""
    UntrackedReport.objects.get_or_create(
        source=data.source.strip()[:200],
        external_id=data.external_id.strip()[:200],
        defaults={"tags": tags, "reason": reason[:300], "received_at": data.received_at or clock.now()},
    )


def normalise_email(email: str | None) -> str | None:
    if email is None:
        return None
    if not email.strip():
        return None
    try:
        # Internationalised addresses (jürgen@bücher.de) are fine: see core.validation.
        return validation.normalise_email_address(email)
    except ValueError:
        raise IntakeError("customer.email", f"{email!r} is not a valid e-mail address") from None


def _clean(value: Any, name: str) -> Any:
    """core.validation.clean_deep: NFC, no NUL, no lone surrogate — PostgreSQL refuses the last two in text
    and JSON, so both stores get the same cleaned text from every entry point (API, form, CSV, webhook)."""
    try:
        return validation.clean_deep(value)
    except (ValueError, RecursionError) as exc:
        raise IntakeError(name, str(exc) if isinstance(exc, ValueError) else "is nested too deeply") from None


def sanitise(data: IntakeData) -> None:
    data.source = _clean(data.source, "source")
    data.external_id = _clean(data.external_id, "external_id")
    data.subject = _clean(data.subject, "subject")
    data.body = _clean(data.body, "body")
    data.channel = _clean(data.channel, "channel")
    data.tags = _clean(data.tags, "tags")
    data.category = _clean(data.category, "category")
    data.raw_payload = _clean(data.raw_payload, "raw_payload")
    data.customer.email = _clean(data.customer.email, "customer.email")
    data.customer.external_id = _clean(data.customer.external_id, "customer.external_id")
    data.customer.name = _clean(data.customer.name, "customer.name")
    data.customer.attributes = _clean(data.customer.attributes, "customer.attributes")


def _validate(data: IntakeData) -> tuple[str | None, str | None, list[str], Category | None]:
    for name in ("source", "external_id"):
        value = getattr(data, name)
        if not isinstance(value, str) or not value.strip():
            raise IntakeError(name, "must be a non-empty string")
        if len(value) > 200:
            raise IntakeError(name, "is longer than 200 characters")
    if len(data.subject) > MAX_SUBJECT:
        raise IntakeError("subject", f"is longer than {MAX_SUBJECT} characters")
    if len(data.body) > MAX_BODY:
        raise IntakeError("body", f"is longer than {MAX_BODY} characters")
    if not data.subject.strip() and not data.body.strip():
        raise IntakeError("subject", "a report needs a subject or a body")
    if data.received_at is not None:
        try:
            data.received_at = validation.check_received_at(data.received_at)
        except ValueError as exc:
            raise IntakeError("received_at", str(exc)) from None
    email = normalise_email(data.customer.email)
    external = (data.customer.external_id or "").strip() or None
    if email is None and external is None:
        raise IntakeError("customer.email", "is required unless customer.external_id identifies the customer")
    if not isinstance(data.customer.attributes, dict):
        raise IntakeError("customer.attributes", "must be an object")
    try:
        validation.check_attributes(data.customer.attributes)
    except ValueError as exc:
        raise IntakeError("customer.attributes", str(exc)) from None
    if len(data.tags) > MAX_TAGS:
        raise IntakeError("tags", f"has more than {MAX_TAGS} entries")
    for i, tag in enumerate(data.tags):
        if not isinstance(tag, str):
            raise IntakeError(f"tags.{i}", "must be text")
        try:
            validation.check_tag(tag)
        except ValueError as exc:
            raise IntakeError(f"tags.{i}", str(exc)) from None
    tags = normalise_tags(data.tags)
    category: Category | None = None
    if data.category:
        try:
            category = Category(data.category)
        except ValueError:
            allowed = ", ".join(Category.values)
            raise IntakeError("category", f"{data.category!r} is not one of: {allowed}") from None
    return email, external, tags, category


def upsert_customer(data: CustomerData, email: str | None, external: str | None) -> Customer:
    customer = None
    if email:
        customer = Customer.objects.filter(email=email).first()
    if customer is None and external:
        customer = Customer.objects.filter(external_id=external).first()
    now = clock.now()
    if customer is None:
        return Customer.objects.create(
            email=email,
            external_id=external,
            name=data.name.strip()[:200],
            attributes=dict(data.attributes),
            created_at=now,
            updated_at=now,
        )
    changed = False
    if email and not customer.email:
        customer.email, changed = email, True
    if external and not customer.external_id and not Customer.objects.filter(external_id=external).exists():
        customer.external_id, changed = external, True
    if data.name and not customer.name:
        customer.name, changed = data.name.strip()[:200], True
    if data.attributes:
        merged = {**customer.attributes, **data.attributes}
        if merged != customer.attributes:
            customer.attributes, changed = merged, True
    if changed:
        customer.updated_at = now
        customer.save()
    return customer


def record(
    case: Case,
    kind: str,
    *,
    actor: User | None = None,
    actor_label: str = "",
    field: str = "",
    old: Any = "",
    new: Any = "",
    message: str = "",
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case,
        at=clock.now(),
        actor=actor,
        actor_label=actor_label,
        kind=kind,
        field=field,
        old_value="" if old is None else str(old),
        new_value="" if new is None else str(new),
        message=message,
        data=data or {},
    )


def intake(data: IntakeData, *, actor: User | None = None, actor_label: str = "api") -> IntakeResult:
    """Turn one report into a tracked case (stored only: `flows.intake.report_case` also analyses it).

    Idempotent on (source, external_id): a second delivery returns the existing case unchanged.
    Reports tagged as application/user errors (#helga), and reports tagged but not with the tech tag, are
    no tech case: only an audit row (no customer data, no text) is kept, and `tracked` is False.
    """
    sanitise(data)
    email, external, tags, category = _validate(data)
    existing = Case.objects.filter(source=data.source.strip(), external_id=data.external_id.strip()).first()
    if existing is not None:
        return IntakeResult(case=existing, created=False, tracked=True)
    reason = untracked_reason(tags, require_tech_tag=data.require_tech_tag)
    if reason is not None:
        try:
            with transaction.atomic():
                _remember_untracked(data, tags, reason)
        except IntegrityError:
            pass  # the same delivery raced itself: one audit row is enough
        return IntakeResult(case=None, created=False, tracked=False, reason=reason)
    try:
        with transaction.atomic():
            case = _create_case(data, email, external, tags, category, actor, actor_label)
    except IntegrityError:
        # Two deliveries of the same report raced; the other one won.
        case = Case.objects.get(source=data.source.strip(), external_id=data.external_id.strip())
        return IntakeResult(case=case, created=False, tracked=True)
    return IntakeResult(case=case, created=True, tracked=True)


def _create_case(
    data: IntakeData,
    email: str | None,
    external: str | None,
    tags: list[str],
    category: Category | None,
    actor: User | None,
    actor_label: str,
) -> Case:
    customer = upsert_customer(data.customer, email, external)
    now = clock.now()
    text = f"{data.subject}\n{data.body}"
    case = Case.objects.create(
        source=data.source.strip(),
        external_id=data.external_id.strip(),
        subject=data.subject.strip(),
        body=data.body,
        raw_payload=data.raw_payload,
        customer=customer,
        category=category or guess_category(text),
        tags=tags,
        tag_index="," + ",".join(tags) + "," if tags else "",
        channel=(data.channel or "email")[:50],
        received_at=data.received_at or now,
        created_at=now,
        updated_at=now,
    )
    record(
        case,
        CaseEvent.Kind.CREATED,
        actor=actor,
        actor_label=actor_label,
        message=f"{case.source}:{case.external_id}",
        data={"category_guessed": category is None},
    )
    return case


def _change(case: Case, field_name: str, value: Any, actor: User | None, actor_label: str = "") -> bool:
    old = getattr(case, field_name)
    if old == value:
        return False
    setattr(case, field_name, value)
    old_label = old.display_name() if isinstance(old, User) else old
    new_label = value.display_name() if isinstance(value, User) else value
    record(
        case,
        CaseEvent.Kind.CHANGED,
        actor=actor,
        actor_label=actor_label,
        field=field_name,
        old=old_label,
        new=new_label,
    )
    return True


def _save(case: Case, fields: list[str]) -> None:
    case.updated_at = clock.now()
    case.save(update_fields=[*fields, "updated_at"])


@transaction.atomic
def take_ownership(case: Case, user: User) -> Case:
    return assign(case, user, actor=user)


@transaction.atomic
def assign(case: Case, owner: User | None, *, actor: User | None, actor_label: str = "") -> Case:
    case = Case.objects.select_for_update().get(pk=case.pk)
    fields = []
    if _change(case, "owner", owner, actor, actor_label):
        fields.append("owner")
    if owner is not None and case.status == Status.NEW:
        _change(case, "status", Status.IN_PROGRESS, actor, actor_label)
        fields.append("status")
    if fields:
        _save(case, fields)
    return case


def change_status(
    case: Case, status: str, *, actor: User | None, actor_label: str = "", note: str = ""
) -> Case:
    try:
        new_status = Status(status)
    except ValueError:
        raise IntakeError("status", f"{status!r} is not one of: {', '.join(Status.values)}") from None
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if not _change(case, "status", new_status, actor, actor_label):
            return case
        fields = ["status"]
        if new_status == Status.SOLVED:
            case.solved_at = clock.now()
            fields.append("solved_at")
            if note:
                _change(case, "solution", note, actor, actor_label)
                fields.append("solution")
        elif note:
            record(case, CaseEvent.Kind.NOTE, actor=actor, actor_label=actor_label, message=note)
        if new_status != Status.NEW and case.owner is None and actor is not None:
            # Whoever moves an unowned case forward owns it (the process: the taker keeps it).
            _change(case, "owner", actor, actor, actor_label)
            fields.append("owner")
        _save(case, fields)
    return case


@transaction.atomic
def set_category(case: Case, category: str, *, actor: User | None, actor_label: str = "") -> Case:
    try:
        value = Category(category)
    except ValueError:
        raise IntakeError("category", f"{category!r} is not one of: {', '.join(Category.values)}") from None
    case = Case.objects.select_for_update().get(pk=case.pk)
    if _change(case, "category", value, actor, actor_label):
        _save(case, ["category"])
    return case


@transaction.atomic
def set_reproduced(case: Case, value: str, note: str, *, actor: User | None) -> Case:
    try:
        reproduced = Reproduced(value)
    except ValueError:
        raise IntakeError("reproduced", f"{value!r} is not one of: {', '.join(Reproduced.values)}") from None
    case = Case.objects.select_for_update().get(pk=case.pk)
    fields = []
    if _change(case, "reproduced", reproduced, actor):
        fields.append("reproduced")
    if _change(case, "reproduced_note", note, actor):
        fields.append("reproduced_note")
    if fields:
        _save(case, fields)
    return case


def add_note(case: Case, text: str, *, actor: User | None, actor_label: str = "") -> CaseEvent:
    if not text.strip():
        raise IntakeError("note", "must not be empty")
    return record(case, CaseEvent.Kind.NOTE, actor=actor, actor_label=actor_label, message=text.strip())


def mark_customer_contacted(case: Case, *, at: datetime | None = None, how: str = "") -> None:
    """The customer heard from us (reply, holding reply, update): restart the overdue clock."""
    when = at or clock.now()
    Case.objects.filter(pk=case.pk).update(last_customer_contact_at=when)
    case.last_customer_contact_at = when
    record(case, CaseEvent.Kind.MESSAGE, actor_label="sirene", message=how or "customer contacted")


@transaction.atomic
def solve_many(
    case_ids: list[int], *, solution: str, actor: User | None, message: str, data: dict[str, Any]
) -> int:
    """Solve many open cases at once (an incident's resolution): status, solution, owner (who solves
    an unowned case owns it) and the same audit trail `change_status` writes, in a fixed number of
    queries however many cases there are. Returns how many were solved."""
    now = clock.now()
    label = "" if actor else "sirene"
    rows = list(
        Case.objects.select_for_update()
        .filter(pk__in=case_ids, status__in=list(OPEN_STATUSES))
        .values_list("pk", "status", "solution", "owner_id")
    )
    if not rows:
        return 0
    ids = [r[0] for r in rows]
    Case.objects.filter(pk__in=ids).update(status=Status.SOLVED, solved_at=now, solution=solution, updated_at=now)
    if actor is not None:
        Case.objects.filter(pk__in=ids, owner__isnull=True).update(owner=actor)
    events = []
    for pk, old_status, old_solution, owner_id in rows:
        common = {"case_id": pk, "at": now, "actor": actor, "actor_label": label}
        events.append(CaseEvent(kind=CaseEvent.Kind.CHANGED, field="status", old_value=old_status,
                                new_value=Status.SOLVED, **common))
        if old_solution != solution:
            events.append(CaseEvent(kind=CaseEvent.Kind.CHANGED, field="solution", old_value=old_solution,
                                    new_value=solution, **common))
        if owner_id is None and actor is not None:
            events.append(CaseEvent(kind=CaseEvent.Kind.CHANGED, field="owner", old_value="",
                                    new_value=actor.display_name(), **common))
        events.append(CaseEvent(kind=CaseEvent.Kind.SYSTEM, message=message, data=data, **common))
    CaseEvent.objects.bulk_create(events)
    return len(ids)
