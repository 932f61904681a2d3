"""A local fake of Slack's Web API (chat.postMessage, chat.update, conversations.history) for tests
and benchmarks, plus builders for the real-shaped events Slack sends back."""

from __future__ import annotations

import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


class FakeSlack:
    """Start with `with FakeSlack() as slack:`; point the WebClient at `slack.base_url`."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        # method -> list of (http status, error code, retry-after) to answer with next, in order.
        self.failures: dict[str, list[tuple[int, str, int | None]]] = {}
        self.lock = threading.Lock()
        self._ts = itertools.count(1)
        self.channel_ids: dict[str, str] = {}
        # A slow Slack (issue 22): seconds to wait before answering, per method; and when each answer
        # left (method, time.monotonic()), to order it against the other fakes' requests.
        self.delays: dict[str, float] = {}
        self.answered: list[tuple[str, float]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8")
                if "json" in (self.headers.get("Content-Type") or ""):
                    args = json.loads(raw or "{}")
                else:
                    args = {k: v[-1] for k, v in parse_qs(raw).items()}
                method = self.path.rsplit("/", 1)[-1]
                if fake.delays.get(method):
                    time.sleep(fake.delays[method])
                status, body, headers = fake.handle(method, args, self.headers.get("Authorization", ""))
                with fake.lock:
                    fake.answered.append((method, time.monotonic()))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/"

    def __enter__(self) -> FakeSlack:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail_next(
        self, method: str, error: str, *, status: int = 200, retry_after: int | None = None
    ) -> None:
        with self.lock:
            self.failures.setdefault(method, []).append((status, error, retry_after))

    def channel_id(self, channel: str) -> str:
        if channel.startswith(("C", "D", "U")) and not channel.startswith("#"):
            return channel
        return self.channel_ids.setdefault(channel, f"C{len(self.channel_ids) + 1:08d}")

    def handle(
        self, method: str, args: dict[str, Any], auth: str
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self.lock:
            self.calls.append((method, args))
            queued = self.failures.get(method) or []
            if queued:
                status, error, retry_after = queued.pop(0)
                headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
                return status, {"ok": False, "error": error}, headers
            if not auth.startswith("Bearer "):
                return 200, {"ok": False, "error": "not_authed"}, {}
            invalid = self._invalid_blocks(args.get("blocks"))
            if method in ("chat.postMessage", "chat.update") and invalid:
                return 200, {"ok": False, "error": "invalid_blocks", "errors": [invalid]}, {}
            if method == "chat.postMessage":
                channel = self.channel_id(str(args.get("channel", "")))
                ts = f"{int(time.time())}.{next(self._ts):06d}"
                metadata = args.get("metadata")
                if isinstance(metadata, str):
                    metadata = json.loads(metadata)
                message = {
                    "type": "message",
                    "channel": channel,
                    "ts": ts,
                    "text": args.get("text", ""),
                    "blocks": args.get("blocks"),
                    "thread_ts": args.get("thread_ts"),
                    "metadata": metadata,
                    "bot_id": "B0SIRENE",
                }
                self.messages.append(message)
                return 200, {"ok": True, "channel": channel, "ts": ts, "message": message}, {}
            if method == "chat.update":
                channel = self.channel_id(str(args.get("channel", "")))
                found = [m for m in self.messages if m["ts"] == args.get("ts") and m["channel"] == channel]
                if not found:
                    return 200, {"ok": False, "error": "message_not_found"}, {}
                blocks = args.get("blocks")
                if isinstance(blocks, str):
                    blocks = json.loads(blocks)
                found[0]["text"] = args.get("text", "")
                found[0]["blocks"] = blocks
                self.updates.append(
                    {"channel": channel, "ts": args.get("ts"), "text": args.get("text", ""), "blocks": blocks}
                )
                return 200, {"ok": True, "channel": channel, "ts": args.get("ts")}, {}
            if method == "conversations.open":
                return 200, {"ok": True, "channel": {"id": self.channel_id(str(args.get("users", "")))}}, {}
            if method == "conversations.replies":
                channel = self.channel_id(str(args.get("channel", "")))
                parent = str(args.get("ts", ""))
                oldest = float(args.get("oldest") or 0)
                found = [
                    m
                    for m in self.messages
                    if m["channel"] == channel
                    and (m["ts"] == parent or m.get("thread_ts") == parent)
                    and float(m["ts"]) >= oldest
                ]
                return 200, {"ok": True, "channel": channel, "messages": found, "has_more": False}, {}
            if method == "conversations.history":
                channel = self.channel_id(str(args.get("channel", "")))
                oldest = float(args.get("oldest") or 0)
                found = [
                    m
                    for m in reversed(self.messages)
                    if m["channel"] == channel
                    and float(m["ts"]) >= oldest
                    and m.get("thread_ts") in (None, m["ts"])  # thread replies live in conversations.replies
                ]
                return 200, {"ok": True, "channel": channel, "messages": found, "has_more": False}, {}
            return 200, {"ok": False, "error": "unknown_method"}, {}

    @staticmethod
    def _invalid_blocks(blocks: Any) -> str:
        """Slack's limits: at most 50 blocks, a section's text at most 3000 characters."""
        if isinstance(blocks, str):
            blocks = json.loads(blocks or "[]")
        if not blocks:
            return ""
        if len(blocks) > 50:
            return "no more than 50 items allowed [json-pointer:/blocks]"
        for i, block in enumerate(blocks):
            text = (block.get("text") or {}).get("text", "") if isinstance(block, dict) else ""
            if len(text) > 3000:
                return f"must be less than 3001 characters [json-pointer:/blocks/{i}/text/text]"
        return ""

    def posted_to(self, channel: str) -> list[dict[str, Any]]:
        cid = self.channel_id(channel)
        return [m for m in self.messages if m["channel"] == cid]


def event_callback(event: dict[str, Any], event_id: str, *, team: str = "T0SIRENE") -> dict[str, Any]:
    return {
        "token": "deprecated-verification-token",
        "team_id": team,
        "api_app_id": "A0SIRENE",
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [{"team_id": team, "user_id": "U0BOT", "is_bot": True}],
    }


def reaction_added(channel: str, ts: str, user: str, reaction: str = "eyes") -> dict[str, Any]:
    return {
        "type": "reaction_added",
        "user": user,
        "reaction": reaction,
        "item_user": "U0BOT",
        "item": {"type": "message", "channel": channel, "ts": ts},
        "event_ts": f"{time.time():.6f}",
    }


def thread_reply(
    channel: str, thread_ts: str, user: str, text: str = "Ich schaue es mir an"
) -> dict[str, Any]:
    ts = f"{time.time():.6f}"
    return {
        "type": "message",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": ts,
        "thread_ts": thread_ts,
        "event_ts": ts,
        "channel_type": "channel",
    }


def block_action(channel: str, message_ts: str, user: str, action_id: str, value: str) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": "T0SIRENE"},
        "api_app_id": "A0SIRENE",
        "team": {"id": "T0SIRENE", "domain": "example"},
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": False,
        },
        "channel": {"id": channel, "name": "customer-success"},
        "message": {"type": "message", "ts": message_ts, "text": "…"},
        "response_url": "https://hooks.slack.com/actions/T0SIRENE/1/abc",
        "actions": [
            {
                "action_id": action_id,
                "block_id": "sirene_ack",
                "value": value,
                "type": "button",
                "action_ts": f"{time.time():.6f}",
                "text": {"type": "plain_text", "text": "Ich kümmere mich"},
            }
        ],
    }
