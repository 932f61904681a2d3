"""A short German title for an incident, and a separate one for customers.

The team reads the incident title in Slack, on the incident page and in the phone call; a customer's
subject cut at 60 characters ("Hallo, seit heute Morgen zeigt der Mitgliederbereich nur noc") says
nothing. So the title is built from what the affected reports have in common:

1. the confirmed known problem of the incident's group: its title (the team wrote it);
2. else an error code most reports quote, and the area they name: "Fehler 502 im Mitgliederbereich (Club)";
3. else the area and the symptom: "Login: Code kommt nicht an";
4. else the customers' own words, the subject line most other reports echo, plus what distinguishes the
   affected: "Meditationen spielen nicht mehr ab (App 3.5.0, Android)" — never "Probleme in der App";
5. else the category: "Häufung: Login".

An area or symptom counts when at least a third of the reports mention it. The customer title says
the same without codes or internal words ("Störung im Mitgliederbereich"). Both are editable by the
lead (`incidents.services.rename`); an edited title is never overwritten.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sirene.cases.attributes import extract_error_codes

# (key, pattern, phrase in the title, phrase for customers). Order matters on ties: more specific first.
AREAS: list[tuple[str, re.Pattern[str], str, str]] = [
    ("members", re.compile(r"mitglieder-?bereich|member(?:s)?[- ]?(?:area|bereich)", re.I),
     "im Mitgliederbereich", "im Mitgliederbereich"),
    ("checkout", re.compile(r"checkout|zahlung|bezahl|kasse|paypal|kreditkarte|abbuchung|rechnung", re.I),
     "beim Bezahlen", "beim Bezahlen"),
    ("login", re.compile(r"\blogin|einlogg|anmeld|passwort|zwei-?faktor|2fa|anmeldecode", re.I),
     "beim Login", "bei der Anmeldung"),
    ("sync", re.compile(r"synchron|\bsync", re.I), "bei der Synchronisation", "bei der Synchronisation"),
    ("video", re.compile(r"\bvideos?\b|\bplayer\b", re.I), "bei Videos", "bei Videos"),
    ("lesson", re.compile(r"lektion|\bkurs|lesson|kapitel", re.I), "in den Lektionen", "in den Lektionen"),
    ("download", re.compile(r"download|herunterlad", re.I), "beim Download", "beim Download"),
    ("certificate", re.compile(r"zertifikat|urkunde|certificate", re.I), "beim Zertifikat", "beim Zertifikat"),
    ("mail", re.compile(r"e-?mails?\b|newsletter|postfach", re.I), "bei E-Mails", "bei E-Mails"),
    ("app", re.compile(r"\bapp\b|\bapps\b", re.I), "in der App", "in der App"),
]
_CLUB = re.compile(r"\bclub", re.I)

# (pattern, symptom phrase): what goes wrong, in the team's words.
SYMPTOMS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"kommt\b.{0,40}\bnicht an|nicht angekommen|keine (?:e-?mail|mail|nachricht|code)", re.I),
     "kommt nicht an"),
    (re.compile(r"abgelehnt|fehlgeschlagen|schlägt fehl|declined", re.I), "schlägt fehl"),
    (re.compile(r"stürzt\b.{0,20}\bab|absturz|abgestürzt|crash", re.I), "stürzt ab"),
    (re.compile(r"lädt nicht|laden nicht|l[äa]dt ewig|hängt|weiße seite|weisse seite|schwarz", re.I),
     "lädt nicht"),
    (re.compile(r"öffnet (?:sich )?nicht|lässt sich nicht öffnen|geht nicht auf", re.I), "öffnet nicht"),
    (re.compile(r"fortschritt|zurückgesetzt|verschwunden|weg\b", re.I), "Fortschritt fehlt"),
    (re.compile(r"fehlermeldung|fehler\b|error", re.I), "Fehlermeldung"),
]

CATEGORY_WORDS = {
    "app_error": "Fehlermeldung im Mitgliederbereich / in der App",
    "sync": "Synchronisation App ↔ Mitgliederbereich",
    "login": "Login",
    "content": "Lektion / Inhalt öffnet nicht",
    "checkout": "Checkout",
    "other": "technische Meldungen",
}
CATEGORY_AREA = {
    "app_error": "im Mitgliederbereich",
    "sync": "bei der Synchronisation",
    "login": "bei der Anmeldung",
    "content": "in den Lektionen",
    "checkout": "beim Bezahlen",
}

CATEGORY_AREA_KEY = {"app_error": "members", "sync": "sync", "login": "login", "content": "lesson", "checkout": "checkout"}

MAX_TITLE = 120
SHARE = 1 / 3


@dataclass(frozen=True)
class Titles:
    title: str
    customer_title: str
    source: str  # known_problem | error_code | area | category


def _share_winner(
    texts: list[str], candidates: list[tuple[str, re.Pattern[str]]], prior: str | None = None
) -> str | None:
    counts: Counter[str] = Counter()
    if prior is not None:
        # The category the reports were filed under is evidence too: worth a third of the reports.
        counts[prior] += max(1, round(SHARE * len(texts)))
    for text in texts:
        for key, pattern in candidates:
            if pattern.search(text):
                counts[key] += 1
    if not counts:
        return None
    order = [key for key, _ in candidates]
    best = max(counts.items(), key=lambda kv: (kv[1], -order.index(kv[0])))
    return best[0] if best[1] >= max(1, SHARE * len(texts)) else None


def _cut(text: str, limit: int = MAX_TITLE) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut + "…"


_GENERIC_SUBJECT = re.compile(
    r"^(?:re|aw|fwd?|wg)\b|\b(?:hilfe|problem(?:e)?|frage|anfrage|support|störung|fehler|bug|technik|dringend)\W*$",
    re.I,
)
_CONTENT = re.compile(r"[A-Za-zÄÖÜäöüß][A-Za-zÄÖÜäöüß-]{4,}")


def _stems(text: str) -> set[str]:
    return {w.lower()[:6] for w in _CONTENT.findall(text)} - {"nicht", "immer", "heute", "hallo", "seit"}


def customers_words(subjects: list[str], texts: list[str]) -> str:
    """The problem in the customers' own words: the subject line that most other reports echo ("Meditationen
    spielen nicht mehr ab"), or "" when no subject says more than "Problem"/"Hilfe"."""
    best, best_score = "", 0
    for subject in subjects:
        subject = " ".join(_GREETING.sub("", subject or "").split()).strip(" -–:!?.")
        if len(subject.split()) < 3 or _GENERIC_SUBJECT.search(subject):
            continue
        mine = _stems(subject)
        score = sum(1 for t in texts if mine & _stems(t))
        if score > best_score:
            best, best_score = subject, score
    return _cut(best[:1].upper() + best[1:], 90) if best_score >= 2 else ""


def distinguishing(findings: list[dict[str, Any]]) -> list[str]:
    """What sets the affected apart, short, for the title: "App 3.5.0", "Android" (one per fact)."""
    from sirene.incidents.brief import facets

    words = []
    for f in facets(findings)[:2]:
        attribute, value = str(f.get("attribute", "")), str(f.get("value", ""))
        if attribute == "app_version":
            words.append(f"App {value}")
        elif attribute in ("os", "device", "browser", "browser_family", "email_provider"):
            words.append(value)
    return words


def build(
    texts: list[str],
    *,
    category: str = "other",
    error_codes: list[str] | None = None,
    known_problem_title: str = "",
    subjects: list[str] | None = None,
    details: list[str] | None = None,
) -> Titles:
    """Titles from the reports' texts (subject + body of each linked case). `subjects`: their subject
    lines (the customers' words); `details`: what distinguishes the affected ("App 3.5.0", "Android")."""
    extra = f" ({', '.join(details)})" if details else ""
    texts = [t[:3000] for t in texts if t and t.strip()]
    area_key = _share_winner(
        texts, [(key, pattern) for key, pattern, _t, _c in AREAS], prior=CATEGORY_AREA_KEY.get(category)
    )
    if area_key is not None and not any(p.search(t) for key, p, _t, _c in AREAS if key == area_key for t in texts):
        area_key = None  # the category alone names no area the reports mention
    area = next(((t, c) for key, _p, t, c in AREAS if key == area_key), None)
    club = bool(texts) and sum(1 for t in texts if _CLUB.search(t)) >= max(1, SHARE * len(texts))
    customer_area = area[1] if area else CATEGORY_AREA.get(category, "")
    customer = f"Störung {customer_area}" if customer_area else "Technische Störung"
    if known_problem_title.strip():
        return Titles(_cut(known_problem_title), _cut(known_problem_title), "known_problem")
    codes = list(error_codes or [])
    if not codes:
        counted: Counter[str] = Counter()
        for text in texts:
            counted.update(set(extract_error_codes(text)))
        codes = [c for c, n in counted.most_common(3) if n >= max(1, SHARE * len(texts))]
    suffix = " (Club)" if club else ""
    if codes:
        where = f" {area[0]}" if area else (f" {CATEGORY_AREA[category]}" if category in CATEGORY_AREA else "")
        return Titles(_cut(f"Fehler {codes[0]}{where}{suffix}"), _cut(customer), "error_code")
    symptom_key = _share_winner(texts, [(phrase, pattern) for pattern, phrase in SYMPTOMS])
    words = customers_words(subjects or [], texts)
    if words and not (area and symptom_key and symptom_key != "Fehlermeldung"):
        # "Probleme in der App" says nothing; the customers' own words do, plus what sets them apart.
        return Titles(_cut(words + extra + suffix), _cut(words), "customers_words")
    if area:
        noun = area[0].split(" ", 1)[1] if " " in area[0] else area[0]
        title = f"{_capital(noun)}: {symptom_key}" if symptom_key else f"Probleme {area[0]}"
        return Titles(_cut(title + extra + suffix), _cut(customer), "area")
    label = CATEGORY_WORDS.get(category, CATEGORY_WORDS["other"])
    title = f"Häufung: {label}" + (f" – {symptom_key}" if symptom_key else "")
    return Titles(_cut(title + suffix), _cut(customer), "category")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def for_incident(incident: Any, known_problem_title: str = "") -> Titles:
    """Titles for an incident from its linked cases, its brief and (given by the caller, who may ask
    the knowledge base) the title of its group's known problem."""
    cases = list(incident.cases.order_by("received_at", "id")[:200])
    brief = incident.brief or {}
    known = known_problem_title
    return build(
        [f"{c.subject}\n{c.body}" for c in cases],
        category=incident.category,
        error_codes=list((brief.get("what") or {}).get("error_codes") or []),
        known_problem_title=known,
        subjects=[c.subject for c in cases],
        details=distinguishing([f for f in brief.get("common_thread") or [] if isinstance(f, dict)]),
    )


_GREETING = re.compile(
    r"^\s*(hallo|hi|hey|guten (morgen|tag|abend)|liebe[rs]?|sehr geehrte[rs]?|moin|servus)\b[^,.!?\n]*[,.!]?\s*",
    re.I,
)


_SIGN_OFF = re.compile(r"\b(viele|liebe|beste|freundliche|herzliche)n? gr(ü|ue)(ß|ss)e\b.*$|\bmfg\b.*$", re.I)


def incident_sentence(incident: Any) -> str:
    """The representative report's own words (its body, not the subject line), one sentence."""
    from sirene.cases.models import Case

    rep = ((incident.brief or {}).get("what") or {}).get("representative") or []
    case_id = rep[0].get("case_id") if rep and isinstance(rep[0], dict) else None
    body = Case.objects.filter(pk=case_id).values_list("body", flat=True).first() if case_id else None
    if not body:
        first = incident.cases.order_by("received_at", "id").values_list("body", flat=True).first()
        body = first or ((incident.brief or {}).get("what") or {}).get("summary") or incident.description
    return representative_sentence(str(body or ""))


def representative_sentence(text: str, limit: int = 200) -> str:
    """One sentence of a representative report, without the greeting ("Hallo, …") or sign-off."""
    text = _SIGN_OFF.sub("", " ".join((text or "").split())).strip()
    for _ in range(2):
        text = _GREETING.sub("", text, count=1)
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]
    chosen = next((s for s in sentences if len(s.split()) >= 4), text)
    chosen = chosen[:1].upper() + chosen[1:]
    return _cut(chosen, limit)
