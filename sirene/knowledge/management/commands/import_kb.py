from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sirene.knowledge import transfer
from sirene.knowledge.services import KnowledgeError


class Command(BaseCommand):
    help = "Import known problems from a YAML or JSON file (`sirene kb-import FILE`; `--starter` for the shipped set)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", help="YAML or JSON file (- for stdin)")
        parser.add_argument("--format", choices=["yaml", "json"], default=None)
        parser.add_argument("--starter", action="store_true", help="import the German starter set")

    def handle(self, *args: Any, **options: Any) -> None:
        import sys

        if options["starter"]:
            raw: bytes = transfer.STARTER_FILE.read_bytes()
            fmt = "yaml"
        elif options["file"] == "-":
            raw, fmt = sys.stdin.buffer.read(), options["format"]
        elif options["file"]:
            path = Path(options["file"])
            if not path.is_file():
                raise CommandError(f"file: {path} does not exist")
            raw = path.read_bytes()
            fmt = options["format"] or ("json" if path.suffix.lower() == ".json" else "yaml")
        else:
            raise CommandError("give a FILE (or --starter)")
        try:
            result = transfer.import_text(raw, fmt)
        except KnowledgeError as exc:
            raise CommandError(f"nothing imported: {exc}") from None
        self.stdout.write(
            f"known problems: {result.created} created, {result.updated} updated, {result.unchanged} unchanged; "
            f"{result.phrasings_added} phrasings added"
        )
