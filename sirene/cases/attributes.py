"""Customer/case attributes read from the words of a report ("iPhone", "Chrome", "App-Version 3.2").

Customers often say what they use without being asked; the incident brief compares these facts
between affected customers and everybody else to find the common thread ("roter Faden").

`extract_attributes(text)` is a pure function: it only returns what the text states plainly and
never guesses (a report that names both Chrome and Safari gets no browser). Keys follow the
customer attribute names: device, os, browser, app_version, platform (mobile/desktop), client
(app/web).
"""

from __future__ import annotations

import re

# (attribute, value, pattern). Word boundaries keep "Mac" from matching "machen" and "Edge" from
# matching "Edgar"; German inflections ("iPhones", "Androidhandy") are allowed where common.
_RULES: list[tuple[str, str, re.Pattern[str]]] = [
    ("device", "iPhone", re.compile(r"\biphones?\b", re.I)),
    ("device", "iPad", re.compile(r"\bipads?\b", re.I)),
    ("device", "Samsung", re.compile(r"\bsamsung|\bgalaxy\b", re.I)),
    ("device", "Huawei", re.compile(r"\bhuawei\b", re.I)),
    ("device", "Xiaomi", re.compile(r"\bxiaomi|\bredmi\b", re.I)),
    ("device", "Pixel", re.compile(r"\bgoogle pixel|\bpixel \d", re.I)),
    ("device", "Mac", re.compile(r"\bmacbook|\bimac\b|\bmac\b", re.I)),
    ("os", "iOS", re.compile(r"\bios\b|\biphones?\b|\bipads?\b", re.I)),
    ("os", "Android", re.compile(r"\bandroid|\bsamsung|\bgalaxy\b|\bhuawei\b|\bxiaomi|\bredmi\b", re.I)),
    ("os", "Windows", re.compile(r"\bwindows\b|\bwin ?1[01]\b", re.I)),
    ("os", "macOS", re.compile(r"\bmac ?os\b|\bmacbook|\bimac\b|\bmac\b", re.I)),
    ("os", "Linux", re.compile(r"\blinux\b|\bubuntu\b", re.I)),
    ("browser", "Chrome", re.compile(r"\bchrome\b|\bchromium\b", re.I)),
    ("browser", "Safari", re.compile(r"\bsafari\b", re.I)),
    ("browser", "Firefox", re.compile(r"\bfirefox\b", re.I)),
    ("browser", "Edge", re.compile(r"\bedge\b", re.I)),
    ("browser", "Opera", re.compile(r"\bopera\b", re.I)),
]

# "App-Version 3.2", "App Version: 3.2.1", "Version 3.2 der App", "v3.2.1", "app 3.2".
_APP_VERSION = re.compile(r"(?:app[- ]?version|version|\bapp|\bv)\s*:?\s*(\d+(?:\.\d+){1,3})\b", re.I)
_MOBILE_WORDS = re.compile(r"\bhandy|\bsmartphone|\bmobil|\btablet\b|\bphone\b", re.I)
_DESKTOP_WORDS = re.compile(r"\blaptop|\bnotebook\b|\bdesktop|\bcomputer\b|\b[pP][cC]\b")
_APP_WORDS = re.compile(r"\b(?:in|mit|über|via|der|die|unsere[rn]?|eure[rn]?|your|the)\s+app\b|\bapp\b", re.I)
_WEB_WORDS = re.compile(r"\bbrowser|\bwebseite|\bwebsite|\bim web\b|\bweb ?version\b", re.I)

_MOBILE_OS = {"iOS", "Android"}
_DESKTOP_OS = {"Windows", "macOS", "Linux"}


def _single(values: set[str]) -> str | None:
    """Only a value the text states unambiguously: two browsers named means we do not know which."""
    return next(iter(values)) if len(values) == 1 else None


def extract_attributes(text: str) -> dict[str, str]:
    """Attributes the report states plainly, e.g. {"device": "iPhone", "os": "iOS", "platform": "mobile"}."""
    if not text:
        return {}
    text = text[:20_000]  # the facts are in the first lines; a pasted log only adds noise
    found: dict[str, set[str]] = {}
    for attribute, value, pattern in _RULES:
        if pattern.search(text):
            found.setdefault(attribute, set()).add(value)
    out: dict[str, str] = {}
    for attribute, values in found.items():
        if attribute == "device" and {"iPhone", "iPad"} >= values and len(values) == 2:
            continue
        single = _single(values)
        if single is not None:
            out[attribute] = single
    versions = {m.group(1) for m in _APP_VERSION.finditer(text)}
    if len(versions) == 1:
        out["app_version"] = versions.pop()
    os_name = out.get("os")
    if os_name in _MOBILE_OS or (_MOBILE_WORDS.search(text) and not _DESKTOP_WORDS.search(text)):
        out["platform"] = "mobile"
    elif os_name in _DESKTOP_OS or (_DESKTOP_WORDS.search(text) and not _MOBILE_WORDS.search(text)):
        out["platform"] = "desktop"
    has_app, has_web = bool(_APP_WORDS.search(text)), bool(_WEB_WORDS.search(text) or "browser" in out)
    if has_app != has_web:
        out["client"] = "app" if has_app else "web"
    return out


_STATUS = re.compile(r"\b[45]\d\d\b")
_STATUS_CONTEXT = re.compile(r"fehler|error|code|http|status|gateway|server|seite|page", re.I)
_NAMED_CODE = re.compile(
    r"(?:fehler(?:code|nummer)?|error(?:\s*code)?|code)\s*[:#]?\s*((?:[A-Z]{1,5}[-_]?)?\d{2,6})\b", re.I
)


def extract_error_codes(text: str) -> list[str]:
    """Error codes a report quotes: HTTP statuses near an error word ("Fehler 502"), named codes
    ("Fehlercode E-1234"). A bare "499" without such a word (a price, a page number) is no code."""
    if not text:
        return []
    text = text[:20_000]
    codes: list[str] = []
    for m in _STATUS.finditer(text):
        if _STATUS_CONTEXT.search(text[max(0, m.start() - 40) : m.end() + 40]) and m.group(0) not in codes:
            codes.append(m.group(0))
    for m in _NAMED_CODE.finditer(text):
        code = m.group(1).upper()
        if code not in codes:
            codes.append(code)
    return codes[:10]
