"""`sirene retention [--dry-run]`: what the daily retention pass removes (counts per kind, oldest date)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from sirene.privacy import retention


class Command(BaseCommand):
    help = "Pseudonymise customer data older than SIRENE_RETENTION_DAYS (the worker does it daily)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="print what would be removed, change nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        dry = options["dry_run"]
        report = retention.plan() if dry else retention.run()
        verb = "would be removed" if dry else "removed"
        self.stdout.write(
            f"Retention: {report.days} days (solved before {report.cutoff:%Y-%m-%d %H:%M} UTC). "
            f"{'Dry run: nothing changed.' if dry else ''}".strip()
        )
        self.stdout.write(f"{'kind':<20} {verb:>18}  oldest")
        for kind, n in report.counts.items():
            oldest = report.oldest.get(kind) or "–"
            self.stdout.write(f"{kind:<20} {n:>18}  {oldest[:10]}")
        self.stdout.write(f"{'total':<20} {report.total:>18}")
