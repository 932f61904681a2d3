"""A first guess at the category from the words of a report, for reports that arrive without one.

Deliberately simple and transparent (agents can see why): keywords in German and English, matched
on word boundaries, never inside another word ("angefordert" holds "order", "Display" holds
"play": neither is a hit).

* English words and short German stems match at the START of a word only (with any ending):
  "order"/"orders", "Kurs"/"Kursübersicht", "Video"/"Videos".
* German stems that end compounds (`_COMPOUND_TAILS`) also match as the LAST part of a word,
  followed by an inflection only: "Zahlung" in "Kartenzahlung", "Passwort" in "Kontopasswort",
  "Fehler" in "Serverfehler".
* Phrases ("lädt nicht", "sign in") match as whole words.

The knowledge base refines it when a known problem matches confidently; the incident takes the
category of its reports' majority (`detection.decide`).
"""

from __future__ import annotations

import re
from functools import cache

from sirene.cases.models import Category

_RULES: list[tuple[Category, tuple[str, ...]]] = [
    (
        Category.CHECKOUT,
        (
            "checkout",
            "bezahl",
            "zahlung",
            "payment",
            "paypal",
            "kreditkarte",
            "credit card",
            "rechnung",
            "invoice",
            "kauf",
            "gekauft",
            "purchase",
            "bestell",
            "order",
            "abbuch",
            "refund",
            "erstatt",
            "klarna",
            "sepa",
            "gutschein",
            "voucher",
        ),
    ),
    (
        Category.LOGIN,
        (
            "login",
            "log in",
            "einlogg",
            "eingeloggt",
            "anmeld",
            "angemeldet",
            "passwort",
            "password",
            "kennwort",
            "sign in",
            "zugangsdaten",
            "ausgeloggt",
            "logged out",
            "2fa",
            "zugang",
        ),
    ),
    (
        Category.SYNC,
        (
            "synchron",
            "sync",
            "fortschritt",
            "progress",
            "abgleich",
            "nicht übernommen",
            "not saved",
            "nicht gespeichert",
            "offline",
        ),
    ),
    (
        Category.CONTENT,
        (
            "lektion",
            "lesson",
            "video",
            "kurs",
            "course",
            "inhalt",
            "content",
            "lädt nicht",
            "won't load",
            "not loading",
            "abspiel",
            "play",
            "pdf",
            "download",
            "modul",
        ),
    ),
    (
        Category.APP_ERROR,
        (
            "fehler",
            "error",
            "502",
            "500",
            "503",
            "504",
            "404",
            "absturz",
            "abgestürzt",
            "crash",
            "stürzt",
            "weiße seite",
            "white page",
            "blank page",
            "fehlermeldung",
            "bad gateway",
            "funktioniert nicht",
        ),
    ),
]

# German stems that also end compounds ("Kartenzahlung", "Serverfehler", "Lernvideo"): these match
# as the tail of a word too, followed by an inflection only. Every other keyword matches at the
# start of a word only.
_COMPOUND_TAILS = frozenset(
    """zahlung rechnung bestell passwort kennwort fehler fehlermeldung absturz fortschritt lektion
    inhalt zugang video synchron gutschein abgleich""".split()
)
_TAIL_ENDINGS = r"(?:s|es|en|n|e|er|ung|ungen|ungs|t|te|ten|et)?"


@cache
def _pattern(stem: str) -> re.Pattern[str]:
    word = re.escape(stem)
    if " " in stem or stem.isdigit():
        return re.compile(rf"(?<!\w){word}(?!\w)")
    if stem in _COMPOUND_TAILS:
        return re.compile(rf"(?<!\w){word}\w*|{word}{_TAIL_ENDINGS}(?!\w)")
    return re.compile(rf"(?<!\w){word}\w*")


def matched_keywords(text: str) -> dict[Category, list[str]]:
    """Which keywords of which category a text holds (what the guess is based on)."""
    lowered = re.sub(r"\s+", " ", text.lower())
    out: dict[Category, list[str]] = {}
    for category, stems in _RULES:
        hits = [stem for stem in stems if _pattern(stem).search(lowered)]
        if hits:
            out[category] = hits
    return out


def guess_category(text: str) -> Category:
    best: tuple[int, Category] = (0, Category.OTHER)
    for category, hits in matched_keywords(text).items():
        if len(hits) > best[0]:
            best = (len(hits), category)
    return best[1]
