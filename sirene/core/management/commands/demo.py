from __future__ import annotations

import importlib
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

# Each domain may ship `demo.py` with `load(stdout) -> None`; the order makes later steps see earlier data
# (known problems and escalation policy before cases, so incoming demo cases get suggestions and incidents).
DEMO_MODULES = [
    "sirene.knowledge.demo",
    "sirene.escalation.demo",
    "sirene.cases.demo",
    "sirene.incidents.demo",
    "sirene.troubleshooting.demo",
    "sirene.helpdesk.demo",
]


class Command(BaseCommand):
    help = "Load a believable German demo data set (idempotent) and a demo login."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", default="demo")
        parser.add_argument("--password", default="sirene-demo")

    def handle(self, *args: Any, **options: Any) -> None:
        from sirene.cases.demo import ensure_demo_users

        ensure_demo_users(options["user"], options["password"])
        for name in DEMO_MODULES:
            try:
                module = importlib.import_module(name)
            except ModuleNotFoundError as exc:
                if exc.name == name:
                    continue
                raise
            module.load(self.stdout)
        self.stdout.write(f"demo login: {options['user']} / {options['password']}")
