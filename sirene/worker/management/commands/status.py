from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from sirene.flows import health


class Command(BaseCommand):
    help = "Worker health per lane: oldest due item, dead items, last loop (exit 1 when a lane lags)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        lanes = health.lanes()
        if options["json"]:
            self.stdout.write(json.dumps({"lanes": [lane.as_dict() for lane in lanes]}, indent=2))
        else:
            for lane in lanes:
                last = (
                    f"{lane.last_loop_age_s:.0f} s ago ({lane.workers} worker(s))"
                    if lane.last_loop_age_s is not None
                    else "never (no worker runs this lane)"
                )
                flag = "LAGGING" if lane.lagging else "ok"
                self.stdout.write(
                    f"{lane.lane:<11} {flag:<8} due {lane.due:>5}  oldest due {lane.oldest_due_age_s:>7.1f} s  "
                    f"dead {lane.dead:>4}  last loop {last}"
                )
                for queue in lane.queues:
                    self.stdout.write(
                        f"    {queue['name']:<22} due {queue['due']:>5}  oldest {queue['oldest_due_age_s']:>7.1f} s"
                        f"  dead {queue['dead']:>4}"
                    )
        if any(lane.lagging for lane in lanes):
            raise SystemExit(1)
