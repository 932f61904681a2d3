"""Groove helpdesk, API v1 (REST) over httpx, and the outbox stand-in used when no token is configured.

Facts (../shared/INTEGRATIONS.md): Bearer token in the header (never in the query string); lists are
paginated with `meta.pagination.next_page` (at most 50 per page); `POST /tickets/:number/messages` with
`note: true` is a private note, else a reply to the customer; `GET /tickets/:number/messages` lists a ticket's
messages. Adding a tag has no confirmed v1 endpoint: it lives in one place (`TAG_PATH`) so it can be adjusted.

Crash safety: every reply and note sirene posts carries an invisible marker (an HTML comment, `MARKER`), so a
worker that died between Groove accepting a message and sirene recording it can find the message on the ticket
instead of posting it again. That Groove keeps HTML comments in `body` is unconfirmed; if it strips them the
lookup finds nothing and the reply is sent again, so the marker format lives here alone.

A POST is retried inline only when it certainly did not arrive (connection refused, 429): after a timeout or a
5xx Groove may have stored it, and the caller looks before it sends again.
"""

from __future__ import annotations

import html
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import httpx

from sirene.integrations.base import (
    IntegrationError,
    Message,
    PermanentError,
    Ticket,
    TicketPage,
    TransientError,
)

log = logging.getLogger(__name__)

PROVIDER = "groove"
PER_PAGE_MAX = 50
TAG_PATH = "/tickets/{number}/tags"  # unconfirmed in v1; see module docstring
# A Retry-After longer than this is not waited out inside one call: the caller (the worker) gets a
# TransientError with retry_after and schedules the next attempt instead of blocking every other job.
MAX_INLINE_WAIT_SECONDS = 10.0
CONNECT_TIMEOUT = 5.0
MARKER = "<!-- sirene:{marker} -->"
# How far back a lookup pages through a ticket's messages (newest first, 50 a page).
LOOKUP_PAGES = 4


def parse_time(value: Any) -> datetime | None:
    """Groove sends "2017-12-14 20:09:19 +0530" and "2017-12-14 15:54:26 UTC" (and ISO 8601 in places)."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(" UTC"):
        text = text[:-4] + " +0000"
    for fmt in ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z"):
        try:
            return datetime.strptime(text.replace("Z", "+0000"), fmt)
        except ValueError:
            continue
    return None


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def last_path_segment(href: Any) -> str:
    """…/v1/customers/rambo@example.com → rambo@example.com (the only place a ticket names its customer)."""
    if not isinstance(href, str) or not href:
        return ""
    return unquote(urlparse(href).path.rstrip("/").rsplit("/", 1)[-1])


def ticket_from_json(data: dict[str, Any]) -> Ticket:
    """A Ticket from Groove's ticket JSON (API response, or the body of a ticket webhook)."""
    if not isinstance(data, dict):
        raise ValueError("ticket: must be an object")
    number = data.get("number", data.get("ticket_number"))
    if isinstance(number, str) and number.isdigit():
        number = int(number)
    if not isinstance(number, int) or isinstance(number, bool) or number <= 0:
        raise ValueError("ticket.number: must be a positive integer")
    links = _obj(data.get("links"))
    customer_link = _obj(links.get("customer"))
    email = last_path_segment(customer_link.get("href"))
    if not email and isinstance(data.get("customer"), dict):
        email = str(data["customer"].get("email") or "")
    tags = [str(t) for t in data.get("tags") or [] if isinstance(t, (str, int))]
    return Ticket(
        number=number,
        title=str(data.get("title") or ""),
        state=str(data.get("state") or ""),
        tags=tags,
        customer_email=email.strip().lower(),
        customer_name=str(data.get("customer_name") or ""),
        summary=str(data.get("last_message_plain_text") or data.get("summary") or ""),
        url=str(data.get("app_url") or ""),
        created_at=parse_time(data.get("created_at")),
        updated_at=parse_time(data.get("updated_at")),
        raw=data,
    )


def ticket_number_from_href(href: Any) -> int | None:
    segment = last_path_segment(href)
    return int(segment) if segment.isdigit() else None


def message_from_json(data: dict[str, Any]) -> Message:
    if not isinstance(data, dict):
        raise ValueError("message: must be an object")
    message_id = data.get("id")
    if not isinstance(message_id, (str, int)) or isinstance(message_id, bool) or not str(message_id):
        raise ValueError("message.id: must be a string")
    links = _obj(data.get("links"))
    ticket_link = _obj(links.get("ticket"))
    author_link = _obj(links.get("author"))
    return Message(
        id=str(message_id),
        ticket_number=ticket_number_from_href(ticket_link.get("href")),
        body=str(data.get("plain_text_body") or data.get("body") or ""),
        note=bool(data.get("note")),
        from_agent=bool(data.get("agent_response")),
        author=last_path_segment(author_link.get("href")),
        created_at=parse_time(data.get("created_at")),
        raw=data,
    )


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class GrooveHelpdesk:
    provider = PROVIDER
    configured = True

    def __init__(
        self,
        token: str,
        base_url: str,
        *,
        retries: int = 2,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
        timeout: float | None = None,
    ) -> None:
        if not token:
            raise PermanentError("SIRENE_GROOVE_TOKEN is not set", provider=PROVIDER)
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.backoff = backoff
        self.sleep = sleep
        self._client = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=httpx.Timeout(timeout if timeout is not None else 10.0, connect=CONNECT_TIMEOUT),
            transport=transport,
            follow_redirects=False,
        )

    # -- the one request path: retries, error classification --------------------------------------

    def _request(self, method: str, path: str, *, idempotent: bool = True, **kwargs: Any) -> dict[str, Any]:
        attempt = 0
        while True:
            safe = idempotent  # may this try be repeated inline?
            try:
                response = self._client.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                # A timeout is transient like any transport error; only a refused connection proves the
                # request never arrived.
                error: IntegrationError = TransientError(
                    f"Groove {method} {path}: {type(exc).__name__}", provider=PROVIDER
                )
                wait = self.backoff * (2**attempt)
                safe = idempotent or isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
            else:
                if response.status_code < 300:
                    return self._json(response, method, path)
                if response.status_code == 429 or response.status_code >= 500:
                    retry_after = _retry_after(response)
                    error = TransientError(
                        f"Groove {method} {path}: HTTP {response.status_code}",
                        retry_after=retry_after,
                        provider=PROVIDER,
                    )
                    wait = retry_after if retry_after is not None else self.backoff * (2**attempt)
                    safe = idempotent or response.status_code == 429
                else:
                    # 401 bad token, 403, 404 unknown ticket, 422 invalid: retrying cannot help.
                    raise PermanentError(
                        f"Groove {method} {path}: HTTP {response.status_code} {_error_text(response)}",
                        provider=PROVIDER,
                    )
            if not safe or attempt >= self.retries or wait > MAX_INLINE_WAIT_SECONDS:
                raise error
            log.info("Groove %s %s failed (%s); retrying in %.1fs", method, path, error, wait)
            self.sleep(wait)
            attempt += 1

    @staticmethod
    def _json(response: httpx.Response, method: str, path: str) -> dict[str, Any]:
        if not response.content:
            return {}
        try:
            data = response.json()
        except ValueError:
            raise TransientError(f"Groove {method} {path}: response is not JSON", provider=PROVIDER) from None
        if not isinstance(data, dict):
            raise PermanentError(f"Groove {method} {path}: unexpected response shape", provider=PROVIDER)
        return data

    # -- the interface ------------------------------------------------------------------------------

    def fetch_ticket(self, number: int) -> Ticket:
        data = self._request("GET", f"/tickets/{int(number)}")
        try:
            return ticket_from_json(data.get("ticket", data))
        except ValueError as exc:
            raise PermanentError(f"Groove ticket {number}: {exc}", provider=PROVIDER) from None

    def fetch_message(self, message_id: str) -> Message:
        data = self._request("GET", f"/messages/{message_id}")
        try:
            return message_from_json(data.get("message", data))
        except ValueError as exc:
            raise PermanentError(f"Groove message {message_id}: {exc}", provider=PROVIDER) from None

    def list_tickets(self, *, page: int = 1, per_page: int = PER_PAGE_MAX, customer: str = "") -> TicketPage:
        params: dict[str, Any] = {"page": page, "per_page": min(per_page, PER_PAGE_MAX)}
        if customer:
            params["customer"] = customer
        data = self._request("GET", "/tickets", params=params)
        tickets = []
        for item in data.get("tickets") or []:
            try:
                tickets.append(ticket_from_json(item))
            except ValueError as exc:
                log.warning("skipping a malformed ticket in Groove's list: %s", exc)
        pagination = (data.get("meta") or {}).get("pagination") or {}
        return TicketPage(
            tickets=tickets,
            page=page,
            next_page=_next_page(pagination.get("next_page")),
            total_pages=pagination.get("total_pages")
            if isinstance(pagination.get("total_pages"), int)
            else None,
        )

    def customer_tickets(self, email: str, *, limit: int = 100) -> list[Ticket]:
        found: list[Ticket] = []
        page: int | None = 1
        while page is not None and len(found) < limit:
            result = self.list_tickets(page=page, customer=email)
            found.extend(result.tickets)
            page = result.next_page if result.next_page and result.next_page > page else None
        return found[:limit]

    def _post_message(self, number: int, body: str, *, note: bool, marker: str) -> str:
        # Groove reads a message body as HTML; ours is plain text with customer values (name, subject) in
        # it: escaped here, once for every reply and note, so no value can become markup (review F13).
        body = html.escape(body, quote=False)
        if marker:
            body = f"{body}\n\n{MARKER.format(marker=marker)}"
        data = self._request(
            "POST", f"/tickets/{int(number)}/messages", idempotent=False, json={"body": body, "note": note}
        )
        message = data.get("message", data)
        return str(message.get("id") or message.get("href") or "") if isinstance(message, dict) else ""

    def add_note(self, number: int, body: str, *, marker: str = "") -> str:
        return self._post_message(number, body, note=True, marker=marker)

    def reply(self, number: int, body: str, *, marker: str = "") -> str:
        return self._post_message(number, body, note=False, marker=marker)

    def find_posted(self, number: int, marker: str, *, since: datetime | None = None) -> str | None:
        """The id of the message on the ticket that carries `marker`, or None (pages back to `since`)."""
        stamp = MARKER.format(marker=marker)
        page: int | None = 1
        while page is not None and page <= LOOKUP_PAGES:
            data = self._request(
                "GET", f"/tickets/{int(number)}/messages", params={"page": page, "per_page": PER_PAGE_MAX}
            )
            items = [m for m in data.get("messages") or [] if isinstance(m, dict)]
            for item in items:
                if stamp in str(item.get("body") or ""):
                    return str(item.get("id") or item.get("href") or "found")
            pagination = (data.get("meta") or {}).get("pagination") or {}
            next_page = _next_page(pagination.get("next_page"))
            oldest = min((t for t in (parse_time(m.get("created_at")) for m in items) if t), default=None)
            if since is not None and oldest is not None and oldest < since - timedelta(minutes=5):
                return None  # paged back past the send: it is not there
            page = next_page if next_page and next_page > page else None
        return None

    def ticket_messages(self, number: int, *, since: datetime | None = None) -> list[Message]:
        """The ticket's messages, newest first, paging back to `since` (at most LOOKUP_PAGES pages)."""
        out: list[Message] = []
        page: int | None = 1
        while page is not None and page <= LOOKUP_PAGES:
            data = self._request(
                "GET", f"/tickets/{int(number)}/messages", params={"page": page, "per_page": PER_PAGE_MAX}
            )
            items = [m for m in data.get("messages") or [] if isinstance(m, dict)]
            for item in items:
                try:
                    out.append(message_from_json(item))
                except ValueError:
                    continue
            pagination = (data.get("meta") or {}).get("pagination") or {}
            next_page = _next_page(pagination.get("next_page"))
            oldest = min((m.created_at for m in out if m.created_at), default=None)
            if since is not None and oldest is not None and oldest < since:
                break
            page = next_page if next_page and next_page > page else None
        return out

    def add_tag(self, number: int, tag: str) -> None:
        self._request("POST", TAG_PATH.format(number=int(number)), json={"tags": [tag]})

    def start_conversation(self, email: str, subject: str, body: str) -> int:
        """Groove API v1 `POST /tickets`: from our mailbox to the customer, with a copy sent to them."""
        from django.conf import settings

        payload = {
            "body": body,
            "from": settings.GROOVE_MAILBOX or "Inbox",
            "to": email,
            "subject": subject,
            "send_copy_to_customer": True,
            "state": "pending",
        }
        data = self._request("POST", "/tickets", json=payload)
        try:
            return ticket_from_json(data.get("ticket", data)).number
        except ValueError as exc:
            raise PermanentError(f"Groove POST /tickets: {exc}", provider=PROVIDER) from None


def _next_page(value: Any) -> int | None:
    """`next_page` is a URL (…/tickets?page=3&per_page=50) or null. Only its page number is used: the
    token is never sent to a host other than the configured one."""
    if isinstance(value, int):
        return value
    if not isinstance(value, str) or not value:
        return None
    pages = parse_qs(urlparse(value).query).get("page")
    return int(pages[0]) if pages and pages[0].isdigit() else None


def _error_text(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(data, dict):
        return str(data.get("errors") or data.get("error") or data)[:200]
    return str(data)[:200]
