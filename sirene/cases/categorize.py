"""A first guess at the category from the words of a report, for reports that arrive without one.

Deliberately simple and transparent (agents can see why): keyword stems in German and English.
The knowledge base refines it when a known problem matches confidently.
"""

from __future__ import annotations

import re

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
            "purchase",
            "bestell",
            "order",
            "abbuch",
            "refund",
            "erstatt",
            "klarna",
            "sepa",
        ),
    ),
    (
        Category.LOGIN,
        (
            "login",
            "log in",
            "einlogg",
            "anmeld",
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


def guess_category(text: str) -> Category:
    lowered = re.sub(r"\s+", " ", text.lower())
    best: tuple[int, Category] = (0, Category.OTHER)
    for category, stems in _RULES:
        hits = sum(1 for stem in stems if stem in lowered)
        if hits > best[0]:
            best = (hits, category)
    return best[1]
