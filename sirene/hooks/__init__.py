"""Inbound webhooks (Slack, Twilio, Groove): an entry point that verifies, stores the delivery and calls a flow."""
