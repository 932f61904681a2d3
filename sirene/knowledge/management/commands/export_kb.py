from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from sirene.knowledge import transfer


class Command(BaseCommand):
    help = "Export the knowledge base as YAML or JSON (`sirene kb-export [FILE]`; stdout without FILE)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?")
        parser.add_argument("--format", choices=["yaml", "json"], default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        target = options["file"]
        fmt = options["format"] or ("json" if target and target.lower().endswith(".json") else "yaml")
        text = transfer.export_text(fmt)
        if target and target != "-":
            Path(target).write_text(text, encoding="utf-8")
            self.stderr.write(f"wrote {target}")
        else:
            self.stdout.write(text, ending="")
