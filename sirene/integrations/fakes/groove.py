"""A fake Groove API v1 on 127.0.0.1 for tests and benchmarks.

Speaks the real paths and shapes: `GET /v1/tickets/:number` → {"ticket": …}, `GET /v1/tickets?customer=&page=&
per_page=` → {"tickets": […], "meta": {"pagination": {…, "next_page": URL|null}}}, `GET /v1/messages/:id`,
`POST /v1/tickets/:number/messages` ({body, note}) → 201 {"message": …}, `GET /v1/tickets/:number/messages?page=&
per_page=` → {"messages": [newest first], "meta": {"pagination": …}}. A posted message keeps its `body` as sent
(HTML, comments included) and gets a `plain_text_body` with the markup stripped, as Groove does; `created_at`
comes from sirene's clock so tests that move time see consistent stamps.

Faults: `fail_next(n, status, retry_after)` answers the next n requests with that status; `broken_tickets[number]
= status` makes posting to those tickets fail until removed; `messages_status = 404` makes the messages list
fail; `hang = True` accepts connections and never answers (until `stop()`), like a stuck load balancer.
Every request is kept in `requests` for assertions.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlparse

from sirene.core import clock

API = "https://api.groovehq.com/v1"
_TAGS = re.compile(r"<!--.*?-->|<[^>]+>", re.S)


def _stamp() -> str:
    return clock.now().strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    ok: bool = False


@dataclass
class FakeGroove:
    token: str = "groove-test-token"
    tickets: dict[int, dict[str, Any]] = field(default_factory=dict)
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    broken_tickets: dict[int, int] = field(default_factory=dict)
    messages_status: int | None = None
    hang: bool = False
    _released: threading.Event = field(default_factory=threading.Event)
    _faults: list[tuple[int, float | None]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _next_message: int = 5_000_000_000

    # -- set-up helpers --------------------------------------------------------------------------

    def add_ticket(
        self,
        number: int,
        *,
        email: str,
        title: str = "Problem",
        text: str = "",
        tags: list[str] | None = None,
        state: str = "opened",
        name: str = "",
        created_at: str = "2026-11-20 09:00:00 UTC",
        updated_at: str | None = None,
    ) -> dict[str, Any]:
        ticket = {
            "created_at": created_at,
            "href": f"{API}/tickets/{number}",
            "links": {
                "customer": {"id": str(1000 + number), "href": f"{API}/customers/{quote(email)}"},
                "messages": {"href": f"{API}/tickets/{number}/messages"},
                "state": {"href": f"{API}/tickets/{number}/state"},
            },
            "number": number,
            "priority": "low",
            "state": state,
            "title": title,
            "updated_at": updated_at or created_at,
            "tags": list(tags or []),
            "tag_ids": [],
            "mailbox": "Inbox",
            "message_count": 1,
            "summary": text[:100],
            "last_message_plain_text": text,
            "assignee": None,
            "app_url": f"https://example.groovehq.com/groove_client/tickets/{number}",
            "customer_name": name,
        }
        with self._lock:
            self.tickets[number] = ticket
        return ticket

    def add_message(
        self, number: int, text: str, *, email: str, note: bool = False, html: str | None = None
    ) -> dict[str, Any]:
        """A message on a ticket: `text` from a customer (wrapped in <p>), or `html` as an agent posted it."""
        with self._lock:
            self._next_message += 1
            message_id = str(self._next_message)
        body = html if html is not None else f"<p>{text}</p>"
        message = {
            "links": {
                "author": {"href": f"{API}/customers/{quote(email)}"},
                "ticket": {"href": f"{API}/tickets/{number}"},
            },
            "created_at": _stamp(),
            "updated_at": _stamp(),
            "note": note,
            "id": message_id,
            "body": body,
            "href": f"{API}/messages/{message_id}",
            "plain_text_body": _TAGS.sub("", body).strip() if html is not None else text,
            "agent_response": False,
            "attachments": [],
        }
        with self._lock:
            self.messages[message_id] = message
        return message

    def ticket_messages(self, number: int) -> list[dict[str, Any]]:
        """The ticket's messages, newest first (Groove's order)."""
        href = f"{API}/tickets/{number}"
        with self._lock:
            found = [m for m in self.messages.values() if m["links"]["ticket"]["href"] == href]
        return sorted(found, key=lambda m: -int(m["id"]))

    def fail_next(self, count: int, status: int = 500, retry_after: float | None = None) -> None:
        with self._lock:
            self._faults.extend([(status, retry_after)] * count)

    def posted(self, number: int | None = None, *, note: bool | None = None) -> list[Recorded]:
        """Successful POSTs of messages (replies and notes), optionally for one ticket."""
        return [
            r
            for r in self.requests
            if r.method == "POST"
            and r.path.endswith("/messages")
            and r.ok
            and (number is None or r.path == f"/v1/tickets/{number}/messages")
            and (note is None or bool(r.body.get("note")) == note)
        ]

    # -- server ----------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def start(self) -> FakeGroove:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parsed = urlparse(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = None
        record = Recorded(method, parsed.path, parse_qs(parsed.query), dict(handler.headers.items()), body)
        with self._lock:
            self.requests.append(record)
        if self.hang:
            self._released.wait()  # never answers while the test runs
            return
        with self._lock:
            fault = self._faults.pop(0) if self._faults else None
        if handler.headers.get("Authorization") != f"Bearer {self.token}":
            return self._send(handler, 401, {"errors": "Unauthorized"})
        if fault is not None:
            status, retry_after = fault
            headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
            return self._send(handler, status, {"errors": "fault"}, headers)
        status, payload = self._route(method, parsed.path, record)
        record.ok = status < 300
        self._send(handler, status, payload)

    def _route(self, method: str, path: str, record: Recorded) -> tuple[int, dict[str, Any]]:
        parts = path.strip("/").split("/")
        if parts[:1] != ["v1"]:
            return 404, {"errors": "Not found"}
        parts = parts[1:]
        if method == "GET" and parts == ["tickets"]:
            return 200, self._list(record.query)
        if method == "POST" and parts == ["tickets"]:
            return self._create(record.body)
        if len(parts) >= 2 and parts[0] == "tickets" and parts[1].isdigit():
            number = int(parts[1])
            ticket = self.tickets.get(number)
            if ticket is None:
                return 404, {"errors": "Ticket not found"}
            if method == "GET" and len(parts) == 2:
                return 200, {"ticket": ticket}
            if method == "GET" and parts[2:] == ["messages"]:
                if self.messages_status is not None:
                    return self.messages_status, {"errors": "messages unavailable"}
                return 200, self._paginate(
                    "messages", self.ticket_messages(number), record.query, f"{API}/tickets/{number}/messages"
                )
            if method == "POST" and parts[2:] == ["messages"]:
                if number in self.broken_tickets:
                    return self.broken_tickets[number], {"errors": "broken"}
                if not isinstance(record.body, dict) or not str(record.body.get("body") or "").strip():
                    return 422, {"errors": {"body": ["can't be blank"]}}
                message = self.add_message(
                    number,
                    "",
                    email="agent@example.com",
                    note=bool(record.body.get("note")),
                    html=str(record.body["body"]),
                )
                message["agent_response"] = True
                return 201, {"message": message}
            if method == "POST" and parts[2:] == ["tags"]:
                added = record.body.get("tags", []) if isinstance(record.body, dict) else []
                ticket["tags"] = sorted({*ticket["tags"], *added})
                return 200, {"ticket": ticket}
        if method == "GET" and len(parts) == 2 and parts[0] == "messages":
            found = self.messages.get(parts[1])
            return (200, {"message": found}) if found else (404, {"errors": "Message not found"})
        return 404, {"errors": "Not found"}

    def _create(self, body: Any) -> tuple[int, dict[str, Any]]:
        """`POST /v1/tickets` (body, from, to required): a new ticket whose first message is `body`."""
        if not isinstance(body, dict):
            return 400, {"errors": "invalid JSON"}
        missing = [k for k in ("body", "from", "to") if not str(body.get(k) or "").strip()]
        if missing:
            return 422, {"errors": {k: ["can't be blank"] for k in missing}}
        with self._lock:
            number = max([*self.tickets, 100_000]) + 1
        email = str(body["to"])
        ticket = self.add_ticket(number, email=email, title=str(body.get("subject") or ""), text=str(body["body"]),
                                 state=str(body.get("state") or "pending"))
        message = self.add_message(number, str(body["body"]), email="agent@example.com")
        message["agent_response"] = True
        ticket["created_by_agent"] = True
        return 201, {"ticket": ticket}

    def created(self) -> list[Recorded]:
        """Successful `POST /v1/tickets` (new conversations started by sirene)."""
        return [r for r in self.requests if r.method == "POST" and r.path == "/v1/tickets" and r.ok]

    def _list(self, query: dict[str, list[str]]) -> dict[str, Any]:
        customer = (query.get("customer") or [""])[0]
        items = sorted(self.tickets.values(), key=lambda t: -int(t["number"]))
        if customer:
            items = [t for t in items if t["links"]["customer"]["href"].rsplit("/", 1)[-1] == quote(customer)]
        return self._paginate("tickets", items, query, f"{API}/tickets")

    @staticmethod
    def _paginate(
        key: str, items: list[dict[str, Any]], query: dict[str, list[str]], url: str
    ) -> dict[str, Any]:
        page = int((query.get("page") or ["1"])[0])
        per_page = min(50, int((query.get("per_page") or ["25"])[0]))
        total_pages = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        next_page = f"{url}?page={page + 1}&per_page={per_page}" if page < total_pages else None
        return {
            key: chunk,
            "meta": {
                "pagination": {
                    "current_page": page,
                    "total_pages": total_pages,
                    "total_count": len(items),
                    "next_page": next_page,
                    "prev_page": None,
                }
            },
        }

    @staticmethod
    def _send(
        handler: BaseHTTPRequestHandler,
        status: int,
        payload: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> None:
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)
