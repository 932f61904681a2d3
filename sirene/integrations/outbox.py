"""Outbox transports: used when Slack/Twilio/Groove are not configured (demo, offline). They record
every message, call and helpdesk reply into `OutboxMessage`, so the UI shows exactly what would have
been sent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from sirene.core import clock
from sirene.integrations.base import (
    METADATA_EVENT_TYPE,
    CallInfo,
    Message,
    PermanentError,
    PlacedCall,
    PostedMessage,
    Ticket,
    TicketPage,
)
from sirene.integrations.models import OutboxMessage


class OutboxChatTransport:
    name = "outbox"

    def post_message(
        self,
        channel: str,
        text: str,
        *,
        blocks: list[Any] | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> PostedMessage:
        # One transaction: a worker killed in between must leave all or nothing, or reconciliation
        # (which looks the message up by its ts/sid) would miss it and send it again.
        with transaction.atomic():
            message = OutboxMessage.objects.create(
                channel=OutboxMessage.Channel.SLACK,
                kind="post",
                recipient=channel[:300],
                body=text,
                payload={
                    "blocks": blocks or [],
                    "thread_ts": thread_ts,
                    "metadata": {"event_type": METADATA_EVENT_TYPE, "event_payload": metadata or {}},
                },
                created_at=clock.now(),
            )
            # A Slack-shaped ts that is unique per recorded message.
            ts = f"{int(message.created_at.timestamp())}.{message.pk:06d}"
            message.payload = {**message.payload, "ts": ts}
            message.save(update_fields=["payload"])
        return PostedMessage(channel=channel, ts=ts)

    def update_message(self, channel: str, ts: str, text: str, *, blocks: list[Any] | None = None) -> None:
        OutboxMessage.objects.create(
            channel=OutboxMessage.Channel.SLACK,
            kind="update",
            recipient=channel[:300],
            body=text,
            payload={"ts": ts, "blocks": blocks or []},
            created_at=clock.now(),
        )

    def send_dm(
        self, slack_user_id: str, text: str, *, metadata: dict[str, Any] | None = None
    ) -> PostedMessage:
        # One transaction: a worker killed in between must leave all or nothing, or reconciliation
        # (which looks the message up by its ts/sid) would miss it and send it again.
        with transaction.atomic():
            message = OutboxMessage.objects.create(
                channel=OutboxMessage.Channel.SLACK,
                kind="dm",
                recipient=slack_user_id[:300],
                body=text,
                payload={"metadata": {"event_type": METADATA_EVENT_TYPE, "event_payload": metadata or {}}},
                created_at=clock.now(),
            )
            ts = f"{int(message.created_at.timestamp())}.{message.pk:06d}"
            message.payload = {**message.payload, "ts": ts}
            message.save(update_fields=["payload"])
        return PostedMessage(channel=slack_user_id, ts=ts)

    def find_message(
        self, channel: str, *, key: str, value: str, oldest: dt.datetime, thread_ts: str | None = None
    ) -> PostedMessage | None:
        candidates = OutboxMessage.objects.filter(
            channel=OutboxMessage.Channel.SLACK,
            kind__in=["post", "dm"],
            recipient=channel,
            created_at__gte=oldest - dt.timedelta(seconds=60),
        )
        for message in candidates:
            payload = (message.payload.get("metadata") or {}).get("event_payload") or {}
            if str(payload.get(key, "")) == value and message.payload.get("ts"):
                return PostedMessage(channel=channel, ts=str(message.payload["ts"]))
        return None


class OutboxPhoneTransport:
    name = "outbox"
    from_number = "outbox"

    def place_call(self, to: str, *, twiml: str, status_callback: str, ring_seconds: int = 30) -> PlacedCall:
        # One transaction: a worker killed in between must leave all or nothing, or reconciliation
        # (which looks the message up by its ts/sid) would miss it and send it again.
        with transaction.atomic():
            message = OutboxMessage.objects.create(
                channel=OutboxMessage.Channel.PHONE,
                kind="call",
                recipient=to[:300],
                body=twiml,
                payload={"status_callback": status_callback, "ring_seconds": ring_seconds},
                created_at=clock.now(),
            )
            sid = f"CA{message.pk:032d}"
            message.payload = {**message.payload, "sid": sid}
            message.save(update_fields=["payload"])
        # Nobody can answer a recorded call: it stays "queued" until the escalation's answer deadline.
        return PlacedCall(sid=sid, status="queued")

    def find_calls(self, to: str, *, since: dt.datetime) -> list[CallInfo]:
        rows = OutboxMessage.objects.filter(
            channel=OutboxMessage.Channel.PHONE,
            kind="call",
            recipient=to,
            created_at__gte=since - dt.timedelta(seconds=60),
        )
        return [
            CallInfo(sid=str(m.payload.get("sid", "")), status="queued", to=to, start_time=m.created_at)
            for m in rows
            if m.payload.get("sid")
        ]


class OutboxHelpdesk:
    """No Groove token: replies and notes are recorded in the outbox (shown in the UI) instead of sent."""

    provider = "groove"
    configured = False

    def _not_configured(self) -> PermanentError:
        return PermanentError("Groove is not configured (set SIRENE_GROOVE_TOKEN)", provider="groove")

    def fetch_ticket(self, number: int) -> Ticket:
        raise self._not_configured()

    def fetch_message(self, message_id: str) -> Message:
        raise self._not_configured()

    def list_tickets(self, *, page: int = 1, per_page: int = 50, customer: str = "") -> TicketPage:
        raise self._not_configured()

    def customer_tickets(self, email: str, *, limit: int = 100) -> list[Ticket]:
        raise self._not_configured()

    def _record(self, kind: str, number: int, body: str, marker: str = "") -> str:
        payload: dict[str, Any] = {"ticket": number, "note": kind == "note"}
        if marker:
            payload["marker"] = marker
        message = OutboxMessage.objects.create(
            channel=OutboxMessage.Channel.HELPDESK,
            kind=kind,
            recipient=f"Groove #{number}",
            body=body,
            payload=payload,
        )
        return f"outbox:{message.pk}"

    def add_note(self, number: int, body: str, *, marker: str = "") -> str:
        return self._record("note", number, body, marker)

    def reply(self, number: int, body: str, *, marker: str = "") -> str:
        return self._record("reply", number, body, marker)

    def find_posted(self, number: int, marker: str, *, since: dt.datetime | None = None) -> str | None:
        found = (
            OutboxMessage.objects.filter(channel=OutboxMessage.Channel.HELPDESK, payload__marker=marker)
            .values_list("pk", flat=True)
            .first()
        )
        return f"outbox:{found}" if found is not None else None

    def ticket_messages(self, number: int, *, since: dt.datetime | None = None) -> list[Message]:
        return []  # no helpdesk: no customer answers to read

    def add_tag(self, number: int, tag: str) -> None:
        self._record("tag", number, tag)

    def start_conversation(self, email: str, subject: str, body: str) -> int:
        message = OutboxMessage.objects.create(
            channel=OutboxMessage.Channel.HELPDESK,
            kind="new_ticket",
            recipient=email[:300],
            body=body,
            payload={"subject": subject, "to": email},
        )
        return 9_000_000_000 + int(message.pk)  # a stand-in ticket number that no Groove ticket has
