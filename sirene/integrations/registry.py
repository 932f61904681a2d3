"""The configured integrations, chosen by settings: the vendor when it is configured, else the outbox
(demo, offline), which records what would have been sent."""

from __future__ import annotations

from django.conf import settings

from sirene.integrations.base import ChatTransport, Helpdesk, PhoneTransport
from sirene.integrations.groove import GrooveHelpdesk
from sirene.integrations.outbox import OutboxChatTransport, OutboxHelpdesk, OutboxPhoneTransport
from sirene.integrations.slack import SlackTransport
from sirene.integrations.twilio import TwilioTransport


def chat_transport() -> ChatTransport:
    """Slack when a token is set, else the outbox."""
    if settings.SLACK_TOKEN:
        return SlackTransport(settings.SLACK_TOKEN, settings.SLACK_API_URL)
    return OutboxChatTransport()


def phone_transport() -> PhoneTransport:
    """Twilio when account, token and number are set, else the outbox."""
    if settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN and settings.TWILIO_FROM_NUMBER:
        return TwilioTransport(
            settings.TWILIO_ACCOUNT_SID,
            settings.TWILIO_AUTH_TOKEN,
            settings.TWILIO_FROM_NUMBER,
            settings.TWILIO_API_URL,
        )
    return OutboxPhoneTransport()


def helpdesk_client() -> Helpdesk:
    """Groove with SIRENE_GROOVE_TOKEN, else the outbox stand-in (replies and notes recorded, reads
    fail permanently with a clear message)."""
    if settings.GROOVE_TOKEN:
        return GrooveHelpdesk(
            settings.GROOVE_TOKEN, settings.GROOVE_API_URL, timeout=settings.OUTBOUND_TIMEOUT_SECONDS
        )
    return OutboxHelpdesk()
