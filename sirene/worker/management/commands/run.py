from __future__ import annotations

import threading
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from sirene.core.deploy import refuse_dev_key
from sirene.worker import loop
from sirene.worker.management.commands.serve import serve


class Command(BaseCommand):
    help = (
        "Everything in one process for the embedded default: migrate, web server and the worker, one thread "
        "per lane (escalation on its own, so nothing else can delay a call)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, **options: Any) -> None:
        refuse_dev_key(options["host"])  # before migrating or starting anything
        call_command("migrate", interactive=False, verbosity=0)
        stop = threading.Event()
        lanes = loop.start_lanes(stop)
        try:
            serve(options["host"], options["port"], 8, self.stdout.write)
        finally:
            stop.set()
            for lane in lanes:
                lane.join(timeout=5)
