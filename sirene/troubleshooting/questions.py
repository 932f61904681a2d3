"""The questions the guide asks every customer, which are still open, and the German reply that asks them."""

from __future__ import annotations

from dataclasses import dataclass

from sirene.cases.models import Case

# Answers that describe the customer's setup live on the customer (reused by incidents' common thread);
# the rest belongs to this one case.
ATTRIBUTE_KEYS = ("app_version", "browser", "device", "os")
CASE_KEYS = ("first_seen", "action_before")
ANSWER_KEYS = CASE_KEYS + ATTRIBUTE_KEYS
MAX_ANSWER = 500


@dataclass(frozen=True)
class Question:
    key: str
    # Sent to the customer, so German directly (not a UI string).
    text: str
    answer_keys: tuple[str, ...]


QUESTIONS = (
    Question(
        "first_seen",
        "Wann ist das Problem zum ersten Mal aufgetreten (Datum und ungefähre Uhrzeit)?",
        ("first_seen",),
    ),
    Question(
        "action_before",
        "Was haben Sie direkt davor gemacht (z. B. ein Update installiert, sich neu "
        "angemeldet, eine bestimmte Lektion geöffnet)?",
        ("action_before",),
    ),
    Question(
        "app_or_browser",
        "Nutzen Sie unsere App oder den Browser? Bitte nennen Sie uns die App-Version "
        "bzw. den Browser mit Version.",
        ("app_version", "browser"),
    ),
    Question(
        "device",
        "Auf welchem Gerät und mit welchem Betriebssystem tritt das Problem auf "
        "(z. B. iPhone 13 mit iOS 17, Windows-Laptop)?",
        ("device",),
    ),
)


def known_answers(case: Case, answers: dict[str, str]) -> dict[str, str]:
    """Everything sirene knows for the question keys: case answers plus the customer's attributes."""
    known: dict[str, str] = {}
    for key in CASE_KEYS:
        value = str(answers.get(key) or "").strip()
        if value:
            known[key] = value
    attributes = case.customer.attributes or {}
    for key in ATTRIBUTE_KEYS:
        attribute = attributes.get(key)
        if attribute not in (None, ""):
            known[key] = str(attribute)
    return known


def status(case: Case, answers: dict[str, str]) -> list[dict[str, object]]:
    known = known_answers(case, answers)
    rows = []
    for question in QUESTIONS:
        found = {k: known[k] for k in question.answer_keys if k in known}
        rows.append({"key": question.key, "text": question.text, "answered": bool(found), "answers": found})
    return rows


def unanswered(case: Case, answers: dict[str, str]) -> list[Question]:
    known = known_answers(case, answers)
    return [q for q in QUESTIONS if not any(k in known for k in q.answer_keys)]


def reply_text(case: Case, answers: dict[str, str], *, agent_name: str = "") -> str:
    """A ready German reply asking exactly the questions still open; empty when nothing is open."""
    open_questions = unanswered(case, answers)
    if not open_questions:
        return ""
    name = (case.customer.name or "").strip()
    greeting = f"Hallo {name}," if name else "Hallo,"
    lines = [
        greeting,
        "",
        "vielen Dank für Ihre Nachricht. Damit wir das Problem schnell nachvollziehen und beheben können, "
        "brauchen wir noch ein paar Angaben von Ihnen:",
        "",
    ]
    lines += [f"{index}. {q.text}" for index, q in enumerate(open_questions, start=1)]
    lines += [
        "",
        "Ein Screenshot der Fehlermeldung hilft uns ebenfalls sehr.",
        "",
        "Viele Grüße",
        agent_name or "Ihr Support-Team",
    ]
    return "\n".join(lines)
