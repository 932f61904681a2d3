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


def waitress_options(host: str, port: int, threads: int) -> dict[str, Any]:
    """The waitress settings of `sirene serve` and `sirene run` (one place, also used by the proxy test).

    Behind a TLS proxy (SIRENE_BEHIND_HTTPS_PROXY) waitress trusts X-Forwarded-Proto and X-Forwarded-For
    from SIRENE_TRUSTED_PROXY only (its default clears them from anyone else), so Django sees https
    (HSTS, secure cookies, CSRF origin) and the client's own address (login throttling).
    """
    from django.conf import settings

    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "threads": threads,
        "ident": "sirene",
        "max_request_body_size": 1 << 24,
    }
    if settings.BEHIND_HTTPS_PROXY:
        options.update(
            trusted_proxy=settings.TRUSTED_PROXY,
            trusted_proxy_count=1,
            trusted_proxy_headers={"x-forwarded-proto", "x-forwarded-for"},
            clear_untrusted_proxy_headers=True,
        )
    return options


def serve(host: str, port: int, threads: int, say: Any) -> None:
    from waitress import serve as waitress_serve  # type: ignore[import-untyped]

    from sirene.config.wsgi import application
    from sirene.core.deploy import refuse_dev_key

    refuse_dev_key(host)
    say(f"sirene listens on http://{host}:{port}/")
    waitress_serve(application, **waitress_options(host, port, threads))
