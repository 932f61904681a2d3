"""Slack: the one place sirene talks to Slack (chat.postMessage, chat.update, conversations.history).

`chat_transport()` returns the WebClient transport when `SIRENE_SLACK_TOKEN` is set (base URL from
`SIRENE_SLACK_API_URL`, so tests point it at a local fake), otherwise the outbox transport that only
records what would have been sent. Errors come out as `IntegrationError` (permanent or transient, with
the Retry-After of a 429), never as slack_sdk types, so callers never reach into the vendor.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.signature import Clock, SignatureVerifier

from sirene.core import clock
from sirene.integrations.base import (
    METADATA_EVENT_TYPE,
    IntegrationError,
    PermanentError,
    PostedMessage,
    TransientError,
)

# Slack error codes after which retrying cannot help: an admin must fix the token, scope or channel.
PERMANENT_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "no_permission",
        "missing_scope",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "user_not_found",
        "cant_update_message",
        "message_not_found",
        "invalid_blocks",
        "msg_too_long",
        "restricted_action",
        "ekm_access_denied",
    }
)


def escape(text: str) -> str:
    """Slack's required escaping of & < > in user-supplied text (mentions are added after).

    With these three escaped, `<!channel>`, `<@U123>` and `<https://evil|label>` from a customer
    are shown as typed and never become mentions or disguised links. Every customer-derived
    text in any message (posts, DMs, tasks, reminders) goes through here.
    """
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _error_from(exc: SlackClientError | OSError) -> IntegrationError:
    if isinstance(exc, OSError):
        # A timeout (TimeoutError), a refused or reset connection, DNS: transient, the caller retries.
        return TransientError(f"slack: {type(exc).__name__}: {exc}", provider="slack")
    if isinstance(exc, SlackApiError):
        response = exc.response
        status = getattr(response, "status_code", 0)
        code = ""
        try:
            code = str(response.get("error") or "")
        except Exception:  # a non-JSON body (proxy error page)
            code = ""
        if status == 429 or code == "ratelimited":
            headers = getattr(response, "headers", {}) or {}
            raw = headers.get("Retry-After") or headers.get("retry-after") or "1"
            try:
                retry_after = float(raw[0] if isinstance(raw, list) else raw)
            except ValueError:
                retry_after = 1.0
            return TransientError("slack: rate limited (429)", retry_after=retry_after, provider="slack")
        if code in PERMANENT_ERRORS:
            return PermanentError(f"slack: {code}", provider="slack")
        if status and 400 <= status < 500 and status not in (408, 429):
            return PermanentError(f"slack: HTTP {status} {code}".strip(), provider="slack")
        return TransientError(f"slack: {code or f'HTTP {status}'}", provider="slack")
    return TransientError(f"slack: {exc}", provider="slack")


class SlackTransport:
    """slack_sdk.WebClient behind the ChatTransport interface.

    429s are not slept on here: they surface as TransientError(retry_after=…) and the caller (the
    escalation worker) schedules the retry, so one rate-limited channel never blocks a worker.
    """

    name = "slack"

    def __init__(self, token: str, base_url: str) -> None:
        if not base_url.endswith("/"):
            base_url += "/"
        # An explicit timeout: a hung connection must end as a transient error, never block a lane. No
        # retries inside the SDK (its default retries a reset connection, which can post twice): the
        # escalation worker retries after looking the message up by its metadata.
        self.client = WebClient(
            token=token,
            base_url=base_url,
            timeout=max(1, round(settings.OUTBOUND_TIMEOUT_SECONDS)),
            retry_handlers=[],
        )

    def post_message(
        self,
        channel: str,
        text: str,
        *,
        blocks: list[Any] | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> PostedMessage:
        kwargs: dict[str, Any] = {"channel": channel, "text": text}
        if blocks:
            kwargs["blocks"] = blocks
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        if metadata:
            kwargs["metadata"] = {"event_type": METADATA_EVENT_TYPE, "event_payload": metadata}
        try:
            response = self.client.chat_postMessage(**kwargs)
        except (SlackClientError, OSError) as exc:
            raise _error_from(exc) from exc
        return PostedMessage(channel=str(response.get("channel") or channel), ts=str(response["ts"]))

    def update_message(self, channel: str, ts: str, text: str, *, blocks: list[Any] | None = None) -> None:
        try:
            if channel.startswith(("U", "W")):
                # A direct message was posted to a user id: chat.update needs its IM channel (D…).
                opened = self.client.conversations_open(users=channel)
                channel = str((opened.get("channel") or {}).get("id") or channel)
            self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks or [])
        except (SlackClientError, OSError) as exc:
            raise _error_from(exc) from exc

    def send_dm(
        self, slack_user_id: str, text: str, *, metadata: dict[str, Any] | None = None
    ) -> PostedMessage:
        # Posting to a user id opens (or reuses) the app's direct-message channel with that user.
        return self.post_message(slack_user_id, text, metadata=metadata)

    def find_message(
        self, channel: str, *, key: str, value: str, oldest: dt.datetime, thread_ts: str | None = None
    ) -> PostedMessage | None:
        try:
            if channel.startswith(("U", "W")):
                # A direct message: its history lives in the IM channel (D…) with that user.
                opened = self.client.conversations_open(users=channel)
                channel = str((opened.get("channel") or {}).get("id") or channel)
            if thread_ts:
                # Thread replies are not in the channel's history, only in conversations.replies.
                response = self.client.conversations_replies(
                    channel=channel,
                    ts=thread_ts,
                    oldest=f"{oldest.timestamp() - 60:.6f}",
                    include_all_metadata=True,
                    limit=200,
                )
            else:
                response = self.client.conversations_history(
                    channel=channel,
                    oldest=f"{oldest.timestamp() - 60:.6f}",
                    include_all_metadata=True,
                    limit=200,
                )
        except (SlackClientError, OSError) as exc:
            raise _error_from(exc) from exc
        for message in response.get("messages") or []:
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if str(payload.get(key, "")) == value:
                return PostedMessage(channel=str(response.get("channel") or channel), ts=str(message["ts"]))
        return None


def verify_signature(body: bytes, headers: dict[str, str]) -> bool:
    """Slack's v0 HMAC signature over the raw body, refused when over 5 minutes off sirene's clock."""
    secret = settings.SLACK_SIGNING_SECRET
    if not secret:
        return False
    verifier = SignatureVerifier(secret, clock=_SlackClock())
    try:
        return verifier.is_valid_request(body, headers)
    except ValueError:  # a timestamp header that is not a number
        return False


def sign(body: bytes, timestamp: int | None = None, secret: str | None = None) -> dict[str, str]:
    """Headers Slack would send with `body` (for tests, the fake server and local tools)."""
    secret = secret if secret is not None else settings.SLACK_SIGNING_SECRET
    ts = str(int(clock.now().timestamp()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body) or ""
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}


class _SlackClock(Clock):
    """slack_sdk's Clock interface backed by sirene's one clock, so tests move the 5-minute window."""

    def now(self) -> float:
        return clock.now().timestamp()
