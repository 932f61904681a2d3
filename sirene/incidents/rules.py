"""The detection rule: when does a problem become a critical incident?

The process rule is a FLOOR that nothing raises: at the report that makes it the 6th distinct
customer (more than N = 5, by `Customer.identity`) reporting the same problem within the window
(default 24 h), one critical incident opens. No statistics ("usual rate") ever raise that bar
silently: an earlier burst or an everyday question in the same area never makes the next problem
wait for its 9th customer.

Only a lead changes it, explicitly, and the brief names the rule that applied:

* an `IncidentRule` row for one known problem (`known_problem_key`, e.g. "this everyday question:
  more than 14 in 24 h", or `pages=False`: "never page, it is an application error"),
* else an `IncidentRule` row for the problem's category,
* else `SIRENE_INCIDENT_RULES` (`login=3/12,checkout=4`), else SIRENE_INCIDENT_THRESHOLD /
  SIRENE_INCIDENT_WINDOW_HOURS (5 / 24 h).

`decide()` is pure so the benchmark and the tests can check it without a database.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings


@dataclass(frozen=True)
class Rule:
    threshold: int  # more than this many distinct customers ...
    window_hours: float  # ... within this many hours
    source: str  # "default", "env", "category" or "known_problem": shown in the brief
    pages: bool = True  # False: a lead said "never page" for this problem
    subject: str = ""  # the category or known problem the rule is for

    @property
    def required(self) -> int:
        return self.threshold + 1

    def describe(self) -> str:
        """The rule in German, as the group page and the brief show it."""
        hours = f"{self.window_hours:g}"
        if not self.pages:
            text = "keine Alarmierung (von der Leitung so festgelegt)"
        else:
            n = self.required
            text = f"ab der {n}. Kundin / dem {n}. Kunden innerhalb von {hours} h"
        if self.source == "known_problem":
            return f"{text} – Regel für das bekannte Problem „{self.subject}“"
        if self.source == "category":
            return f"{text} – Regel für die Kategorie „{self.subject}“"
        if self.source == "env":
            return f"{text} – Regel aus der Konfiguration für „{self.subject}“"
        return text


@dataclass(frozen=True)
class Decision:
    fire: bool
    customers: int
    required: int
    reason: str


def parse_env_rules(raw: str) -> dict[str, tuple[int | None, float | None]]:
    """`login=3/12,checkout=4` → {"login": (3, 12.0), "checkout": (4, None)}; bad parts raise ValueError."""
    out: dict[str, tuple[int | None, float | None]] = {}
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        if "=" not in part:
            raise ValueError(f"SIRENE_INCIDENT_RULES: {part!r} is not category=N[/hours]")
        category, value = (x.strip() for x in part.split("=", 1))
        threshold_s, _, hours_s = value.partition("/")
        threshold = int(threshold_s) if threshold_s.strip() else None
        hours = float(hours_s) if hours_s.strip() else None
        if (threshold is not None and threshold < 1) or (hours is not None and hours <= 0):
            raise ValueError(f"SIRENE_INCIDENT_RULES: {part!r} needs N >= 1 and hours > 0")
        out[category] = (threshold, hours)
    return out


_CACHE: dict[tuple[str, str], tuple[float, Any]] = {}
CACHE_SECONDS = 5.0


def _db_rule(category: str, known_problem: str) -> Any:
    """The IncidentRule row (or None), cached a few seconds: it is read for every new report."""
    from sirene.incidents.models import IncidentRule

    now = time.monotonic()
    key = (category, known_problem)
    hit = _CACHE.get(key)
    if hit is not None and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    if known_problem:
        row = IncidentRule.objects.filter(known_problem_key=known_problem).first()
    else:
        row = IncidentRule.objects.filter(category=category, known_problem_key="").first()
    _CACHE[key] = (now, row)
    return row


def clear_cache() -> None:
    _CACHE.clear()


def default_rule() -> Rule:
    return Rule(int(settings.INCIDENT_THRESHOLD), float(settings.INCIDENT_WINDOW_HOURS), "default")


def rule_for(category: str, known_problem: str = "") -> Rule:
    """The rule for a problem: its known problem's rule, its category's, the env's, the default."""
    if known_problem:
        row = _db_rule("", known_problem)
        if row is not None:
            return Rule(row.threshold, row.window_hours, "known_problem", row.pages, known_problem)
    row = _db_rule(category, "")
    if row is not None:
        return Rule(row.threshold, row.window_hours, "category", row.pages, category)
    base = default_rule()
    env = parse_env_rules(os.environ.get("SIRENE_INCIDENT_RULES", ""))
    if category in env:
        t, h = env[category]
        return Rule(
            t if t is not None else base.threshold,
            h if h is not None else base.window_hours,
            "env",
            True,
            category,
        )
    return base


def max_window_hours() -> float:
    """The longest counting window any rule uses (the detector keeps that much in memory)."""
    from sirene.incidents.models import IncidentRule

    now = time.monotonic()
    hit = _CACHE.get(("*", "*"))
    if hit is not None and now - hit[0] < CACHE_SECONDS:
        return float(hit[1])
    hours = [float(settings.INCIDENT_WINDOW_HOURS)]
    hours += [h for _, h in parse_env_rules(os.environ.get("SIRENE_INCIDENT_RULES", "")).values() if h]
    hours += list(IncidentRule.objects.values_list("window_hours", flat=True))
    _CACHE[("*", "*")] = (now, max(hours))
    return max(hours)


def decide(customers: int, rule: Rule) -> Decision:
    """Fire at the (threshold + 1)-th distinct customer; statistics never raise it."""
    fire = rule.pages and customers >= rule.required
    reason = f"{customers} Kundinnen/Kunden im Zeitfenster; {rule.describe()}"
    return Decision(fire, customers, rule.required, reason)
