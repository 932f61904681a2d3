"""`sirene bench NAME …`: the benchmarks, registered here (each module's `run(argv) -> int`)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from sirene.bench import detect, escalation, grouping, kb, load, mail_forms, tracking_list, window

BENCHES: dict[str, Callable[[list[str]], int | None]] = {
    "grouping": grouping.run,
    "kb": kb.run,
    "detect": detect.run,
    "escalation": escalation.run,
    "list": tracking_list.run,
    "window": window.run,
    "forms": mail_forms.run,
    "load": load.run,
}


class Command(BaseCommand):
    help = "Run a benchmark on real data: grouping, kb, detect, window, escalation, list, load (each prints one table; --json)."

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

        from sirene.bench._data import BenchDataMissing

        django.setup()
        try:
            code = int(BENCHES[name](rest) or 0)
        except BenchDataMissing as exc:
            self.stderr.write(str(exc))
            sys.exit(2)
        if code:
            sys.exit(code)
