from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from sirene.cases.importer import iter_rows
from sirene.flows.intake import import_csv


class Command(BaseCommand):
    help = (
        "Import an export (CSV) of the tech-case tracking spreadsheet; idempotent; German or English headers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path} does not exist or is not a file")
        console = Console(stderr=True)
        total = max(sum(1 for _ in iter_rows(path.read_text(encoding="utf-8-sig", errors="replace"))) - 1, 0)
        with Progress(
            TextColumn("[bold]import"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("rows", total=total)
            report = import_csv(path, progress=lambda n: progress.advance(task, n))
        table = Table(title=f"Import of {path.name}")
        for column in ("created", "updated", "skipped", "errors"):
            table.add_column(column, justify="right")
        table.add_row(str(report.created), str(report.updated), str(report.skipped), str(len(report.errors)))
        out = Console()
        out.print(table)
        for line, reason in report.skipped_reasons:
            out.print(f"line {line}: skipped – {escape(reason)}")
        for error in report.errors:
            where = f" ({error.field})" if error.field else ""
            out.print(f"[red]line {error.line}{escape(where)}: {escape(error.message)}[/red]")
        if report.errors and not (report.created or report.updated or report.skipped):
            raise CommandError("no row could be imported")
