"""`sirene sync-groove [--since …]`: the polling fallback for teams that cannot register Groove webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.timezone import get_current_timezone, is_naive, make_aware
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from sirene.flows import intake
from sirene.helpdesk import inbound
from sirene.integrations.base import IntegrationError


def parse_since(value: str) -> datetime:
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(
                f"--since: {value!r} is not a date or date-time (e.g. 2026-11-01 or 2026-11-01T08:00)"
            )
        moment = datetime(day.year, day.month, day.day)
    return make_aware(moment, get_current_timezone()) if is_naive(moment) else moment


class Command(BaseCommand):
    help = "Fetch Groove tickets page by page; tech-tagged ones become cases. Resumes where a run stopped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--since", help="only tickets updated since this date/time (default: last completed run)"
        )
        parser.add_argument("--restart", action="store_true", help="start from the first page again")
        parser.add_argument(
            "--max-pages", type=int, default=None, help="stop after this many pages (resume later)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        since = parse_since(options["since"]) if options["since"] else None
        with Progress(
            TextColumn("Groove"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            transient=False,
            disable=not self.stdout.isatty(),
        ) as progress:
            task = progress.add_task("pages", total=None)

            def on_page(page: int, total: int | None, count: int) -> None:
                progress.update(
                    task, completed=page, total=total, description=f"page {page}: {count} tickets"
                )

            try:
                result = inbound.sync_tickets(
                    since=since, restart=options["restart"], max_pages=options["max_pages"], on_page=on_page
                )
            except IntegrationError as exc:
                raise CommandError(f"Groove: {exc} (run again to resume)") from None
        while intake.analyse_pending():  # the new cases are analysed like any report
            pass
        state = "complete" if result.completed else "stopped early; run again to resume"
        self.stdout.write(
            f"sync-groove: {result.pages} page(s) from page {result.resumed_from}, {result.tickets} ticket(s), "
            f"{result.cases_created} new case(s), {result.answers} answer(s) after a resolution — {state}"
        )
