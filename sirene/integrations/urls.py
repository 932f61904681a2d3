"""Inbound webhooks: /hooks/slack/…, /hooks/twilio/…, /hooks/groove/<secret>."""

from __future__ import annotations

from sirene.integrations import groove_hooks, slack_hooks, twilio_hooks

urlpatterns = [*slack_hooks.urlpatterns, *twilio_hooks.urlpatterns, *groove_hooks.urlpatterns]
