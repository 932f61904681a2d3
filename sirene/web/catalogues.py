"""Reading the German catalogues without extra tools: entries, untranslated/fuzzy ones, and the .mo check.

Used by the language tests (`make test`) and the page crawl: a German page must not show an English
msgid that has a German translation, and an English page must not show a German msgstr.
"""

from __future__ import annotations

import ast
import gettext
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent


@dataclass
class Entry:
    msgid: str
    msgstr: str
    plural: str = ""
    plurals: list[str] = field(default_factory=list)
    context: str = ""
    fuzzy: bool = False
    line: int = 0

    @property
    def translated(self) -> bool:
        if self.plural:
            return bool(self.plurals) and all(self.plurals)
        return bool(self.msgstr)


def german_catalogues() -> list[Path]:
    return sorted(PACKAGE.glob("**/locale/de/LC_MESSAGES/django.po"))


def _string(line: str) -> str:
    value = ast.literal_eval(line.strip())
    assert isinstance(value, str)
    return value


def parse(path: Path) -> list[Entry]:
    """The entries of one .po file (the header entry, msgid "", is left out)."""
    entries: list[Entry] = []
    current: dict[str, object] = {}
    key = ""
    flags: set[str] = set()
    start = 0

    def flush() -> None:
        nonlocal current, flags
        if "msgid" in current and current["msgid"]:
            plurals = current.get("plurals", {})
            assert isinstance(plurals, dict)
            entries.append(
                Entry(
                    msgid=str(current["msgid"]),
                    msgstr=str(current.get("msgstr", "")),
                    plural=str(current.get("msgid_plural", "")),
                    plurals=[str(plurals[i]) for i in sorted(plurals)],
                    context=str(current.get("msgctxt", "")),
                    fuzzy="fuzzy" in flags,
                    line=start,
                )
            )
        current, flags = {}, set()

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line:
            flush()
            key = ""
            continue
        if line.startswith("#,"):
            if "msgid" in current:
                flush()
            flags |= {f.strip() for f in line[2:].split(",")}
            continue
        if line.startswith("#"):
            continue
        if line.startswith(("msgctxt ", "msgid ")) and "msgid" in current and key != "msgctxt":
            flush()
        if line.startswith("msgctxt "):
            start = number
            key, current["msgctxt"] = "msgctxt", _string(line[8:])
        elif line.startswith("msgid_plural "):
            key, current["msgid_plural"] = "msgid_plural", _string(line[13:])
        elif line.startswith("msgid "):
            if "msgctxt" not in current:
                start = number
            key, current["msgid"] = "msgid", _string(line[6:])
        elif line.startswith("msgstr["):
            index = int(line[7 : line.index("]")])
            plurals = current.setdefault("plurals", {})
            assert isinstance(plurals, dict)
            plurals[index] = _string(line[line.index("]") + 1 :])
            key = f"plural{index}"
        elif line.startswith("msgstr "):
            key, current["msgstr"] = "msgstr", _string(line[7:])
        elif line.startswith('"'):
            if key.startswith("plural"):
                plurals = current["plurals"]
                assert isinstance(plurals, dict)
                plurals[int(key[6:])] += _string(line)
            elif key:
                current[key] = str(current.get(key, "")) + _string(line)
    flush()
    return entries


def problems(path: Path) -> list[str]:
    """Untranslated and fuzzy entries, and a .mo that does not match its .po (msgfmt not re-run)."""
    out = []
    entries = parse(path)
    for e in entries:
        if e.fuzzy:
            out.append(f"{path}:{e.line}: fuzzy: {e.msgid!r}")
        elif not e.translated:
            out.append(f"{path}:{e.line}: untranslated: {e.msgid!r}")
    mo = path.with_suffix(".mo")
    if not mo.exists():
        out.append(f"{mo}: missing (run msgfmt -o django.mo django.po)")
        return out
    with mo.open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    catalog = compiled._catalog  # type: ignore[attr-defined]
    for e in entries:
        if e.fuzzy or not e.translated:
            continue
        key = f"{e.context}\x04{e.msgid}" if e.context else e.msgid
        got = catalog.get((key, 0)) if e.plural else catalog.get(key)
        want = e.plurals[0] if e.plural else e.msgstr
        if got != want:
            out.append(f"{mo}: stale for {e.msgid!r} (run msgfmt -o django.mo django.po)")
            break
    return out


def all_pairs() -> list[tuple[str, str]]:
    """(English, German) for every translated entry, including those spelt the same in both."""
    pairs = []
    for path in german_catalogues():
        for e in parse(path):
            if e.fuzzy or not e.translated:
                continue
            if e.plural:
                pairs += [(e.msgid, e.plurals[0]), (e.plural, e.plurals[-1])]
            else:
                pairs.append((e.msgid, e.msgstr))
    return pairs


def translated_pairs() -> list[tuple[str, str]]:
    """(English msgid, German msgstr) for every entry whose German text differs from the English."""
    pairs = []
    for path in german_catalogues():
        for e in parse(path):
            if e.fuzzy or not e.translated:
                continue
            if e.plural:
                pairs.append((e.msgid, e.plurals[0]))
                pairs.append((e.plural, e.plurals[-1]))
            else:
                pairs.append((e.msgid, e.msgstr))
    return [(en, de) for en, de in pairs if en.strip() != de.strip()]
