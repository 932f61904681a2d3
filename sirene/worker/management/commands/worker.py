from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from sirene.worker import loop


class Command(BaseCommand):
    help = (
        "Run the background worker. Lanes: escalation (runs, calls, Slack siren), background (analysis, "
        "briefs, helpdesk, reminders), or all (each lane in its own thread). Several workers may run at once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="run every step of the lane once and exit")
        parser.add_argument("--poll", type=float, default=None, help="seconds between polls when idle")
        parser.add_argument("--lane", choices=loop.LANE_CHOICES, default="all")

    def handle(self, *args: Any, **options: Any) -> None:
        lane = options["lane"]
        if options["once"]:
            self.stdout.write(f"{loop.run_once(lane)} items processed")
            return
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        if lane == "all":
            threads = loop.start_lanes(stop, options["poll"])
            # The main thread only waits (signals are delivered to it); each lane runs on its own.
            while any(t.is_alive() for t in threads):
                stop.wait(0.5)
                if stop.is_set():
                    for thread in threads:
                        thread.join(timeout=15)
                    break
            return
        loop.run_forever(stop, options["poll"], lane)
