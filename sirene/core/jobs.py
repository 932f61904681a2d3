"""One way to run background work: due rows claimed with a lease, retried with bounded backoff, dead at the end.

Every queue in sirene (escalation runs, customer replies, webhook deliveries, case analysis, reminders) is a
table whose rows carry a due time and a lease. A `Queue` names those columns, so existing tables keep
theirs; new tables inherit `Job`, which has them under the default names.

- `claim` leases up to `limit` due rows to one owner in ONE statement (`UPDATE … WHERE id IN (SELECT …
  LIMIT n FOR UPDATE SKIP LOCKED) RETURNING id` on PostgreSQL; on SQLite the same statement without the
  lock clause: SQLite runs one writer at a time, so the sub-select and the update cannot interleave with
  another worker's). A row is due when its due time has come, its lease is free or ran out, and it is not
  dead. Claiming counts a try, so a row that kills its worker every time still reaches the last try.
- `renew` extends a lease before each slow step; a worker that lost its lease stops touching the row.
- `complete` / `release` give the row back (done: no due time; or due again at a chosen time).
- `fail` records an error: transient → due again after `Backoff.delay(tries)` (exponential, capped,
  with jitter so that a burst of failures does not retry in lockstep); permanent or the last try → dead
  (`dead_at` set, shown in the UI and in the health report, revived only by a person: `revive`).
- `take_once` is the at-most-once claim: it consumes the row before the side effect (reminders: a crash
  after the claim loses the reminder rather than sending it twice, and the row says so).

No exactly-once magic lives here: a side effect that must not repeat records an attempt before calling the
provider and reconciles after a crash (escalation Attempts, customer replies); this module only makes sure
that one worker at a time owns the row and that failures back off and end.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db import DatabaseError, connection, models
from django.db.models import F, Min, Q, QuerySet

from sirene.core import clock

M = TypeVar("M", bound=models.Model)
log = logging.getLogger("sirene.worker")


def worker_id() -> str:
    """Who holds a lease: host, process and thread (two lanes in one process are two owners)."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


class Job(models.Model):
    """The columns of a queue row under the default names (inherit it for a new queue table)."""

    due_at = models.DateTimeField(
        null=True, blank=True, help_text="when the work is due; empty: nothing to do"
    )
    lease_owner = models.CharField(max_length=200, blank=True, default="")
    lease_until = models.DateTimeField(null=True, blank=True)
    tries = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    dead_at = models.DateTimeField(null=True, blank=True, help_text="gave up: waits for a person")

    class Meta:
        abstract = True


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff: base · 2^(tries−1), at most `cap`, ± `jitter` (a fraction); dead after `max_tries`."""

    base: float = 30.0
    cap: float = 3600.0
    max_tries: int = 8
    jitter: float = 0.2

    def delay(self, tries: int, retry_after: float | None = None, rng: random.Random | None = None) -> float:
        raw = min(self.cap, self.base * 2.0 ** max(0, tries - 1))
        spread = raw * self.jitter
        value = raw + (rng or _rng).uniform(-spread, spread) if spread else raw
        # The provider's Retry-After is a floor, never shortened by jitter.
        return max(0.0, value, retry_after or 0.0)


_rng = random.Random()


@dataclass(frozen=True)
class Failure:
    dead: bool
    tries: int
    retry_at: dt.datetime | None


@dataclass(frozen=True)
class Backlog:
    """What a queue has waiting right now (for `sirene status`, /api/v1/health and the overview)."""

    queue: str
    lane: str
    due: int
    oldest_due_at: dt.datetime | None
    dead: int

    def oldest_age_seconds(self, now: dt.datetime | None = None) -> float:
        if self.oldest_due_at is None:
            return 0.0
        return max(0.0, ((now or clock.now()) - self.oldest_due_at).total_seconds())


@dataclass(frozen=True)
class Queue(Generic[M]):
    """A table used as a queue; the column names default to `Job`'s. A column set to None does not exist."""

    name: str
    model: type[M]
    lane: str = "background"
    backoff: Backoff = field(default_factory=Backoff)
    lease_seconds: float | None = None  # None: settings.WORKER_LEASE_SECONDS
    due: str = "due_at"
    owner: str | None = "lease_owner"  # None (with lease_until None): an at-most-once queue, no leases
    lease_until: str | None = "lease_until"
    tries: str | None = "tries"
    error: str | None = "last_error"
    dead: str | None = "dead_at"
    # Rows outside this condition are never due (e.g. a reply already sent), whatever their columns say.
    where: Q | None = None

    # -- what is due ------------------------------------------------------------------------------

    def lease(self) -> dt.timedelta:
        seconds = settings.WORKER_LEASE_SECONDS if self.lease_seconds is None else self.lease_seconds
        return dt.timedelta(seconds=seconds)

    def free(self, now: dt.datetime) -> Q:
        if not self.lease_until:
            return Q()
        return Q(**{f"{self.lease_until}__isnull": True}) | Q(**{f"{self.lease_until}__lt": now})

    def due_q(self, now: dt.datetime) -> Q:
        q = Q(**{f"{self.due}__lte": now}) & self.free(now)
        if self.dead:
            q &= Q(**{f"{self.dead}__isnull": True})
        return q

    def objects(self) -> QuerySet[M]:
        qs = self.model._default_manager.all()
        return qs.filter(self.where) if self.where is not None else qs

    # -- claiming ---------------------------------------------------------------------------------

    def claim(
        self,
        owner: str,
        *,
        limit: int = 10,
        queryset: QuerySet[M] | None = None,
        now: dt.datetime | None = None,
    ) -> list[int]:
        """Lease up to `limit` due rows (oldest due first) to `owner`; returns their ids, in due order."""
        if not (self.owner and self.lease_until):
            raise TypeError(f"queue {self.name} has no lease columns: use take_once")
        now = now or clock.now()
        base = self.objects() if queryset is None else queryset
        candidates = (
            base.filter(self.due_q(now)).order_by(self.due, "pk").values("pk")[:limit]
        )
        sub_sql, sub_params = candidates.query.sql_with_params()
        meta = self.model._meta
        qn = connection.ops.quote_name
        if connection.vendor == "postgresql":
            # Lock only the queue's own rows (a `where` may join other tables).
            sub_sql += f" FOR UPDATE OF {qn(meta.db_table)} SKIP LOCKED"
        pk = qn(meta.pk.column)
        sets = [f"{qn(self._column(self.owner))} = %s", f"{qn(self._column(self.lease_until))} = %s"]
        params: list[Any] = [owner, connection.ops.adapt_datetimefield_value(now + self.lease())]
        if self.tries:
            column = qn(self._column(self.tries))
            sets.append(f"{column} = {column} + 1")
        sql = (
            f"UPDATE {qn(meta.db_table)} SET {', '.join(sets)} "
            f"WHERE {pk} IN ({sub_sql}) RETURNING {pk}, {qn(self._column(self.due))}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, *sub_params])
            rows = cursor.fetchall()
        due_of = {row[0]: row[1] for row in rows}
        return sorted(due_of, key=lambda pk_: (_as_dt(due_of[pk_]), pk_))

    def take_once(self, pk: int, *, queryset: QuerySet[M] | None = None, **consume: Any) -> bool:
        """At most once: consume a due row before its side effect. `consume` are the fields that mark it
        taken (e.g. `reminded_at=now`); the queue's `where` must exclude taken rows. Of two workers exactly
        one gets True; a crash afterwards loses the side effect, never repeats it."""
        base = self.objects() if queryset is None else queryset
        values = dict(consume)
        if self.tries:
            values[self.tries] = F(self.tries) + 1
        return take_once(base.filter(self.due_q(clock.now())), pk, **values)

    def renew(self, pk: int, owner: str) -> bool:
        """Extend the lease; False when another worker holds the row now (stop working on it)."""
        assert self.lease_until is not None
        return bool(self._mine(pk, owner).update(**{self.lease_until: clock.now() + self.lease()}))

    # -- giving rows back -------------------------------------------------------------------------

    def complete(self, pk: int, owner: str | None = None, **fields: Any) -> bool:
        """Done: nothing more is due. `owner` None means unconditionally (a person's action)."""
        values: dict[str, Any] = {self.due: None, **self._unleased(), **fields}
        if self.error:
            values.setdefault(self.error, "")
        return self._mine(pk, owner).update(**values) > 0

    def release(self, pk: int, owner: str | None, *, due_at: dt.datetime | None, **fields: Any) -> bool:
        """Give the lease back with the row due again at `due_at` (None: nothing due)."""
        values: dict[str, Any] = {self.due: due_at, **self._unleased(), **fields}
        return self._mine(pk, owner).update(**values) > 0

    def fail(
        self,
        pk: int,
        owner: str | None,
        error: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        **fields: Any,
    ) -> Failure:
        """Record a failed try: due again after the backoff, or dead after a permanent error / the last try.

        `fields` are set either way; `on_retry={…}` / `on_dead={…}` only in that case."""
        now = clock.now()
        tries = 1
        on_dead = fields.pop("on_dead", None) or {}
        on_retry = fields.pop("on_retry", None) or {}
        if self.tries:
            tries = int(self._mine(pk, owner).values_list(self.tries, flat=True).first() or 1)
        dead = permanent or tries >= self.backoff.max_tries
        values: dict[str, Any] = {**self._unleased(), **fields}
        if self.error:
            values[self.error] = error[:2000]
        retry_at: dt.datetime | None = None
        if dead:
            values[self.due] = None
            if self.dead:
                values[self.dead] = now
            values.update(on_dead)
        else:
            retry_at = now + dt.timedelta(seconds=self.backoff.delay(tries, retry_after))
            values[self.due] = retry_at
            values.update(on_retry)
        self._mine(pk, owner).update(**values)
        return Failure(dead=dead, tries=tries, retry_at=retry_at)

    def revive(self, queryset: QuerySet[M], **fields: Any) -> int:
        """A person's retry: dead rows are due now with a fresh count of tries."""
        if not self.dead:
            return 0
        values: dict[str, Any] = {self.dead: None, self.due: clock.now(), **self._unleased()}
        if self.tries:
            values[self.tries] = 0
        values.update(fields)
        return queryset.filter(**{f"{self.dead}__isnull": False}).update(**values)

    # -- health -----------------------------------------------------------------------------------

    def backlog(self, now: dt.datetime | None = None) -> Backlog:
        now = now or clock.now()
        due = self.objects().filter(self.due_q(now)).aggregate(n=models.Count("pk"), oldest=Min(self.due))
        dead = (
            self.model._default_manager.filter(**{f"{self.dead}__isnull": False}).count() if self.dead else 0
        )
        return Backlog(self.name, self.lane, int(due["n"] or 0), due["oldest"], dead)

    # -- helpers ----------------------------------------------------------------------------------

    def _mine(self, pk: int, owner: str | None) -> QuerySet[M]:
        qs = self.objects().filter(pk=pk)
        return qs if owner is None or not self.owner else qs.filter(**{self.owner: owner})

    def _unleased(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        if self.owner:
            values[self.owner] = ""
        if self.lease_until:
            values[self.lease_until] = None
        return values

    def _column(self, name: str) -> str:
        return str(self.model._meta.get_field(name).column)  # type: ignore[union-attr]


class Heartbeat:
    """A lane loop's heartbeat (core.models.LaneBeat), written at most every BEAT_EVERY_SECONDS."""

    BEAT_EVERY_SECONDS = 5.0  # SQLite has one writer: no write per loop
    FORGET_AFTER = dt.timedelta(days=1)

    def __init__(self, lane: str, owner: str) -> None:
        self.lane, self.owner = lane, owner
        self.items = 0
        self._written = -self.BEAT_EVERY_SECONDS

    def loop(self, seconds: float, items: int) -> None:
        from sirene.core.models import LaneBeat

        self.items += items
        if time.monotonic() - self._written < self.BEAT_EVERY_SECONDS:
            return
        now = clock.now()
        try:
            updated = LaneBeat.objects.filter(owner=self.owner).update(
                lane=self.lane, last_loop_at=now, last_loop_seconds=seconds, items=self.items
            )
            if not updated:
                LaneBeat.objects.create(
                    lane=self.lane,
                    owner=self.owner,
                    started_at=now,
                    last_loop_at=now,
                    last_loop_seconds=seconds,
                )
                LaneBeat.objects.filter(last_loop_at__lt=now - self.FORGET_AFTER).delete()
        except DatabaseError as exc:  # a busy database must not stop the lane
            log.warning("heartbeat of lane %s not written: %s", self.lane, exc)
            return
        self._written = time.monotonic()


def take_once(queryset: QuerySet[Any], pk: int, **consume: Any) -> bool:
    """The at-most-once claim on its own: one conditional UPDATE of the row `pk` within `queryset` (which
    must exclude rows already taken). True for exactly one caller."""
    return bool(queryset.filter(pk=pk).update(**consume))


def _as_dt(value: Any) -> dt.datetime:
    """RETURNING gives SQLite's text timestamps as str; only the order matters here."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, str):
        parsed = dt.datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return dt.datetime.max.replace(tzinfo=dt.UTC)


def backlogs(queues: Iterable[Queue[Any]], now: dt.datetime | None = None) -> list[Backlog]:
    now = now or clock.now()
    return [q.backlog(now) for q in queues]
