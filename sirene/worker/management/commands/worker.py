from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from sirene.worker import loop


class Command(BaseCommand):
    help = "Run the background worker (escalation steps, replies, retries). Several may run at once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="run every step once and exit")
        parser.add_argument("--poll", type=float, default=None, help="seconds between polls when idle")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            self.stdout.write(f"{loop.run_once()} items processed")
            return
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        loop.run_forever(stop, options["poll"])
