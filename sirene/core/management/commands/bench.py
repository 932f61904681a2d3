from __future__ import annotations

import importlib
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

BENCHES = {
    "grouping": "sirene.bench.grouping",
    "kb": "sirene.bench.kb",
    "detect": "sirene.bench.detect",
    "escalation": "sirene.bench.escalation",
    "list": "sirene.bench.tracking_list",
}


class Command(BaseCommand):
    help = "Run a benchmark on real data: grouping, kb, detect, escalation (each prints one table; --json)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", choices=sorted(BENCHES))
        parser.add_argument("args", nargs="*")

    def run_from_argv(self, argv: list[str]) -> None:
        # Pass everything after the bench name through untouched (its own argparse handles it).
        if len(argv) < 3 or argv[2] not in BENCHES:
            super().run_from_argv(argv)
            return
        self._run(argv[2], argv[3:])

    def handle(self, *args: Any, **options: Any) -> None:
        self._run(options["name"], list(options["args"]))

    def _run(self, name: str, rest: list[str]) -> None:
        import django

        django.setup()
        try:
            module = importlib.import_module(BENCHES[name])
        except ModuleNotFoundError as exc:
            raise CommandError(f"benchmark {name!r} is not available: {exc}") from None
        code = int(module.run(rest) or 0)
        if code:
            sys.exit(code)
