from sirene.escalation.tests.conftest import fake_slack, start, team  # noqa: F401  (shared fixtures)
