"""The detection rule: when does a problem group become a critical incident?

Two conditions, combined with AND:

1. The absolute rule of the process: MORE THAN N distinct customers (N = threshold, default 5,
   so the 6th) reported the group's problem within the window (default 24 h). Customers are
   counted by `Customer.identity` (e-mail, else helpdesk id): one customer writing four times
   counts once. N and the window come from, in order: an `IncidentRule` row for the category,
   `SIRENE_INCIDENT_RULES` (e.g. `login=3/12,checkout=4`), then SIRENE_INCIDENT_THRESHOLD /
   SIRENE_INCIDENT_WINDOW_HOURS.

2. The baseline rule for known, recurring problems: a group that already had reports before the
   current window (at least one full window of history, up to BASELINE_DAYS) has a usual rate λ
   (distinct customers per window, averaged over that history). It only alerts when the count in
   the window is well above that rate: at least RATE_FACTOR × λ AND beyond the Poisson(λ)
   (1 − ALPHA) quantile, i.e. a rise that chance explains less than once in 1/ALPHA looks (the
   check runs on every report over a sliding window, so ALPHA is per look, see below).
   A brand-new problem has no history, λ = 0, and the rule reduces to condition 1.

Why AND and not OR: condition 1 is the floor the process asks for (five customers are never
critical by themselves, even for a quiet group), and condition 2 only ever raises the bar, so
"forgot password" with its 10 customers every day pages nobody, while 25 in one day does, and the
brief says "usual: 10 per 24 h".

`decide()` is pure so the benchmark and the tests can check it without a database.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from scipy.stats import poisson  # at import time: see brief.py (a slow first import)

BASELINE_DAYS = float(os.environ.get("SIRENE_INCIDENT_BASELINE_DAYS", "14"))
RATE_FACTOR = 2.0
# The rate test is not run once per window but on every arriving report over a sliding window,
# i.e. about 24 looks per 24-hour window at hourly resolution; the per-look level is divided
# accordingly (Bonferroni) so a recurring problem pages by chance about once in 1000 windows,
# as intended, rather than once in ~40.
ALPHA = float(os.environ.get("SIRENE_INCIDENT_ALPHA", str(1e-3 / 24)))


@dataclass(frozen=True)
class Rule:
    threshold: int
    window_hours: float
    source: str  # "default", "env" or "database": shown in the brief so nobody wonders why


@dataclass(frozen=True)
class Decision:
    fire: bool
    customers: int
    required: int
    expected: float | None
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


_CACHE: dict[str, tuple[float, Any]] = {}
CACHE_SECONDS = 5.0


def _db_rule(category: str) -> Any:
    """The IncidentRule row (or None), cached a few seconds: it is read for every new case."""
    from sirene.incidents.models import IncidentRule

    now = time.monotonic()
    hit = _CACHE.get(category)
    if hit is not None and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    row = IncidentRule.objects.filter(category=category).first()
    _CACHE[category] = (now, row)
    return row


def clear_cache() -> None:
    _CACHE.clear()


def rule_for(category: str) -> Rule:
    row = _db_rule(category)
    if row is not None:
        return Rule(row.threshold, row.window_hours, "database")
    env = parse_env_rules(os.environ.get("SIRENE_INCIDENT_RULES", ""))
    threshold = int(settings.INCIDENT_THRESHOLD)
    hours = float(settings.INCIDENT_WINDOW_HOURS)
    if category in env:
        t, h = env[category]
        return Rule(t if t is not None else threshold, h if h is not None else hours, "env")
    return Rule(threshold, hours, "default")


def poisson_upper(expected: float, alpha: float = ALPHA) -> int:
    """Smallest k with P(X >= k) <= alpha for X ~ Poisson(expected)."""
    return int(poisson.isf(alpha, expected)) + 1


def required_customers(threshold: int, expected: float | None) -> int:
    required = threshold + 1
    if expected is not None and expected > 0:
        required = max(required, math.ceil(RATE_FACTOR * expected), poisson_upper(expected))
    return required


def decide(customers: int, threshold: int, expected: float | None) -> Decision:
    required = required_customers(threshold, expected)
    fire = customers >= required
    if expected:
        reason = f"{customers} customers in the window; usual {expected:.1f}, alert from {required}"
    else:
        reason = f"{customers} customers in the window; alert from {required} (more than {threshold})"
    return Decision(fire, customers, required, expected, reason)
