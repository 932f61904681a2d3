"""The lanes test drives a real escalation: the fake Slack/Twilio servers and the team from its tests."""

from __future__ import annotations

from sirene.escalation.tests.conftest import fake_slack, fake_twilio, team

__all__ = ["fake_slack", "fake_twilio", "team"]
