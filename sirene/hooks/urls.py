"""Inbound webhooks: /hooks/slack/…, /hooks/twilio/…, /hooks/groove/<secret>.

An entry point: each view verifies the request, stores the `WebhookDelivery` (dedupe) and calls a flow
(or leaves the delivery for the worker). `integrations/` keeps the signature checks and the parsers."""

from __future__ import annotations

from sirene.hooks import groove, slack, twilio

urlpatterns = [*slack.urlpatterns, *twilio.urlpatterns, *groove.urlpatterns]
