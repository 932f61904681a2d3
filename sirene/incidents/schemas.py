"""Response models of the incidents API (and the incident summary on the case API)."""

from __future__ import annotations

from typing import Any

from ninja import Schema

from sirene.core.schemas import IsoDateTime
from sirene.incidents.models import Incident, ProblemGroup


class IncidentSummaryOut(Schema):
    """The newest incident a case belongs to."""

    id: int
    title: str
    status: str
    url: str


class CandidateOut(Schema):
    """★ Sweep: an unlinked report of the last 30 days that looks like the incident's problem."""

    case_id: int
    score: float
    reason: str  # known_problem | error_code | similar (the strongest of `reasons`)
    reasons: list[str] = []
    similarity: float = 0.0
    subject: str = ""
    customer: str = ""
    received_at: IsoDateTime | None = None
    codes: list[str] = []


class IncidentOut(Schema):
    id: int
    title: str
    customer_title: str
    published: bool
    status: str
    category: str
    critical_category: bool
    origin: str
    opened_at: IsoDateTime
    acknowledged_at: IsoDateTime | None
    resolved_at: IsoDateTime | None
    customers_affected: int
    reports: int
    first_seen: IsoDateTime | None
    last_seen: IsoDateTime | None
    group_id: int | None
    url: str

    @staticmethod
    def resolve_critical_category(obj: Incident) -> bool:
        return obj.is_critical_category

    @staticmethod
    def resolve_url(obj: Incident) -> str:
        return obj.get_absolute_url()


class IncidentListOut(Schema):
    count: int
    results: list[IncidentOut]


class ExampleOut(Schema):
    customer: str
    email: str | None
    case_id: int
    url: str
    subject: str


class RepresentativeOut(Schema):
    case_id: int
    url: str
    text: str


class WhatOut(Schema):
    summary: str = ""
    representative: list[RepresentativeOut] = []
    key_terms: list[Any] = []
    error_codes: list[str] = []


class CommonThreadOut(Schema):
    attribute: str
    value: Any
    share: float
    baseline_share: float
    customers: int
    p_value: float


class RateOut(Schema):
    """The detection rule's counts and decision for the incident's group (empty without a group)."""

    customers_in_window: int | None = None
    reports_in_window: int | None = None
    window_hours: int | float | None = None
    threshold: int | None = None
    rule_source: str | None = None
    usual_per_window: int | float | None = None
    required: int | None = None
    rule: str | None = None
    pages: bool | None = None
    fire: bool | None = None
    reason: str | None = None
    window_start: IsoDateTime | None = None


class TestAccountOut(Schema):
    reproduced: str
    note: str


class TimelineEntryOut(Schema):
    at: IsoDateTime
    kind: str
    message: str
    who: str


class RepliesOfKindOut(Schema):
    sent: int
    queued: int
    failed: int
    without_ticket: list[str]
    not_needed: list[str]


class RepliesOut(RepliesOfKindOut):
    """The resolution replies at the top, the same for every customer text under `by_kind`."""

    by_kind: dict[str, RepliesOfKindOut]


class TrendOut(Schema):
    """★ New customers in the last `minutes` against the `minutes` before (rising | steady | falling)."""

    direction: str
    last: int
    before: int
    minutes: int


class ReportAfterFixOut(Schema):
    case_id: int
    minutes_after_fix: int


class FixOut(Schema):
    """★ After a status update marked "Fix ist ausgerollt" (incidents/afterwards.py)."""

    fixed_at: IsoDateTime
    rate_per_hour: float
    silent_hours: float
    suggest_resolve: bool


class AfterResolutionOut(Schema):
    """★ What the customers answered to the resolution reply, per customer (latest answer)."""

    fixed: int
    still_broken: int
    other: int
    thanks: int
    no_answer: int
    answered_to: int
    alert: bool


class IncidentDetailOut(IncidentOut):
    description: str
    resolution: str
    customer_text: str
    public_text: str
    # Filled by the API view from the flows (helpdesk sits above incidents); null where not computed.
    replies: RepliesOut | None = None
    examples: list[ExampleOut]
    what: WhatOut
    common_thread: list[CommonThreadOut]
    common_thread_visible: bool
    rate: RateOut
    test_account: TestAccountOut
    case_ids: list[int]
    timeline: list[TimelineEntryOut]
    # ★ After the siren (issue 21): trend, the silence after the fix, the answers after resolving.
    trend: TrendOut | None = None
    silence_probability: float | None = None
    reports_after_fix: list[ReportAfterFixOut] | None = None
    fix: FixOut | None = None
    after_resolution: AfterResolutionOut | None = None

    @staticmethod
    def resolve_trend(obj: Incident) -> dict[str, Any]:
        return _afterwards(obj)["trend"]  # type: ignore[no-any-return]

    @staticmethod
    def resolve_silence_probability(obj: Incident) -> float | None:
        return _afterwards(obj)["silence_probability"]  # type: ignore[no-any-return]

    @staticmethod
    def resolve_reports_after_fix(obj: Incident) -> list[dict[str, Any]] | None:
        return _afterwards(obj)["reports_after_fix"]  # type: ignore[no-any-return]

    @staticmethod
    def resolve_fix(obj: Incident) -> dict[str, Any] | None:
        return _afterwards(obj)["fix"]  # type: ignore[no-any-return]

    @staticmethod
    def resolve_after_resolution(obj: Incident) -> dict[str, Any] | None:
        return getattr(obj, "after_resolution_summary", None)

    @staticmethod
    def resolve_replies(obj: Incident) -> dict[str, Any] | None:
        return getattr(obj, "replies_summary", None)

    @staticmethod
    def resolve_examples(obj: Incident) -> list[dict[str, Any]]:
        return [e.model_dump() for e in obj.brief_data.examples]

    @staticmethod
    def resolve_what(obj: Incident) -> dict[str, Any]:
        return obj.brief_data.what.model_dump()

    @staticmethod
    def resolve_common_thread(obj: Incident) -> list[dict[str, Any]]:
        return [f.model_dump() for f in obj.brief_data.common_thread]

    @staticmethod
    def resolve_common_thread_visible(obj: Incident) -> bool:
        return bool(obj.brief_data.common_thread)

    @staticmethod
    def resolve_rate(obj: Incident) -> dict[str, Any]:
        return obj.brief_data.rate_dict()

    @staticmethod
    def resolve_test_account(obj: Incident) -> dict[str, str]:
        return {"reproduced": obj.test_reproduced, "note": obj.test_note}

    @staticmethod
    def resolve_case_ids(obj: Incident) -> list[int]:
        return list(obj.cases.order_by("id").values_list("id", flat=True))

    @staticmethod
    def resolve_timeline(obj: Incident) -> list[dict[str, Any]]:
        return [
            {
                "at": e.at,
                "kind": e.kind,
                "message": e.message,
                "who": e.actor_label or (e.actor.display_name() if e.actor else "sirene"),
            }
            for e in obj.events.select_related("actor")
        ]


def _afterwards(obj: Incident) -> dict[str, Any]:
    """Computed once per response (four fields read it)."""
    from sirene.incidents import afterwards

    cached = getattr(obj, "_afterwards_facts", None)
    if cached is None:
        cached = afterwards.api_facts(obj)
        obj._afterwards_facts = cached  # type: ignore[attr-defined]
    return cached


class AckOut(IncidentDetailOut):
    changed: bool


class ResolveConflictOut(IncidentDetailOut):
    detail: str


class GroupOut(Schema):
    id: int
    title: str
    category: str
    count: int
    first_seen: IsoDateTime
    last_seen: IsoDateTime
    merged_into: int | None
    known_problem_key: str | None
    case_ids: list[int]
    rate: RateOut

    @staticmethod
    def resolve_first_seen(obj: ProblemGroup) -> Any:
        return obj.first_seen_at

    @staticmethod
    def resolve_last_seen(obj: ProblemGroup) -> Any:
        return obj.last_seen_at

    @staticmethod
    def resolve_merged_into(obj: ProblemGroup) -> int | None:
        return obj.merged_into_id

    @staticmethod
    def resolve_known_problem_key(obj: ProblemGroup) -> str | None:
        return obj.known_problem_key or None

    @staticmethod
    def resolve_case_ids(obj: ProblemGroup) -> list[int]:
        return list(obj.memberships.order_by("case_id").values_list("case_id", flat=True))

    @staticmethod
    def resolve_rate(obj: ProblemGroup) -> dict[str, Any]:
        from sirene.incidents.services import rate_facts

        return rate_facts(obj)
