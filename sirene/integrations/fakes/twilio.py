"""A local fake of Twilio's Calls API (create + list) for tests and benchmarks, plus the real-shaped
status-callback and Gather parameters Twilio posts back."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class FakeTwilio:
    def __init__(self, account_sid: str = "AC" + "0" * 32) -> None:
        self.account_sid = account_sid
        self.calls: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self._n = itertools.count(1)
        self.fail_status: list[tuple[int, int]] = []  # (http status, twilio error code) for next creates
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[-1] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if not self.path.endswith("/Calls.json"):
                    return self._reply(404, {"code": 20404, "message": "not found", "status": 404})
                status, body = fake.create(form)
                self._reply(status, body)

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if not parts.path.endswith("/Calls.json"):
                    return self._reply(404, {"code": 20404, "message": "not found", "status": 404})
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                self._reply(200, fake.list_calls(query, parts.path))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeTwilio:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _instance(self, call: dict[str, Any]) -> dict[str, Any]:
        fmt = "%a, %d %b %Y %H:%M:%S +0000"
        return {
            "sid": call["sid"],
            "account_sid": self.account_sid,
            "to": call["to"],
            "from": call["from"],
            "status": call["status"],
            "direction": "outbound-api",
            "date_created": call["created"].strftime(fmt),
            "start_time": call["created"].strftime(fmt),
            "end_time": None,
            "api_version": "2010-04-01",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls/{call['sid']}.json",
        }

    def create(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            if self.fail_status:
                status, code = self.fail_status.pop(0)
                return status, {"code": code, "message": "fake failure", "status": status}
            for field in ("To", "From"):
                if not form.get(field):
                    return 400, {"code": 21201, "message": f"No '{field}' number is specified", "status": 400}
            call = {
                "sid": f"CA{next(self._n):032x}",
                "to": form["To"],
                "from": form["From"],
                "status": "queued",
                "created": dt.datetime.now(dt.UTC),
                "received_monotonic": time.monotonic(),  # for ordering against the other fakes
                "params": form,
            }
            self.calls.append(call)
            return 201, self._instance(call)

    def list_calls(self, query: dict[str, str], path: str) -> dict[str, Any]:
        with self.lock:
            found = [
                c
                for c in self.calls
                if (not query.get("To") or c["to"] == query["To"])
                and (not query.get("From") or c["from"] == query["From"])
            ]
            return {
                "calls": [self._instance(c) for c in reversed(found)],
                "first_page_uri": path,
                "next_page_uri": None,
                "previous_page_uri": None,
                "page": 0,
                "page_size": 50,
                "uri": path,
            }

    def calls_to(self, number: str) -> list[dict[str, Any]]:  # noqa: D102
        return [c for c in self.calls if c["to"] == number]

    def status_params(self, call: dict[str, Any], status: str, *, answered_by: str = "") -> dict[str, str]:
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": call["sid"],
            "CallStatus": status,
            "Called": call["to"],
            "Caller": call["from"],
            "Direction": "outbound-api",
            "From": call["from"],
            "To": call["to"],
            "Timestamp": dt.datetime.now(dt.UTC).strftime("%a, %d %b %Y %H:%M:%S +0000"),
            "CallbackSource": "call-progress-events",
            "SequenceNumber": "0",
        }
        if status == "completed":
            params["CallDuration"] = "25"
        if answered_by:
            params["AnsweredBy"] = answered_by
        return params

    def gather_params(self, call: dict[str, Any], digits: str) -> dict[str, str]:
        params = self.status_params(call, "in-progress")
        params.pop("CallbackSource")
        params.pop("SequenceNumber")
        params.pop("Timestamp")
        params["Digits"] = digits
        params["FinishedOnKey"] = ""
        return params
