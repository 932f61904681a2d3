"""The helpdesk interface: the few things sirene needs from a helpdesk (Groove today).

Domain code (sirene.helpdesk) talks only to `Helpdesk`; a vendor module (groove.py; later zendesk.py or
helpscout.py) implements it and raises `integrations.base` errors that say whether a retry can help.
`helpdesk_client()` picks the implementation from the environment: without a token, replies and notes
are recorded in the outbox (demo, offline) and reads fail permanently with a clear message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


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
    created_at: datetime | None = None
    updated_at: datetime | None = None
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
    created_at: datetime | None = None
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

    def add_note(self, number: int, body: str) -> str:
        """Post a private note (agents only); returns the helpdesk's message id."""
        ...

    def reply(self, number: int, body: str) -> str:
        """Reply to the customer on the ticket; returns the helpdesk's message id."""
        ...

    def add_tag(self, number: int, tag: str) -> None: ...


def helpdesk_client() -> Helpdesk:
    """The configured helpdesk: Groove with SIRENE_GROOVE_TOKEN, else the outbox stand-in."""
    from django.conf import settings

    from sirene.integrations import groove  # noqa: PLC0415 (vendor module imports this one)

    if settings.GROOVE_TOKEN:
        return groove.GrooveHelpdesk(settings.GROOVE_TOKEN, settings.GROOVE_API_URL)
    return groove.OutboxHelpdesk()
