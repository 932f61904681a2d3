"""`sirene bench forms`: does a report still join its own problem when it arrives as a chat, a forward, a form?

Takes the first mails of a corpus's planted problems (bursts, near misses, the spike), wraps each one's
customer text (its cleaned body) in the mail forms a helpdesk delivers — a plain mail, a chat-widget
transcript, a colleague's forward, a web form, a reply in an old order thread, Outlook HTML with
``&nbsp;``, a mobile footer with a sign-off — cleans it as intake does (`clean_report`) and reports per
form: the cosine of the cleaned wrapped text to the cleaned plain report (1.00 = the wrapping left no
trace), and the *link rate*: the share whose nearest other report of the stream (as delivered) belongs
to its own problem with a cosine of at least 0.40 (the window's link bar for reports at the same
moment). The templates are this module's own (German, invented names); no corpus text is in them.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from sirene.bench.detect import default_corpus, load

LINK_BAR = 0.40  # the window's link score for two reports received at the same moment (docs/architecture.md)
FIRST = ["Anna", "Bernd", "Claudia", "Deniz", "Elif", "Frank", "Gabi", "Hannes", "Ines", "Jörg", "Katrin", "Lukas"]
LAST = ["Becker", "Yilmaz", "Wagner", "Hoffmann", "Krüger", "Schulz", "Neumann", "Brandt"]
COLLEAGUES = ["Jonas", "Sabine", "Mehmet", "Ulla"]
NOTES = [
    "kannst du dir das bitte anschauen? Der Kunde wartet schon.",
    "siehe unten, bitte einmal prüfen.",
    "das kam heute bei mir an, ich glaube, das ist eher was für euch.",
]
SIGN_OFFS = ["Bleibt gesund!", "Schönes Wochenende!", "Bleiben Sie gesund"]
FOOTERS = ["Holen Sie sich Outlook für Android", "Von Yahoo Mail auf Android gesendet", "Outlook für iOS beziehen"]


def _sentences(text: str) -> list[str]:
    return [p for p in re.split(r"(?<=[.!?])\s+", text.strip()) if p]


def _plain(subject: str, text: str, rng: random.Random) -> tuple[str, str]:
    return subject, f"Hallo,\n\n{text}\n\nViele Grüße\n{rng.choice(FIRST)}"


def _chat(subject: str, text: str, rng: random.Random) -> tuple[str, str]:
    parts = _sentences(text) or [text]
    half = max(1, len(parts) // 2)
    first, rest = " ".join(parts[:half]), " ".join(parts[half:])
    h, m = rng.randint(8, 21), rng.randint(10, 50)
    lines = [
        f"Chat-Transkript vom {rng.randint(1, 28):02d}.03.2025",
        f"Gestartet: {h}:{m:02d}",
        "Seite: https://www.kurswerk.de/mein-bereich",
        "",
        f"[{h}:{m:02d}] Kurswerk-Bot: Hallo! Wobei können wir dir helfen?",
        f"[{h}:{m:02d}] Besucher: {first}",
        f"[{h}:{m + 1:02d}] Kurswerk-Bot: Danke! Ich verbinde dich mit einer Kollegin aus dem Support.",
        f"[{h}:{m + 3:02d}] Nele (Support): Hallo {rng.choice(FIRST)}, danke für deine Geduld. Welches Gerät nutzt du?",
    ]
    if rest:
        lines.append(f"[{h}:{m + 4:02d}] Besucher: {rest}")
    lines.append(f"[{h}:{m + 5:02d}] Nele (Support): Danke, ich gebe das an unser Technik-Team weiter.")
    return "Chat-Transkript", "\n".join(lines)


def _forward(subject: str, text: str, rng: random.Random) -> tuple[str, str]:
    colleague, first, last = rng.choice(COLLEAGUES), rng.choice(FIRST), rng.choice(LAST)
    return f"WG: {subject}", (
        f"Hallo Support,\n\n{rng.choice(NOTES)}\n\nLG {colleague}\n\n"
        "---------- Weitergeleitete Nachricht ---------\n"
        f"Von: {first} {last} <{first.lower()}.{last.lower()}@web.de>\nDatum: Di., 4. März 2025 um 08:12\n"
        f"Betreff: {subject}\nAn: <{colleague.lower()}@kurswerk.de>\n\nGuten Morgen,\n\n{text}\n\nGruß {first}"
    )


def _form(subject: str, text: str, rng: random.Random) -> tuple[str, str]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    return "Neue Nachricht über das Kontaktformular", (
        f"Kontaktformular\nName: {first} {last}\nE-Mail: {first.lower()}@gmx.de\n"
        f"Telefon: 0171 {rng.randint(1000000, 9999999)}\nBetreff: {subject}\nNachricht: {text}\n---\n"
        "Diese E-Mail wurde über das Kontaktformular auf kurswerk.de gesendet."
    )


def _old_reply(subject: str, text: str, rng: random.Random) -> tuple[str, str]:
    first = rng.choice(FIRST)
    return "AW: Deine Bestellung bei Kurswerk", (
        f"{text}\n\nLG {first}\n\nAm Mi., 8. Jan. 2025 um 10:02 schrieb Kurswerk <bestellung@kurswerk.de>:\n"
        f"> Hallo {first},\n>\n> vielen Dank für deine Bestellung bei Kurswerk! Deine Kurse findest du ab sofort "
        "in deinem Mitgliederbereich.\n>\n> Dein Kurswerk-Team"
    )


def _html(subject: str, text: str, rng: random.Random) -> tuple[str, str]:
    paras = ["Guten Tag,", text.replace(" ", "&nbsp;", 2), "Mit freundlichen Grüßen", rng.choice(FIRST)]
    body = "".join(
        f'<p class="MsoNormal">{p}<o:p></o:p></p><p class="MsoNormal"><o:p>&nbsp;</o:p></p>' for p in paras
    )
    return subject, f"<html><body>{body}</body></html>"


def _footer(subject: str, text: str, rng: random.Random) -> tuple[str, str]:
    return subject, f"{text}\n\n{rng.choice(SIGN_OFFS)}\n{rng.choice(FIRST)}\n\n{rng.choice(FOOTERS)}"


FORMS: dict[str, Callable[[str, str, random.Random], tuple[str, str]]] = {
    "plain": _plain,
    "chat": _chat,
    "forward": _forward,
    "form": _form,
    "old_reply": _old_reply,
    "html": _html,
    "footer": _footer,
}
_PREFIX_RE = re.compile(r"^\s*((re|aw|wg|fw|fwd|nochmal|immer\s+noch|erneut)\s*:\s*)+", re.I)


def measure(stream: list[dict[str, Any]], problems: dict[str, Any]) -> dict[str, dict[str, float]]:
    from sirene.similarity import clean_report, clean_text, default_encoder

    planted = {pid for pid, p in problems.items() if p.get("kind") in ("burst", "near_miss", "spike")}
    tech = [m for m in stream if "technik" in (m.get("tags") or []) and "helga" not in (m.get("tags") or [])]
    truth = [m.get("truth", {}).get("problem") for m in tech]
    encoder = default_encoder()
    delivered = encoder.encode([clean_report(m.get("subject") or "", m.get("body") or "") for m in tech])
    chosen = [i for i, m in enumerate(tech) if truth[i] in planted and "-" not in str(m["external_id"])]
    out: dict[str, dict[str, float]] = {}
    for name, wrap in FORMS.items():
        rng = random.Random(7)
        wrapped = [
            wrap(
                _PREFIX_RE.sub("", tech[i].get("subject") or "").strip() or "Problem",
                clean_text(tech[i].get("body") or "") or (tech[i].get("subject") or ""),
                rng,
            )
            for i in chosen
        ]
        vectors = encoder.encode([clean_report(s, b) for s, b in wrapped])
        own = np.einsum("ij,ij->i", vectors, delivered[chosen])
        sims = vectors @ delivered.T
        links = 0
        for row, i in enumerate(chosen):
            sims[row, i] = -1.0
            j = int(np.argmax(sims[row]))
            links += int(truth[j] == truth[i] and sims[row, j] >= LINK_BAR)
        out[name] = {"cosine": round(float(np.mean(own)), 3), "link_rate": round(links / max(1, len(chosen)), 3)}
    return out


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sirene bench forms", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=None, help="folder with stream-N.jsonl (default: detect_de)")
    parser.add_argument("--seed", type=int, default=1, help="stream seed (default 1)")
    parser.add_argument("--json", action="store_true", help="one JSON object")
    args = parser.parse_args(argv or [])
    folder = args.corpus or default_corpus()
    if not folder.is_dir():
        print(f"sirene bench forms: corpus folder {folder} not found (give --corpus DIR)", file=sys.stderr)
        return 2
    stream, problems = load(folder, args.seed)
    result = measure(stream, problems)
    if args.json:
        print(json.dumps({"corpus": folder.name, "seed": args.seed, "forms": result}))
        return 0
    print(f"{folder.name} seed {args.seed}: cosine to the plain report / link rate")
    for name, r in result.items():
        print(f"  {name:10s} {r['cosine']:.2f} / {r['link_rate']:.2f}")
    return 0
