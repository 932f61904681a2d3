"""`sirene demo`: the demo data set. The loaders live in each app's `demo.py` and are registered here,
the composition root, and nowhere else (a missing loader is an import error, never skipped)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from sirene.cases import demo as cases_demo
from sirene.escalation import demo as escalation_demo
from sirene.helpdesk import demo as helpdesk_demo
from sirene.incidents import demo as incidents_demo
from sirene.knowledge import demo as knowledge_demo
from sirene.troubleshooting import demo as troubleshooting_demo

# The order makes later steps see earlier data (known problems and escalation policy before cases,
# so incoming demo cases get suggestions and incidents).
LOADERS: list[Callable[[Any], None]] = [
    knowledge_demo.load,
    escalation_demo.load,
    cases_demo.load,
    incidents_demo.load,
    troubleshooting_demo.load,
    helpdesk_demo.load,
]


class Command(BaseCommand):
    help = "Load a believable German demo data set (idempotent) and a demo login."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", default="demo")
        parser.add_argument("--password", default="sirene-demo")

    def handle(self, *args: Any, **options: Any) -> None:
        cases_demo.ensure_demo_users(options["user"], options["password"])
        for load in LOADERS:
            load(self.stdout)
        self.stdout.write(f"demo login: {options['user']} / {options['password']}")
