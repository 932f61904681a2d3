"""What every integration shares: the error type that says whether retrying can help, and every
interface and value type of the outside systems sirene talks to (chat, phone, helpdesk).

Domain code talks only to these Protocols; vendor modules (slack.py, twilio.py, groove.py) and the
outbox implement them and import only this module; `registry.py` picks one by settings.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol


class IntegrationError(Exception):
    """A call to an outside system failed.

    `permanent` means retrying cannot help (bad token, unknown channel, invalid number): stop and show
    it to an admin. Otherwise it is transient (timeout, 5xx, rate limit) and the worker retries, after
    `retry_after` seconds when the provider said so.
    """

    def __init__(
        self, message: str, *, permanent: bool, retry_after: float | None = None, provider: str = ""
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after
        self.provider = provider


class PermanentError(IntegrationError):
    def __init__(self, message: str, *, provider: str = "") -> None:
        super().__init__(message, permanent=True, provider=provider)


class TransientError(IntegrationError):
    def __init__(self, message: str, *, retry_after: float | None = None, provider: str = "") -> None:
        super().__init__(message, permanent=False, retry_after=retry_after, provider=provider)


# --- chat (Slack) ------------------------------------------------------------------------------

# The metadata event type sirene stamps on its own messages, so a restarted worker can find a
# message it posted but did not record (conversations.history with include_all_metadata).
METADATA_EVENT_TYPE = "sirene_escalation"


@dataclass(frozen=True)
class PostedMessage:
    channel: str
    ts: str


class ChatTransport(Protocol):
    name: str

    def post_message(
        self,
        channel: str,
        text: str,
        *,
        blocks: list[Any] | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> PostedMessage: ...

    def update_message(
        self, channel: str, ts: str, text: str, *, blocks: list[Any] | None = None
    ) -> None: ...

    def send_dm(
        self, slack_user_id: str, text: str, *, metadata: dict[str, Any] | None = None
    ) -> PostedMessage:
        """A direct message; `metadata` makes it findable again (reconciliation after a crash)."""
        ...

    def find_message(
        self, channel: str, *, key: str, value: str, oldest: dt.datetime, thread_ts: str | None = None
    ) -> PostedMessage | None:
        """The message in `channel` (in the thread of `thread_ts`, if given) since `oldest` whose
        metadata event_payload[key] == value."""
        ...


# --- phone (Twilio) ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PlacedCall:
    sid: str
    status: str


@dataclass(frozen=True)
class CallInfo:
    sid: str
    status: str
    to: str
    start_time: dt.datetime | None


class PhoneTransport(Protocol):
    name: str
    from_number: str

    def place_call(
        self, to: str, *, twiml: str, status_callback: str, ring_seconds: int = 30
    ) -> PlacedCall: ...

    def find_calls(self, to: str, *, since: dt.datetime) -> list[CallInfo]:
        """Calls from our number to `to` created at or after `since` (for reconciliation)."""
        ...


# --- helpdesk (Groove) -------------------------------------------------------------------------


@dataclass(frozen=True)
class Ticket:
    """A helpdesk ticket as the vendor's API returned it (the payload of a webhook is never trusted)."""

    number: int
    title: str
    state: str
    tags: list[str]
    customer_email: str
    customer_name: str = ""
    summary: str = ""
    url: str = ""  # the ticket in the helpdesk's own UI, for links
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_closed(self) -> bool:
        return self.state == "closed"


@dataclass(frozen=True)
class Message:
    id: str
    ticket_number: int | None
    body: str  # plain text
    note: bool  # a private note (agents only), not a message to/from the customer
    from_agent: bool
    author: str = ""
    created_at: dt.datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class TicketPage:
    tickets: list[Ticket]
    page: int
    next_page: int | None
    total_pages: int | None = None


class Helpdesk(Protocol):
    """One helpdesk account. Every method raises IntegrationError (permanent or transient) on failure."""

    provider: str
    configured: bool

    def fetch_ticket(self, number: int) -> Ticket: ...

    def fetch_message(self, message_id: str) -> Message: ...

    def list_tickets(self, *, page: int = 1, per_page: int = 50, customer: str = "") -> TicketPage: ...

    def customer_tickets(self, email: str, *, limit: int = 100) -> list[Ticket]: ...

    def add_note(self, number: int, body: str, *, marker: str = "") -> str:
        """Post a private note (agents only); returns the helpdesk's message id. `marker` makes it findable."""
        ...

    def reply(self, number: int, body: str, *, marker: str = "") -> str:
        """Reply to the customer on the ticket; returns the helpdesk's message id. `marker` makes it findable."""
        ...

    def find_posted(self, number: int, marker: str, *, since: dt.datetime | None = None) -> str | None:
        """The id of the message posted with `marker` on the ticket, or None when it is not there.

        Raises IntegrationError when the helpdesk cannot tell (permanent: no lookup is possible)."""
        ...

    def ticket_messages(self, number: int, *, since: dt.datetime | None = None) -> list[Message]:
        """The ticket's messages, newest first, paging back to `since` (sync of customers' answers)."""
        ...

    def add_tag(self, number: int, tag: str) -> None: ...

    def start_conversation(self, email: str, subject: str, body: str) -> int:
        """Open a new ticket to a customer who has none (the body is sent to them); returns its number."""
        ...
