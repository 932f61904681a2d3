from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve the web UI and API (waitress, a production WSGI server)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)

    def handle(self, *args: Any, **options: Any) -> None:
        serve(options["host"], options["port"], options["threads"], self.stdout.write)


def serve(host: str, port: int, threads: int, say: Any) -> None:
    from waitress import serve as waitress_serve  # type: ignore[import-untyped]

    from sirene.config.wsgi import application
    from sirene.core.deploy import refuse_dev_key

    refuse_dev_key(host)
    say(f"sirene listens on http://{host}:{port}/")
    waitress_serve(
        application, host=host, port=port, threads=threads, ident="sirene", max_request_body_size=1 << 24
    )
