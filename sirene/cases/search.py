"""Search keys that forgive how people type German names: case, umlauts, ß.

"Krüger", "krueger", "KRUGER" and "Krüger" typed with a combining diaeresis all fold to keys that match:
the stored key holds the name spelled with ä→ae/ö→oe/ü→ue and, where that differs, the name with the
umlauts simply dropped (ä→a). ß always becomes ss (Unicode case folding). The search term is folded the
same way (ä→ae), so "Größer", "Groesser" and "grösser" find "Jürgen Größer"; "Groser" finds the plain key.

The key is filled on every save (see the models) and indexed (a trigram index on PostgreSQL), so the
search is one LIKE '%term%' on a lower-case column on both databases.
"""

from __future__ import annotations

import re
import unicodedata

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})
_SPACE = re.compile(r"\s+")


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold(text: str) -> str:
    """The spelling a search term is compared in: lower case, ß→ss, ä→ae, other accents dropped."""
    value = unicodedata.normalize("NFC", text or "").casefold().translate(_UMLAUTS)
    return _SPACE.sub(" ", _strip_marks(value)).strip()


def search_key(*parts: str | None) -> str:
    """The stored key for a record: the folded text, plus the umlaut-dropped spelling where it differs."""
    text = " ".join(p for p in parts if p)
    folded = fold(text)
    plain = _SPACE.sub(" ", _strip_marks(unicodedata.normalize("NFC", text).casefold())).strip()
    return folded if plain == folded else f"{folded} | {plain}"
