"""Crawl the UI as one user and find words in the wrong language.

German pages: a text that is exactly an English msgid with a German translation (someone forgot the
`{% translate %}` or the catalogue entry), or an internal token (`case_joined`, `in_progress`,
`ticket(s)`, "Incident"). English pages: a text that is exactly a German msgstr. Text is what a person
reads: text nodes plus placeholder/title/aria-label, not scripts, not the customer's own words (the
case body, ready replies to customers in textareas).

`python -m sirene.web.crawl` prints the result for the demo data (used for the issue report); the test
`web/tests/test_language_crawl.py` runs the same crawl in `make test`.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urldefrag, urlparse

from sirene.web.catalogues import all_pairs, translated_pairs

SKIP_PREFIXES = ("/admin/", "/api/", "/static/", "/i18n/", "/hooks/", "/logout", "/favicon")
SKIP_SUFFIXES = (".csv", ".json", ".ics", ".yaml", ".png", ".svg")
# Tokens that are never meant for a reader in German.
INTERNAL = re.compile(
    r"\b(?:[a-z]+_[a-z_]+)\b|\bticket\(s\)|\bcase\(s\)|\bIncidents?\b|\bnot_tried\b|\bsha256\b"
)
# Words that look internal but are legitimate in text (product and brand names).
ALLOWED_TOKENS = {"sirene"}


class _Text(HTMLParser):
    SKIP = {"script", "style", "textarea", "pre", "svg", "code"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.links: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in self.SKIP:
            self._skip += 1
        if tag == "a" and values.get("href"):
            self.links.append(str(values["href"]))
        for name in ("placeholder", "title", "aria-label"):
            if values.get(name):
                self.texts.append(str(values[name]))
        if tag == "input" and values.get("type") in {"submit", "button"} and values.get("value"):
            self.texts.append(str(values["value"]))

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.texts.append(data)


@dataclass
class Result:
    language: str
    pages: list[str] = field(default_factory=list)
    findings: dict[str, set[str]] = field(default_factory=dict)  # text → pages

    def add(self, text: str, page: str) -> None:
        self.findings.setdefault(text, set()).add(page)


def _kind(url: str) -> str:
    """The shape of a URL: numbers replaced, query values dropped (/cases/N/, /cases/?status)."""
    parsed = urlparse(url)
    keys = sorted({part.split("=", 1)[0] for part in parsed.query.split("&") if part})
    return re.sub(r"\d+", "N", parsed.path) + ("?" + "&".join(keys) if keys else "")


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().rstrip(":").strip()


def crawl(client: Any, start: list[str], language: str, *, max_pages: int = 250, per_kind: int = 6) -> Result:
    """Visit pages reachable from `start` (GET only, one site), at most `per_kind` per URL shape."""
    pairs = translated_pairs()
    everything = all_pairs()
    english = {_norm(en) for en, _de in pairs if len(_norm(en)) > 2}
    german = {_norm(de) for en, de in pairs if len(_norm(de)) > 2}
    # A word that is also German for something (or English for something) is not a leftover:
    # "Status", "Login", "Name" are the same in both languages.
    english -= {_norm(de) for _en, de in everything}
    german -= {_norm(en) for en, _de in everything}
    result = Result(language=language)
    seen_kinds: dict[str, int] = {}
    queue = deque(start)
    visited: set[str] = set()
    while queue and len(result.pages) < max_pages:
        url = urldefrag(queue.popleft())[0]
        path = urlparse(url).path
        if url in visited or path.startswith(SKIP_PREFIXES) or path.endswith(SKIP_SUFFIXES):
            continue
        visited.add(url)
        kind = _kind(url)
        if seen_kinds.get(kind, 0) >= per_kind:
            continue
        response = client.get(url, headers={"Accept-Language": language})
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        seen_kinds[kind] = seen_kinds.get(kind, 0) + 1
        result.pages.append(url)
        parser = _Text()
        parser.feed(response.content.decode())
        for text in parser.texts:
            norm = _norm(text)
            if language == "de":
                if norm in english:
                    result.add(norm, url)
                elif "@" not in norm and "/" not in norm:
                    for token in INTERNAL.findall(norm):
                        if token not in ALLOWED_TOKENS:
                            result.add(token, url)
            elif norm in german:
                result.add(norm, url)
        for link in parser.links:
            if link.startswith("/") and not link.startswith("//"):
                queue.append(link)
    return result


def main() -> int:  # pragma: no cover - a report tool around crawl()
    import os
    import sys
    import tempfile

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sirene.config.settings")
    os.environ.setdefault("SIRENE_VAR_DIR", tempfile.mkdtemp())
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    call_command("migrate", verbosity=0)
    call_command("demo", verbosity=0)
    from sirene.accounts.models import User
    from sirene.web.tests.test_language import START as start
    from sirene.worker.loop import STEPS

    for _name, step in STEPS:
        step()
    for language in ("de", "en"):
        client = Client()
        client.force_login(User.objects.get(username="demo"))
        if language == "en":
            client.post("/i18n/setlang/", {"language": "en", "next": "/"})
        result = crawl(client, start, language)
        print(f"{language}: {len(result.pages)} pages, {len(result.findings)} findings")
        if "-v" in sys.argv:
            print("  pages: " + " ".join(result.pages))
        for text, pages in sorted(result.findings.items()):
            print(f"  {text!r}: {len(pages)} page(s), e.g. {sorted(pages)[0]}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
