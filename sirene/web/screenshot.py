"""`python -m sirene.web.screenshot OUT.png [PATH]`: the README screenshot, from a fresh demo database.

Starts `sirene run` on a free port with a temporary var dir, logs in as the demo user in Debian's chromium
(Playwright) and saves a full-page screenshot of PATH (default: the tracking list).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "docs/screenshot-cases.png")
    path = argv[1] if len(argv) > 1 else "/cases/"
    port = _free_port()
    with tempfile.TemporaryDirectory() as var:
        env = {**os.environ, "SIRENE_VAR_DIR": var}
        env.pop("SIRENE_DATABASE_URL", None)
        sirene = [sys.executable, "-m", "sirene"]
        subprocess.run([*sirene, "migrate", "-v0"], env=env, check=True)
        subprocess.run([*sirene, "demo"], env=env, check=True, stdout=subprocess.DEVNULL)
        server = subprocess.Popen([*sirene, "run", "--port", str(port)], env=env, stdout=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    urllib.request.urlopen(base + "/login/", timeout=1)
                    break
                except OSError:
                    time.sleep(0.2)
            from playwright.sync_api import sync_playwright

            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path="/usr/bin/chromium",
                    args=[
                        "--headless=new",
                        "--no-sandbox",
                        "--disable-gpu",
                        "--disable-background-networking",
                    ],
                )
                page = browser.new_page(viewport={"width": 1360, "height": 900}, locale="de-DE")
                page.goto(base + "/login/")
                page.fill("input[name=username]", "demo")
                page.fill("input[name=password]", "sirene-demo")
                page.click("button[type=submit]")
                page.wait_for_load_state("networkidle")
                page.goto(base + path)
                page.wait_for_load_state("networkidle")
                out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(out), full_page=os.environ.get("SIRENE_SCREENSHOT_FULL") == "1")
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(f"saved {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
