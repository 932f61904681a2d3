"""The detector's window of this process, and the rule that keeps it equal to the database.

Each process keeps one `similarity.window.Window` (the technical reports of the last
`keep_hours()`, linked to each other) because building it costs a read of every report of two
weeks. It is a cache of the database, and its one correctness rule is:

    the window holds exactly the eligible cases (an embedding of the window's encoder, received
    inside the kept period) that the current connection can see.

`WindowStore.sync` restores that rule before every decision, under the store's lock:

1. **What changed** is read by its analysis stamp, not by the highest id: the cases analysed since
   the newest `analysed_at` already read, minus an `OVERLAP` margin (a transaction that stamped
   earlier and committed later is still caught), plus any id above the highest one read. A case
   analysed late (an analysis retry, another process's case, an out-of-order commit on
   PostgreSQL) enters the window like any other.
2. **A cheap consistency check** follows: count, sum and maximum of the eligible ids of the
   period in one aggregate, against the same of the ids read. Anything else that changed (a
   deletion, a transaction longer than the margin, clock jumps) makes them differ, and the window
   is rebuilt from the database.
3. **A rolled-back analysis leaves nothing behind.** Every report read inside a transaction stays
   *pending* until that transaction commits (`transaction.on_commit`). At the next sync a pending
   report is checked against the database: gone (or its id reused by another case) in the
   connection that added it means its transaction rolled back, and the window is rebuilt without
   it. A pending report of another thread that this connection cannot see yet is an open
   transaction (the counts skip it) until `PENDING_MAX` has passed.
4. **The agents' corrections** (moves, merges, splits) are data too: count and checksums of the
   agents' memberships of the period are compared on every sync, and a change relabels the window
   in place, whichever process made it.
5. **One encoder per window**: the window compares only embeddings of the encoder named on the
   case being decided (`Case.encoder`); a new encoder starts a new window.

`sirene serve` runs request threads and `sirene worker` runs lanes in threads: one `RLock` guards
sync and decision (`decide.decide` holds it while it reads the window). The store never writes
the database.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Max, QuerySet, Sum

from sirene.cases.attributes import extract_error_codes
from sirene.cases.models import Case
from sirene.detection.params import QUIET_DAYS
from sirene.incidents import grouping, rules
from sirene.incidents.models import GroupMembership
from sirene.similarity.window import DEFAULT_WINDOW, Window, WindowReport, report_terms

# A transaction that stamped `analysed_at` this long before the newest stamp read and committed
# after it is still read as a change (an analysis takes seconds; longer ones fall to the check).
OVERLAP = timedelta(minutes=5)
# A report another thread read inside its open transaction, invisible here for this long, is taken
# for rolled back (an analysis holds its case's job lease for 300 s at most).
PENDING_MAX = 600.0
CHUNK = 2000  # ids per IN (...) read
# Memberships an agent made: these groups are the team's corrections (same group links, different
# groups never do). DETECTED is the detector's own move into an incident's group, not a correction.
AGENT_HOW = (GroupMembership.How.MOVED, GroupMembership.How.MERGED, GroupMembership.How.SPLIT)


def is_technical(tags: list[str] | None) -> bool:
    tags = tags or []
    return not tags or settings.TECH_TAG.strip().lstrip("#").lower() in tags


def ts(value: Any) -> float:
    return float(value.timestamp())


def keep_hours() -> float:
    return max(rules.max_window_hours(), QUIET_DAYS * 24.0)


def _label(how: str | None, group_id: int | None) -> str:
    return f"g{group_id}" if how in AGENT_HOW and group_id else ""


def _known(how: str | None, key: str | None) -> str:
    return key or "" if how in (GroupMembership.How.KNOWN_PROBLEM, GroupMembership.How.NEW) else ""


def _fingerprint(received: Any, blob: Any) -> str:
    """Tells a report from another one under the same id (SQLite reuses the ids of rolled-back rows)."""
    return f"{ts(received)}:{hashlib.blake2b(bytes(blob), digest_size=8).hexdigest()}"


_ROW = (
    "id",
    "received_at",
    "analysed_at",
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


@dataclass
class _Pending:
    thread: int
    fingerprint: str
    since: float  # time.monotonic() when read


@dataclass
class View:
    """The window of this process and what the decision needs besides it (read under the lock)."""

    db: str
    encoder: str
    horizon: float
    window: Window
    # Every eligible case read (technical or not, comparable or not): id -> received (seconds).
    seen: dict[int, float] = field(default_factory=dict)
    category: dict[int, str] = field(default_factory=dict)
    high_water: datetime | None = None  # the newest analysed_at read
    width: int = 0  # of the window's vectors
    pending: dict[int, _Pending] = field(default_factory=dict)
    # Count and checksums of the agents' memberships of the period (`_agent_marks`).
    agent_marks: tuple[Any, ...] = ()


class WindowStore:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._view: View | None = None
        self.rebuilds = 0  # how often the window was read whole (tests and logs)

    # --- the rule ----------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget the window (tests, the bench, a new database)."""
        with self.lock:
            self._view = None
            self.rebuilds = 0

    def holds(self, case_id: int) -> bool:
        """Whether the window of this process holds the report (as of its last sync)."""
        with self.lock:
            return self._view is not None and case_id in self._view.window

    def sync(self, now: datetime, encoder: str) -> View:
        """The window brought up to date with what this connection sees (hold `lock` around the call
        and the decision that reads the result)."""
        db = f"{connection.alias}:{connection.settings_dict.get('NAME')}"
        horizon = rules.max_window_hours() * 3600.0
        since = now - timedelta(hours=keep_hours())
        view = self._view
        if view is None or (view.db, view.encoder, view.horizon) != (db, encoder, horizon):
            return self._rebuild(db, encoder, horizon, since)
        hidden = self._check_pending(view)
        if hidden is None:
            return self._rebuild(db, encoder, horizon, since)
        cut = ts(since)
        eligible = self._eligible(encoder, since)
        stats = eligible.aggregate(n=Count("id"), total=Sum("id"), top=Max("id"))
        if not self._agrees(view, stats, hidden, cut):
            # Two reads, each on its own index (the primary key; analysed_at).
            fresh = set(eligible.filter(pk__gt=max(view.seen, default=0)).values_list("id", flat=True))
            if view.high_water is not None:
                stamped = eligible.filter(analysed_at__gte=view.high_water - OVERLAP)
                fresh.update(pk for pk in stamped.values_list("id", flat=True) if pk not in view.seen)
            if fresh:
                self._read(view, eligible.filter(pk__in=fresh))
            if not self._agrees(view, stats, hidden, cut):
                return self._rebuild(db, encoder, horizon, since)
        # Dropped after the new reports were linked, as they always were (an old report may still be
        # among a new one's kin).
        if view.window.evict(cut):
            view.category = {k: v for k, v in view.category.items() if k in view.window}
        view.seen = {k: at for k, at in view.seen.items() if at >= cut}
        view.pending = {k: mark for k, mark in view.pending.items() if k in view.seen}
        marks = self._agent_marks(since)
        if marks != view.agent_marks:
            self._relabel(view)  # an agent moved, merged or split, in this process or another
            view.agent_marks = marks
        return view

    def regroup(self, case_ids: list[int]) -> None:
        """Agents moved, merged or split these cases (committed): relink them in this window."""
        with self.lock:
            view = self._view
            if view is None:
                return
            rows = GroupMembership.objects.filter(case_id__in=case_ids).values_list(
                "case_id", "how", "group_id", "group__known_problem_key"
            )
            for case_id, how, gid, known in rows:
                view.window.regroup(case_id, _label(how, gid), _known(how, known))

    # --- reading -----------------------------------------------------------------------------------

    @staticmethod
    def _eligible(encoder: str, since: datetime) -> QuerySet[Case]:
        return Case.objects.filter(embedding__isnull=False, encoder=encoder, received_at__gte=since)

    @staticmethod
    def _agrees(view: View, stats: dict[str, Any], hidden: set[int], cut: float) -> bool:
        ids = [k for k, at in view.seen.items() if at >= cut and k not in hidden]
        return (stats["n"], stats["total"] or 0, stats["top"] or 0) == (
            len(ids),
            sum(ids),
            max(ids, default=0),
        )

    @staticmethod
    def _agent_marks(since: datetime) -> tuple[Any, ...]:
        """Changes when an agent's move, merge or split touches a report of the period (the sum of
        case x group catches two reports that swapped groups)."""
        stats = GroupMembership.objects.filter(how__in=AGENT_HOW, received_at__gte=since).aggregate(
            n=Count("id"), groups=Sum("group_id"), pairs=Sum(F("case_id") * F("group_id"))
        )
        return (stats["n"], stats["groups"] or 0, stats["pairs"] or 0)

    def _relabel(self, view: View) -> None:
        """Every report's agent group as the database has it now (and, for a report an agent moved,
        its known problem, as `regroup` does)."""
        keys = list(view.window.reports)
        for start in range(0, len(keys), CHUNK):
            rows = GroupMembership.objects.filter(case_id__in=keys[start : start + CHUNK]).values_list(
                "case_id", "how", "group_id", "group__known_problem_key"
            )
            for case_id, how, gid, known in rows:
                report = view.window.reports[case_id]
                if how in AGENT_HOW:
                    label, key = _label(how, gid), _known(how, known)
                    if (report.group, report.known) != (label, key):
                        view.window.regroup(case_id, label, key)
                elif report.group:  # no longer in an agent's group
                    view.window.regroup(case_id, "", None)

    def _rebuild(self, db: str, encoder: str, horizon: float, since: datetime) -> View:
        self.rebuilds += 1
        view = View(db=db, encoder=encoder, horizon=horizon, window=Window(DEFAULT_WINDOW, horizon=horizon))
        view.agent_marks = self._agent_marks(since)  # read before the reports: a later change is seen
        self._view = view
        self._read(view, self._eligible(encoder, since))
        return view

    def _read(self, view: View, qs: QuerySet[Case]) -> None:
        tech = settings.TECH_TAG.strip().lstrip("#").lower()
        me = threading.get_ident()
        clock = time.monotonic()
        added: list[int] = []
        for row in qs.order_by("id").values_list(*_ROW):
            pk, received, analysed, emb, clean, subject, body, tags, category, email, ext, how, gid, known = (
                row
            )
            view.seen[pk] = ts(received)
            view.pending[pk] = _Pending(me, _fingerprint(received, emb), clock)
            added.append(pk)
            if analysed is not None and (view.high_water is None or analysed > view.high_water):
                view.high_water = analysed
            if not is_technical(tags):
                continue
            vector = np.frombuffer(bytes(emb), dtype=np.float32)
            if not np.any(vector) or (view.width and len(vector) != view.width):
                continue  # nothing to compare, or another width under the same name
            view.width = view.width or len(vector)
            view.window.add(
                WindowReport(
                    key=pk,
                    at=ts(received),
                    identity=f"email:{email}" if email else f"ext:{ext}",
                    vector=vector.copy(),
                    terms=report_terms(clean or f"{subject}\n{body}"),
                    codes=frozenset(extract_error_codes(f"{subject}\n\n{body}")),
                    group=_label(how, gid),
                    known=_known(how, known),
                    tags=frozenset(t for t in (tags or []) if t != tech),
                )
            )
            view.category[pk] = category
        if added:
            self._confirm_on_commit(view, added)

    # --- pending reports (read inside a transaction that has not committed yet) ---------------------

    def _confirm_on_commit(self, view: View, keys: list[int]) -> None:
        marks = {k: view.pending[k] for k in keys}

        def confirm() -> None:
            with self.lock:
                for k, mark in marks.items():
                    if view.pending.get(k) is mark:
                        del view.pending[k]

        transaction.on_commit(confirm)

    def _check_pending(self, view: View) -> set[int] | None:
        """None when a pending report was rolled back; else the pending reports of other threads'
        open transactions (not visible here)."""
        if not view.pending:
            return set()
        me = threading.get_ident()
        keys = list(view.pending)
        rows: dict[int, str] = {}
        for start in range(0, len(keys), CHUNK):
            rows.update(
                (pk, _fingerprint(received, emb))
                for pk, received, emb in Case.objects.filter(
                    pk__in=keys[start : start + CHUNK], embedding__isnull=False, encoder=view.encoder
                ).values_list("id", "received_at", "embedding")
            )
        hidden: set[int] = set()
        mine: list[int] = []
        for key, mark in list(view.pending.items()):
            found = rows.get(key)
            if found is not None:
                if found != mark.fingerprint:
                    return None  # rolled back, and the id went to another case
                if mark.thread == me:
                    mine.append(key)  # ours, committed or in this very transaction
                else:
                    del view.pending[key]  # another connection's: visible here, so committed
                continue
            if mark.thread == me or time.monotonic() - mark.since > PENDING_MAX:
                return None  # our own transaction rolled back (or a stale one)
            hidden.add(key)
        if mine:
            for key in mine:  # when this transaction commits, they are committed too
                view.pending[key] = _Pending(me, view.pending[key].fingerprint, view.pending[key].since)
            self._confirm_on_commit(view, mine)
        return hidden


STORE = WindowStore()


def reset() -> None:
    """Forget the window and the caches detection reads through (tests, the bench, a new database)."""
    STORE.reset()
    grouping.clear_cache()
    rules.clear_cache()


def regrouped(case_ids: list[int]) -> None:
    """Agents moved, merged or split these cases: relink them once their change has committed (a
    rolled-back move leaves the window as it was)."""
    ids = list(case_ids)
    transaction.on_commit(lambda: STORE.regroup(ids))
