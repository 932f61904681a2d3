"""The `sirene` console script: Django's management commands under friendlier names."""

from __future__ import annotations

import os
import sys

# `sirene import-cases` → management command `import_cases`, and so on.
ALIASES = {
    "import-cases": "import_cases",
    "sync-groove": "sync_groove",
    "kb-import": "import_kb",
    "kb-export": "export_kb",
}


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sirene.config.settings")
    if args and args[0] in ALIASES:
        args[0] = ALIASES[args[0]]
    from django.core.management import execute_from_command_line

    execute_from_command_line(["sirene", *args])


if __name__ == "__main__":
    main()
