"""`sirene serve` (waitress, the real one) behind a small TLS-terminating reverse proxy on loopback that sets
X-Forwarded-Proto: https (security review F4): no redirect loop, HSTS sent, Secure cookies, and a browser's
login POST with its https Origin passes CSRF without SIRENE_CSRF_TRUSTED_ORIGINS."""

from __future__ import annotations

import http.client
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from waitress.server import create_server  # type: ignore[import-untyped]

from sirene.worker.management.commands.serve import waitress_options

pytestmark = pytest.mark.django_db(transaction=True)


class _Proxy(BaseHTTPRequestHandler):
    """What nginx does after TLS: forward to the app with the original Host, the scheme and the client."""

    upstream_port = 0

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in {"connection", "x-forwarded-proto"}}
        headers["X-Forwarded-Proto"] = "https"
        headers["X-Forwarded-For"] = "203.0.113.7"
        upstream = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=30)
        upstream.request(self.command, self.path, body=body, headers=headers)
        answer = upstream.getresponse()
        data = answer.read()
        self.send_response(answer.status)
        for key, value in answer.getheaders():
            if key.lower() not in {"connection", "transfer-encoding", "content-length", "server", "date"}:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        upstream.close()

    do_GET = do_POST = _forward

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def proxied(settings: Any) -> Iterator[tuple[int, int]]:
    """(waitress port, proxy port) with SIRENE_BEHIND_HTTPS_PROXY, SSL redirect and HSTS on."""
    settings.BEHIND_HTTPS_PROXY = True
    settings.TRUSTED_PROXY = "127.0.0.1"
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.CSRF_TRUSTED_ORIGINS = []
    from django.core.wsgi import get_wsgi_application

    # A fresh handler (what sirene.config.wsgi builds at start-up): middleware reads these settings once.
    server = create_server(get_wsgi_application(), **waitress_options("127.0.0.1", 0, 4))
    app_port = server.effective_port
    app_thread = threading.Thread(target=server.run, daemon=True)
    app_thread.start()
    handler = type("Proxy", (_Proxy,), {"upstream_port": app_port})
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    proxy_thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    proxy_thread.start()
    try:
        yield app_port, proxy.server_address[1]
    finally:
        proxy.shutdown()
        proxy.server_close()
        server.close()


def _get(port: int, path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers={"Host": f"127.0.0.1:{port}", **(headers or {})})
    response = conn.getresponse()
    response.read()
    return response


def test_behind_a_tls_proxy_https_is_seen_hsts_sent_and_login_passes_csrf(
    proxied: tuple[int, int], agent: Any
) -> None:
    app_port, proxy_port = proxied
    # Straight to waitress (plain http, no proxy): redirected to https, as SIRENE_SSL_REDIRECT asks.
    direct = _get(app_port, "/login/")
    assert direct.status == 301 and direct.getheader("Location", "").startswith("https://")

    # Through the proxy: https is seen, so no redirect loop, and HSTS plus Secure cookies.
    page = _get(proxy_port, "/login/")
    assert page.status == 200
    assert page.getheader("Strict-Transport-Security") == "max-age=31536000"
    csrf_cookie = page.getheader("Set-Cookie", "")
    assert "csrftoken=" in csrf_cookie and "Secure" in csrf_cookie
    token = re.search(r"csrftoken=([^;]+)", csrf_cookie)
    assert token is not None

    conn = http.client.HTTPConnection("127.0.0.1", proxy_port, timeout=30)
    form = f"csrfmiddlewaretoken={token.group(1)}&username=anna&password=agent-pass-123"
    conn.request(
        "POST",
        "/login/",
        body=form,
        headers={
            "Host": f"127.0.0.1:{proxy_port}",
            "Origin": f"https://127.0.0.1:{proxy_port}",  # what a browser sends behind TLS
            "Referer": f"https://127.0.0.1:{proxy_port}/login/",
            "Cookie": f"csrftoken={token.group(1)}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    login = conn.getresponse()
    login.read()
    assert login.status == 302, login.status
    assert "sessionid=" in (login.getheader("Set-Cookie") or "") and "Secure" in login.getheader("Set-Cookie", "")
