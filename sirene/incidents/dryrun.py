"""★ Probelauf: what a changed detection rule would have done with the last 60–90 days of reports.

The stored reports (their stored vectors, cleaned text, tags, error codes, the agents' corrections and
confirmed known problems, exactly as the detector reads them) are replayed in arrival order through
the production clustering — `sirene.similarity.window.Window` (`add`, `evict`, `problem_of`,
`customers`) — and the production rule — `rules.rule_for` / `rules.decide` —, twice: once with the
rules as they are, once with the lead's proposed rule in place of the one it replaces. The two runs
are compared: incidents that would open earlier, later, in addition, or not at all.

What the replay does around those two calls follows `detection.detect` step by step: a report of a
live incident's problem joins it; otherwise the problem's category and known problem (majority of its
reports) pick the rule, the distinct customers in the rule's window are counted (reports a resolved
incident answered do not count again) and at the rule's (threshold + 1)-th the incident opens. A
replayed incident counts as resolved 24 h after its last report (real resolutions depend on people).

No side effects: it only reads (no incident, event, group, Slack post, call or reply is written; the
detector's own window in this process is a separate object and is not touched).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.conf import settings

from sirene.cases.attributes import extract_error_codes
from sirene.cases.models import Case, Category
from sirene.core import clock
from sirene.core.errors import FieldError
from sirene.incidents import rules
from sirene.incidents.models import GroupMembership
from sirene.similarity.window import DEFAULT_WINDOW, Window, WindowReport, report_terms

MIN_DAYS, MAX_DAYS, DEFAULT_DAYS = 1, 90, 60
# Reports of days before the counting window tell everyday questions apart (the window's kin).
KIN_DAYS = 14.0
RESOLVED_AFTER_HOURS = 24.0
AGENT_HOW = (GroupMembership.How.MOVED, GroupMembership.How.MERGED, GroupMembership.How.SPLIT)


@dataclass(frozen=True)
class Proposal:
    """The rule a lead is editing: for one category or (when set) one known problem."""

    category: str
    known_problem_key: str
    threshold: int
    window_hours: float
    pages: bool = True

    def rule(self) -> rules.Rule:
        if self.known_problem_key:
            return rules.Rule(self.threshold, self.window_hours, "known_problem", self.pages, self.known_problem_key)
        return rules.Rule(self.threshold, self.window_hours, "category", self.pages, self.category)


def check(
    *, category: str, known_problem_key: str, threshold: Any, window_hours: Any, pages: bool, days: Any
) -> tuple[Proposal, int]:
    """The proposed rule and the days, checked (FieldError naming the bad field: 422)."""
    known_problem_key = (known_problem_key or "").strip()
    category = (category or "").strip()
    if not known_problem_key and category not in Category.values:
        raise FieldError("category", f"{category!r} is not one of: {', '.join(Category.values)}")
    try:
        threshold = int(threshold)
    except (TypeError, ValueError):
        raise FieldError("threshold", "must be a whole number") from None
    if not 1 <= threshold <= 10_000:
        raise FieldError("threshold", "must be between 1 and 10000")
    try:
        window_hours = float(window_hours)
    except (TypeError, ValueError):
        raise FieldError("window_hours", "must be a number") from None
    if not 0 < window_hours <= 24 * 14:
        raise FieldError("window_hours", "must be more than 0 and at most 336 (14 days)")
    try:
        days = int(days)
    except (TypeError, ValueError):
        raise FieldError("days", "must be a whole number") from None
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise FieldError("days", f"must be between {MIN_DAYS} and {MAX_DAYS}")
    return Proposal(category, known_problem_key, threshold, window_hours, bool(pages)), days


@dataclass
class Replayed:
    """One incident the replay opened."""

    opened_at: float
    opened_by: int
    keys: set[int]
    category: str
    known: str
    customers: int
    last_at: float
    rule: str = ""
    at_open: int = 0

    def live(self, now: float) -> bool:
        return now - self.last_at <= RESOLVED_AFTER_HOURS * 3600.0


@dataclass
class _Row:
    key: int
    at: float
    report: WindowReport
    category: str
    subject: str


@dataclass
class Result:
    earlier: list[dict[str, Any]] = field(default_factory=list)
    later: list[dict[str, Any]] = field(default_factory=list)
    extra: list[dict[str, Any]] = field(default_factory=list)
    missing: list[dict[str, Any]] = field(default_factory=list)
    unchanged: int = 0
    reports: int = 0
    days: int = 0
    rule: str = ""
    current: int = 0
    proposed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _technical(tags: list[str] | None) -> bool:
    tags = tags or []
    return not tags or settings.TECH_TAG.strip().lstrip("#").lower() in tags


def _rows(since: datetime, until: datetime) -> list[_Row]:
    """The stored reports as the detector reads them (see `detection._report_rows`)."""
    tech = settings.TECH_TAG.strip().lstrip("#").lower()
    qs = (
        Case.objects.filter(received_at__gte=since, received_at__lte=until, embedding__isnull=False)
        .order_by("received_at", "id")
        .values_list(
            "id",
            "received_at",
            "embedding",
            "clean_text",
            "subject",
            "body",
            "tags",
            "category",
            "customer__email",
            "customer__external_id",
            "problem_membership__how",
            "problem_membership__group_id",
            "problem_membership__group__known_problem_key",
        )
    )
    out = []
    for pk, received, emb, clean, subject, body, tags, category, email, ext, how, gid, known in qs.iterator():
        if not _technical(tags) or not emb:
            continue
        vector = np.frombuffer(bytes(emb), dtype=np.float32)
        if not np.any(vector):
            continue
        report = WindowReport(
            key=pk,
            at=received.timestamp(),
            identity=f"email:{email}" if email else f"ext:{ext}",
            vector=vector.copy(),
            terms=report_terms(clean or f"{subject}\n{body}"),
            codes=frozenset(extract_error_codes(f"{subject}\n\n{body}")),
            group=f"g{gid}" if how in AGENT_HOW and gid else "",
            known=(known or "") if how in (GroupMembership.How.KNOWN_PROBLEM, GroupMembership.How.NEW) else "",
            tags=frozenset(t for t in (tags or []) if t != tech),
        )
        out.append(_Row(pk, report.at, report, category, subject))
    return out


def _majority(values: list[str], default: str = "") -> str:
    values = [v for v in values if v]
    return Counter(values).most_common(1)[0][0] if values else default


RuleOf = Callable[[str, str], rules.Rule]


def replay(rows: list[_Row], rule_of: RuleOf, *, start: float, widest_hours: float) -> list[Replayed]:
    """Every report in order through the production window and rule; incidents opened from `start` on
    (the reports before it only fill the window: kin and counting windows reaching back)."""
    window = Window(DEFAULT_WINDOW, horizon=widest_hours * 3600.0)
    category = {r.key: r.category for r in rows}
    keep = max(widest_hours, KIN_DAYS * 24.0) * 3600.0
    opened: list[Replayed] = []
    for row in rows:
        now = row.at
        report = row.report
        # A fresh copy per run: `Window.add` normalises the vector in place.
        window.add(
            WindowReport(
                key=report.key,
                at=report.at,
                identity=report.identity,
                vector=report.vector.copy(),
                terms=report.terms,
                codes=report.codes,
                group=report.group,
                known=report.known,
                tags=report.tags,
            )
        )
        window.evict(now - keep)
        members = window.problem_of(row.key, now - widest_hours * 3600.0)
        answered = {k for inc in opened if not inc.live(now) for k in inc.keys}
        live = [inc for inc in opened if inc.live(now) and inc.keys & set(members)]
        if live:
            best = max(live, key=lambda inc: (len(inc.keys & set(members)), -inc.opened_at))
            best.keys |= {k for k in members if k not in answered} | {row.key}
            best.last_at = now
            best.customers = len(window.customers(best.keys))
            continue
        known = _majority([window.reports[k].known for k in members])
        cat = _majority([category.get(k, "") for k in members], "other")
        rule = rule_of(cat, known)
        counted = [
            k for k in members if window.reports[k].at > now - rule.window_hours * 3600.0 and k not in answered
        ]
        decision = rules.decide(len(window.customers(counted)), rule)
        if decision.fire and now >= start:
            opened.append(
                Replayed(
                    opened_at=now,
                    opened_by=row.key,
                    keys=set(counted),
                    category=cat,
                    known=known,
                    customers=decision.customers,
                    last_at=now,
                    rule=rule.describe(),
                    at_open=decision.customers,
                )
            )
    return opened


def _rule_of(proposal: Proposal | None) -> RuleOf:
    def rule_of(category: str, known: str) -> rules.Rule:
        current = rules.rule_for(category, known)
        if proposal is None:
            return current
        if proposal.known_problem_key:
            return proposal.rule() if known == proposal.known_problem_key else current
        if current.source == "known_problem":  # a known problem's rule wins over its category's
            return current
        return proposal.rule() if category == proposal.category else current

    return rule_of


def _describe(inc: Replayed, subjects: dict[int, str], other: Replayed | None = None) -> dict[str, Any]:
    first = min(inc.keys | {inc.opened_by})
    out: dict[str, Any] = {
        "title": subjects.get(first, "")[:200] or f"#{first}",
        "opened_at": datetime.fromtimestamp(inc.opened_at, tz=clock.now().tzinfo),
        "opened_by_case_id": inc.opened_by,
        "customers": inc.customers,
        "customers_at_open": inc.at_open,
        "category": inc.category,
        "known_problem": inc.known,
        "case_ids": sorted(inc.keys)[:50],
        "rule": inc.rule,
    }
    if other is not None:
        out["current_opened_at"] = datetime.fromtimestamp(other.opened_at, tz=clock.now().tzinfo)
        out["minutes"] = round((inc.opened_at - other.opened_at) / 60.0)
    return out


def dry_run(proposal: Proposal, days: int = DEFAULT_DAYS) -> Result:
    """Replay the last `days` days with the current rules and with the proposal; the difference."""
    now = clock.now()
    widest = max(rules.max_window_hours(), proposal.window_hours)
    start = now - timedelta(days=days)
    rows = _rows(start - timedelta(hours=max(widest, KIN_DAYS * 24.0)), now)
    subjects = {r.key: r.subject for r in rows}
    begin = start.timestamp()
    current = replay(rows, _rule_of(None), start=begin, widest_hours=widest)
    proposed = replay(rows, _rule_of(proposal), start=begin, widest_hours=widest)
    result = Result(
        reports=sum(1 for r in rows if r.at >= begin),
        days=days,
        rule=proposal.rule().describe(),
        current=len(current),
        proposed=len(proposed),
    )
    compare(result, current, proposed, subjects)
    return result


def compare(result: Result, current: list[Replayed], proposed: list[Replayed], subjects: dict[int, str]) -> None:
    """Match each proposed incident to the current one sharing most reports: earlier / later /
    unchanged; unmatched proposed ones are extra, unmatched current ones missing."""
    taken: set[int] = set()
    for inc in proposed:
        best = max(
            ((i, c) for i, c in enumerate(current) if i not in taken and c.keys & inc.keys),
            key=lambda ic: (len(ic[1].keys & inc.keys), -ic[0]),
            default=None,
        )
        if best is None:
            result.extra.append(_describe(inc, subjects))
            continue
        taken.add(best[0])
        match = best[1]
        if inc.opened_at < match.opened_at:
            result.earlier.append(_describe(inc, subjects, match))
        elif inc.opened_at > match.opened_at:
            result.later.append(_describe(inc, subjects, match))
        else:
            result.unchanged += 1
    result.missing = [_describe(c, subjects) for i, c in enumerate(current) if i not in taken]
