"""Critical incidents: the lifecycle (open → acknowledged → resolved) with its timeline, the
brief, and what agents do with problem groups (move, merge, split).

Detection itself is the `sirene.detection` app: for every new report (`flows.detection.assign_and_evaluate`,
inside the intake flow's transaction) it decides the report's problem among the reports of the window and either
links the report to the problem's live incident or, at the rule's (threshold + 1)-th distinct
customer, opens one (`open_detected`). Long-lived problem groups (`grouping.assign`) are kept for
history, the knowledge base and "similar past cases"; they no longer decide the count.

`open_incident` is the ONE place an incident starts. This module never calls escalation or the
helpdesk: detection and `evaluate` return an `Evaluation` saying whether they opened one, and
`sirene.flows` starts the escalation run in the same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max, QuerySet

from sirene.accounts.models import User
from sirene.cases.models import Case, Category, Reproduced
from sirene.cases.services import record
from sirene.core import clock
from sirene.core.errors import FieldError
from sirene.incidents import (
    brief,  # (loads scipy with this module, see brief.py)
    events,
    grouping,
)
from sirene.incidents.brief_shape import Brief
from sirene.incidents.models import GroupMembership, Incident, IncidentEvent, IncidentStatus, ProblemGroup
from sirene.incidents.rules import Rule, decide, rule_for

log = logging.getLogger(__name__)

# Rebuilding the brief reads every linked case and the baseline: when cases join a live incident
# it is rebuilt by the worker tick and inline only on every BRIEF_EVERY-th report (see _link).
BRIEF_EVERY = 10


@dataclass(frozen=True)
class Evaluation:
    """What `evaluate` did: the group's live incident (if any) and whether this call opened it."""

    incident: Incident | None
    opened: bool = False


class IncidentError(FieldError):
    """Bad input for this domain; `field` names the offending field."""


def add_event(
    incident: Incident,
    kind: str,
    message: str = "",
    *,
    actor: User | None = None,
    actor_label: str = "",
    data: dict[str, Any] | None = None,
) -> IncidentEvent:
    return IncidentEvent.objects.create(
        incident=incident,
        at=clock.now(),
        kind=kind,
        message=message,
        actor=actor,
        actor_label=actor_label,
        data=data or {},
    )


@transaction.atomic
def open_incident(
    *,
    title: str,
    description: str = "",
    category: str = Category.OTHER,
    opened_by: User | None = None,
    origin: str = "manual",
    cases: list[Case] | None = None,
    group: ProblemGroup | None = None,
) -> Incident:
    title = title.strip()
    if not title:
        raise IncidentError("title", "must not be empty")
    if category not in Category.values:
        raise IncidentError("category", f"{category!r} is not one of: {', '.join(Category.values)}")
    incident = Incident.objects.create(
        title=title[:300],
        description=description,
        category=category,
        opened_by=opened_by,
        origin=origin,
        opened_at=clock.now(),
        group=group,
    )
    if cases:
        incident.cases.add(*cases)
    events.record(incident, "opened", actor=opened_by, origin=origin, title=title)
    refresh_brief(incident)
    return incident


def acknowledge(incident: Incident, *, user: User | None = None, label: str = "", via: str = "web") -> bool:
    """First acknowledgement wins; returns False when it was already acknowledged (or resolved)."""
    with transaction.atomic():
        updated = Incident.objects.filter(pk=incident.pk, status=IncidentStatus.OPEN).update(
            status=IncidentStatus.ACKNOWLEDGED,
            acknowledged_at=clock.now(),
            acknowledged_by=user,
            acknowledged_label=label or (user.display_name() if user else ""),
            acknowledged_via=via,
        )
        incident.refresh_from_db()
        if not updated:
            return False
        events.record(
            incident, "acknowledged", actor=user, actor_label=label, who=incident.acknowledged_label, via=via
        )
    return True


def resolve(
    incident: Incident, *, resolution: str, user: User | None = None, customer_text: str = ""
) -> bool:
    """Resolve once; returns False when it was already resolved (a second click changes nothing).

    `resolution` is internal (what was wrong, what fixed it); `customer_text` is what customers read
    (empty: the prefilled default). Every linked open case becomes solved with the resolution, with
    an audit entry naming who, when and through which incident."""
    if not resolution.strip():
        raise IncidentError("resolution", "must not be empty")
    if len(customer_text) > 20_000:
        raise IncidentError("customer_text", "is longer than 20000 characters")
    with transaction.atomic():
        updated = (
            Incident.objects.filter(pk=incident.pk)
            .exclude(status=IncidentStatus.RESOLVED)
            .update(
                status=IncidentStatus.RESOLVED,
                resolved_at=clock.now(),
                resolved_by=user,
                resolution=resolution.strip(),
                customer_text=customer_text.strip(),
            )
        )
        incident.refresh_from_db()
        if not updated:
            return False
        if incident.acknowledged_at is None:
            Incident.objects.filter(pk=incident.pk).update(
                acknowledged_at=incident.resolved_at, acknowledged_by=user, acknowledged_via="resolve"
            )
        events.record(incident, "resolved", actor=user, resolution=incident.resolution)
        solved = solve_linked_cases(incident, user=user)
        if solved:
            events.record(incident, "cases_solved", actor=user, cases=solved)
    return True


def solve_linked_cases(incident: Incident, *, user: User | None = None) -> int:
    """Every open linked case becomes solved with the incident's resolution (audit: who, when, which incident)."""
    from sirene.cases import services as cases

    return cases.solve_many(
        list(incident.cases.values_list("pk", flat=True)),
        solution=incident.resolution,
        actor=user,
        message=f"Gelöst über Störung INC-{incident.pk} „{incident.title}“",
        data={"incident": incident.pk},
    )


def linked_cases(incident: Incident) -> QuerySet[Case]:
    return incident.cases.select_related("customer").order_by("received_at", "id")


def incident_summary_for(case: Case) -> dict[str, Any] | None:
    """The newest incident this case belongs to, if any."""
    incident = case.incidents.order_by("-opened_at").first()
    if incident is None:
        return None
    return {
        "id": incident.pk,
        "title": incident.title,
        "status": incident.status,
        "url": incident.get_absolute_url(),
    }


def live_incident(group: ProblemGroup) -> Incident | None:
    return group.incidents.exclude(status=IncidentStatus.RESOLVED).order_by("-opened_at").first()


def _window_start(group: ProblemGroup, window_hours: float) -> Any:
    """Start of the counting window; never before the group's last resolved incident ended, so a
    resolved incident does not reopen at once from the very reports it already answered."""
    start = clock.now() - timedelta(hours=window_hours)
    last_resolved = group.incidents.filter(status=IncidentStatus.RESOLVED).aggregate(m=Max("resolved_at"))[
        "m"
    ]
    return max(start, last_resolved) if last_resolved else start


def rate_facts(group: ProblemGroup) -> dict[str, Any]:
    """Counts and the rule for a group right now (the group page and the brief show them)."""
    rule = rule_for(group.category, group.known_problem_key)
    start = _window_start(group, rule.window_hours)
    in_window = group.memberships.filter(received_at__gt=start, received_at__lte=clock.now())
    customers = in_window.values("identity").distinct().count()
    decision = decide(customers, rule)
    return {
        "customers_in_window": customers,
        "reports_in_window": in_window.count(),
        "window_hours": rule.window_hours,
        "threshold": rule.threshold,
        "required": rule.required,
        "rule_source": rule.source,
        "rule": rule.describe(),
        "pages": rule.pages,
        "fire": decision.fire,
        "reason": decision.reason,
        "window_start": start.isoformat(),
    }


def refresh_brief(incident: Incident) -> Incident:
    cases = list(linked_cases(incident))
    rate = rate_facts(incident.group) if incident.group_id else None  # type: ignore[arg-type]
    data = brief.build(cases, rate=rate)
    old = incident.brief or {}
    if old.get("possible_split"):  # the detector's near miss (note_possible_split) stays with the brief
        data["possible_split"] = old["possible_split"]
    Brief.read(data)  # the shape every reader expects, checked before it is stored
    if old:
        before = {(f["attribute"], f["value"]) for f in old.get("common_thread", [])}
        after = {(f["attribute"], f["value"]) for f in data["common_thread"]}
        codes_before = set(old.get("what", {}).get("error_codes", []))
        if before != after or codes_before != set(data["what"]["error_codes"]):
            events.record(
                incident,
                "brief_changed",
                thread=[f"{a}={v}" for a, v in sorted(after)],
                codes=list(data["what"]["error_codes"]),
            )
    incident.brief = data
    incident.brief_updated_at = clock.now()
    incident.customers_affected = data["customers_affected"]
    incident.reports = data["reports"]
    incident.first_seen = min((c.received_at for c in cases), default=None)
    incident.last_seen = max((c.received_at for c in cases), default=None)
    incident.save(
        update_fields=[
            "brief",
            "brief_updated_at",
            "customers_affected",
            "reports",
            "first_seen",
            "last_seen",
        ]
    )
    retitle(incident)
    return incident


def retitle(incident: Incident, known_problem_title: str | None = None) -> None:
    """Rebuild the titles from the reports (incidents/title.py) until the lead edits them. A manual
    incident keeps the title its opener typed and only gets a customer title. `known_problem_title`:
    the title of the group's confirmed known problem (the flows ask the knowledge base); when the
    caller cannot know it, an incident of a known problem keeps the title it has."""
    from sirene.incidents import title

    if incident.title_edited:
        return
    known_group = bool(incident.group_id and incident.group and incident.group.known_problem_key)
    built = title.for_incident(incident, known_problem_title or "")
    fields = []
    keep = known_problem_title is None and known_group
    if incident.origin == "auto" and not keep and built.title and built.title != incident.title:
        incident.title = built.title[:300]
        fields.append("title")
    if built.customer_title and built.customer_title != incident.customer_title:
        incident.customer_title = built.customer_title[:300]
        fields.append("customer_title")
    if fields:
        Incident.objects.filter(pk=incident.pk).update(**{f: getattr(incident, f) for f in fields})


@transaction.atomic
def rename(incident: Incident, *, title: str, customer_title: str, user: User | None = None) -> Incident:
    """The lead's titles: internal and for customers. From now on sirene leaves them alone."""
    title, customer_title = " ".join(title.split()), " ".join(customer_title.split())
    if not title:
        raise IncidentError("title", "must not be empty")
    if not customer_title:
        raise IncidentError("customer_title", "must not be empty")
    if len(title) > 300:
        raise IncidentError("title", "is longer than 300 characters")
    if len(customer_title) > 300:
        raise IncidentError("customer_title", "is longer than 300 characters")
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if (incident.title, incident.customer_title) == (title, customer_title) and incident.title_edited:
        return incident
    old = incident.title
    incident.title, incident.customer_title, incident.title_edited = title, customer_title, True
    incident.save(update_fields=["title", "customer_title", "title_edited"])
    events.record(incident, "renamed", actor=user, old=old, title=title, customer_title=customer_title)
    return incident


@transaction.atomic
def publish(incident: Incident, *, published: bool, text: str = "", user: User | None = None) -> Incident:
    """Show (or hide) the incident on the public status page with a customer-facing status text."""
    text = (text or "").strip()
    if published and not text:
        raise IncidentError("public_text", "must not be empty when the incident is published")
    if len(text) > 1000:
        raise IncidentError("public_text", "is longer than 1000 characters")
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if incident.published == published and (not published or incident.public_text == text):
        return incident
    incident.published = published
    if published:
        incident.public_text = text
    incident.public_updated_at = clock.now()
    incident.save(update_fields=["published", "public_text", "public_updated_at"])
    if published:
        events.record(incident, "published", actor=user, text=text)
    else:
        events.record(incident, "unpublished", actor=user)
    return incident


def _link(incident: Incident, case: Case, how: str = "") -> None:
    if incident.cases.filter(pk=case.pk).exists():
        return
    incident.cases.add(case)
    events.record(
        incident,
        "case_joined",
        case_id=case.pk,
        customer=str(case.customer),
        subject=case.subject[:120],
        how=how,
    )
    # The counts, and when it was last seen, are cheap and always current; the full brief (common
    # thread, key terms: it reads every linked case and the recent-reporter baseline) is rebuilt by
    # the worker tick (it finds last_seen > brief_updated_at) and inline on every BRIEF_EVERY-th
    # report, so a case joining a live incident costs a few queries, not a brief.
    reports = incident.cases.count()
    customers = incident.cases.values("customer_id").distinct().count()
    last_seen = max(incident.last_seen or case.received_at, case.received_at)
    Incident.objects.filter(pk=incident.pk).update(
        reports=reports, customers_affected=customers, last_seen=last_seen
    )
    incident.reports, incident.customers_affected, incident.last_seen = reports, customers, last_seen
    if reports % BRIEF_EVERY == 0:
        refresh_brief(incident)


def _detected_group(cases: list[Case], category: str, known_problem: str) -> ProblemGroup:
    """A problem group of its own for a detected problem: its reports leave their history groups
    (which keep everything else), so the group page shows exactly the problem."""
    first = cases[0]
    group = ProblemGroup.objects.create(
        title=grouping.group_title(first),
        category=category,
        known_problem_key=known_problem,
        created_at=clock.now(),
        first_seen_at=first.received_at,
        last_seen_at=max(c.received_at for c in cases),
    )
    grouping.take_into(group, cases)
    return group


def open_detected(
    case_ids: list[int], *, category: str, known_problem: str, rule: Rule, reason: str
) -> Incident:
    """Open the incident of a detected problem with exactly these reports (caller's transaction)."""
    cases = list(
        Case.objects.filter(pk__in=case_ids).select_related("customer").order_by("received_at", "id")
    )
    group = _detected_group(cases, category, known_problem)
    incident = open_incident(
        title=group.title or f"G-{group.pk}",
        description=reason,
        category=category,
        origin="auto",
        cases=cases,
        group=group,
    )
    events.record(
        incident,
        "rule",
        rule=rule.describe(),
        threshold=rule.threshold,
        required=rule.threshold + 1,
        window_hours=rule.window_hours,
        source=rule.source,
        customers=incident.customers_affected,
    )
    log.info("incident %s opened for %s reports: %s", incident.pk, len(cases), reason)
    return incident


def join_detected(incident: Incident, case_ids: list[int]) -> None:
    """Reports of a problem join its live incident (and its group): counts and brief follow."""
    cases = list(
        Case.objects.filter(pk__in=case_ids).select_related("customer").order_by("received_at", "id")
    )
    if incident.group_id:
        grouping.take_into(incident.group, cases)  # type: ignore[arg-type]
    for case in cases:
        _link(incident, case, "window")


@transaction.atomic
def evaluate(group: ProblemGroup, trigger: Case | None = None) -> Evaluation:
    """After an agent moved, merged or split: the agent's group is the problem. Link the trigger
    to the group's live incident, or open one when the group reaches the rule."""
    group = ProblemGroup.objects.select_for_update().get(pk=group.pk)
    live = live_incident(group)
    if live is not None:
        if trigger is not None:
            _link(live, trigger, "group")
        return Evaluation(live)
    rule = rule_for(group.category, group.known_problem_key)
    start = _window_start(group, rule.window_hours)
    members = GroupMembership.objects.filter(group_id=group.pk, received_at__gt=start)
    # Reports a resolved incident already answered do not open a second one.
    members = members.exclude(case__incidents__status=IncidentStatus.RESOLVED)
    customers = members.values("identity").distinct().count()
    decision = decide(customers, rule)
    if not decision.fire:
        return Evaluation(None)
    cases = list(
        Case.objects.filter(pk__in=members.values("case_id"))
        .select_related("customer")
        .order_by("received_at", "id")
    )
    incident = open_incident(
        title=group.title or f"G-{group.pk}",
        description=decision.reason,
        category=group.category,
        origin="auto",
        cases=cases,
        group=group,
    )
    events.record(
        incident,
        "rule",
        rule=rule.describe(),
        threshold=rule.threshold,
        required=rule.threshold + 1,
        window_hours=rule.window_hours,
        source=rule.source,
        customers=incident.customers_affected,
    )
    return Evaluation(incident, opened=True)


@transaction.atomic
def set_test_check(incident: Incident, value: str, note: str = "", *, user: User | None = None) -> Incident:
    """The test-account check: reproduced yes / no / not tried, with a note."""

    if value not in Reproduced.values:
        raise IncidentError("reproduced", f"{value!r} is not one of: {', '.join(Reproduced.values)}")
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if incident.test_reproduced == value and incident.test_note == note.strip():
        return incident
    incident.test_reproduced = value
    incident.test_note = note.strip()
    incident.save(update_fields=["test_reproduced", "test_note"])
    events.record(incident, "test_check", actor=user, value=value, note=note.strip())
    return incident


# --- agents correcting the grouping -------------------------------------------------------------


@transaction.atomic
def attach_case(incident: Incident, case: Case, *, user: User | None = None) -> bool:
    """An agent puts a case into an incident (bulk action of the tracking list; `flows.tracking` first
    moves it into the incident's problem group). False: it was already linked."""
    if incident.cases.filter(pk=case.pk).exists():
        return False
    _link(incident, case, "agent")
    return True


def _after_membership_change(
    group: ProblemGroup, case: Case | None, removed_from: ProblemGroup | None
) -> Evaluation:
    if removed_from is not None and case is not None:
        old_live = live_incident(removed_from)
        if old_live is not None and old_live.cases.filter(pk=case.pk).exists():
            old_live.cases.remove(case)
            events.record(old_live, "case_removed", case_id=case.pk, group=group.pk)
            refresh_brief(old_live)
    return evaluate(group, trigger=case)


Regrouped = Callable[[list[int]], None]


def _unchanged(case_ids: list[int]) -> None:
    """Default for `regrouped`: nothing else keeps state about groups (the flows pass the detector's)."""


@transaction.atomic
def move_case(
    case: Case, target: ProblemGroup, *, user: User | None = None, regrouped: Regrouped = _unchanged
) -> tuple[GroupMembership, Evaluation]:
    """Move a case to another problem group (the agent knows better than the similarity score).

    Returns the membership and the target's evaluation (the flow starts a run when it opened one)."""

    target = ProblemGroup.objects.select_for_update().get(pk=target.pk)
    if target.merged_into_id is not None:
        raise IncidentError("group", f"G-{target.pk} was merged into G-{target.merged_into_id}")
    membership = GroupMembership.objects.select_for_update().filter(case=case).first()
    if membership is None:
        membership = grouping.assign(case)
    source = ProblemGroup.objects.select_for_update().get(pk=membership.group_id)
    if source.pk == target.pk:
        return membership, Evaluation(live_incident(target))
    membership.group = target
    membership.how = GroupMembership.How.MOVED
    membership.save(update_fields=["group", "how"])
    grouping.rebuild(source)
    grouping.rebuild(target)
    record(case, "system", actor=user, message=f"problem group G-{source.pk} → G-{target.pk}")
    regrouped([case.pk])
    return membership, _after_membership_change(target, case, source)


@transaction.atomic
def merge_groups(
    source: ProblemGroup, target: ProblemGroup, *, user: User | None = None, regrouped: Regrouped = _unchanged
) -> tuple[ProblemGroup, Evaluation]:
    """Everything of `source` goes to `target`; a live incident of either carries on for both."""

    if source.pk == target.pk:
        raise IncidentError("target", "cannot merge a group into itself")
    first, second = sorted([source.pk, target.pk])  # lock in id order: two merges never deadlock
    locked = {g.pk: g for g in ProblemGroup.objects.select_for_update().filter(pk__in=[first, second])}
    source, target = locked[source.pk], locked[target.pk]
    if source.merged_into_id or target.merged_into_id:
        raise IncidentError("group", "one of the groups was already merged")
    moved_cases = list(Case.objects.filter(problem_membership__group=source))
    source.memberships.update(group=target, how=GroupMembership.How.MERGED)
    source.merged_into = target
    source.save(update_fields=["merged_into"])
    grouping.rebuild(source)
    grouping.rebuild(target)
    regrouped([c.pk for c in moved_cases])
    src_live, dst_live = live_incident(source), live_incident(target)
    if src_live is not None and dst_live is None:
        # The target takes over the source's incident (one live incident per group still holds).
        Incident.objects.filter(pk=src_live.pk).update(group=target)
        events.record(src_live, "group_merged", actor=user, source=source.pk, target=target.pk)
        dst_live = src_live
        dst_live.group = target
    elif src_live is not None and dst_live is not None:
        events.record(
            src_live, "group_merged", actor=user, source=source.pk, target=target.pk, into_incident=dst_live.pk
        )
    if dst_live is not None:
        for case in moved_cases:
            _link(dst_live, case, "merged")
        refresh_brief(dst_live)
        return target, Evaluation(dst_live)
    return target, evaluate(target)


@transaction.atomic
def split_group(
    group: ProblemGroup, cases: list[Case], *, user: User | None = None, regrouped: Regrouped = _unchanged
) -> tuple[ProblemGroup, Evaluation]:
    """Take the given cases out of `group` into a new group (a different problem after all)."""

    group = ProblemGroup.objects.select_for_update().get(pk=group.pk)
    ids = {c.pk for c in cases}
    members = list(group.memberships.select_related("case", "case__customer").filter(case_id__in=ids))
    if not members:
        raise IncidentError("cases", f"none of the given cases is in G-{group.pk}")
    if len(members) == group.memberships.count():
        raise IncidentError("cases", "a split must leave at least one case in the group")
    first = min(members, key=lambda m: (m.received_at, m.pk)).case
    new = ProblemGroup.objects.create(
        title=grouping.group_title(first),
        category=first.category,
        created_at=clock.now(),
        first_seen_at=first.received_at,
        last_seen_at=first.received_at,
    )
    GroupMembership.objects.filter(pk__in=[m.pk for m in members]).update(
        group=new, how=GroupMembership.How.SPLIT
    )
    grouping.rebuild(group)
    grouping.rebuild(new)
    regrouped([m.case_id for m in group.memberships.all()] + [m.case_id for m in members])
    live = live_incident(group)
    if live is not None:
        for m in members:
            if live.cases.filter(pk=m.case_id).exists():
                live.cases.remove(m.case)
        events.record(live, "group_split", actor=user, cases=len(members), group=new.pk)
        refresh_brief(live)
    return new, evaluate(new)


def reopen(incident: Incident, *, user: User | None = None, reason: dict[str, Any] | None = None) -> bool:
    """★ "Störung wieder öffnen" after the fix did not hold: the same incident, its cases, open again
    (the escalation restarts in `flows.incidents.reopen`). False when it is not resolved."""
    from django.db import IntegrityError

    try:
        with transaction.atomic():
            updated = Incident.objects.filter(pk=incident.pk, status=IncidentStatus.RESOLVED).update(
                status=IncidentStatus.OPEN,
                resolved_at=None,
                resolved_by=None,
                acknowledged_at=None,
                acknowledged_by=None,
                acknowledged_label="",
                acknowledged_via="",
            )
    except IntegrityError:
        live = live_incident(incident.group) if incident.group else None
        raise IncidentError("incident", f"another live incident holds this problem: INC-{live.pk if live else '?'}")
    incident.refresh_from_db()
    if not updated:
        return False
    events.record(incident, "reopened", actor=user, **(reason or {}))
    return True
# --- near misses: the team's call (issue 18) ----------------------------------------------------


def note_possible_split(incident: Incident, part_a: list[int], part_b: list[int]) -> Incident:
    """The detector's borderline split of a problem it opened: both parts ARE in the incident, the
    team decides ("möglicherweise zwei Probleme", one click splits, `team_loop`).

    Stored as data in the brief (`possible_split`: the larger part first, by distinct customers);
    the quotes and counts are rendered at display time from the cases. Repeating the same parts
    changes nothing; an empty, overlapping or foreign part is refused naming the part."""
    ids_a, ids_b = sorted({int(i) for i in part_a}), sorted({int(i) for i in part_b})
    if not ids_a:
        raise IncidentError("part_a", "must name at least one case")
    if not ids_b:
        raise IncidentError("part_b", "must name at least one case")
    if set(ids_a) & set(ids_b):
        raise IncidentError("part_b", "overlaps part_a")
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        linked = set(incident.cases.filter(pk__in=ids_a + ids_b).values_list("pk", flat=True))
        for name, ids in (("part_a", ids_a), ("part_b", ids_b)):
            foreign = sorted(set(ids) - linked)
            if foreign:
                raise IncidentError(name, f"cases {foreign} are not linked to INC-{incident.pk}")

        def size(ids: list[int]) -> tuple[int, int]:
            people = Case.objects.filter(pk__in=ids).values("customer_id").distinct().count()
            return people, len(ids)

        parts = sorted([ids_a, ids_b], key=lambda ids: (size(ids), -ids[0]), reverse=True)
        stored = [{"case_ids": ids} for ids in parts]
        data = dict(incident.brief or {})
        if data.get("possible_split") == stored:
            return incident
        data["possible_split"] = stored
        Brief.read(data)
        incident.brief = data
        incident.save(update_fields=["brief"])
        events.record(
            incident,
            "possible_split",
            parts=[p["case_ids"] for p in stored],
            customers=[size(p)[0] for p in parts],
        )
    return incident
