"""`sirene bench forms` on a tiny stream of its own: each mail form still reaches its problem."""

from __future__ import annotations

from typing import Any

from sirene.bench.mail_forms import FORMS, measure

TEXTS = {
    "video": [
        "Seit heute Mittag bleibt jedes Kursvideo nach zwei Sekunden schwarz, der Ton läuft weiter.",
        "Die Videos in meinem Kurs werden schwarz, nur der Ton ist noch zu hören.",
        "Bild weg bei allen Lektionsvideos, Ton läuft aber. Seit heute.",
    ],
    "rechnung": [
        "Auf meiner Rechnung fehlt die Umsatzsteuer, ich brauche eine korrigierte Rechnung.",
        "Bitte schicken Sie mir eine neue Rechnung, die Mehrwertsteuer ist nicht ausgewiesen.",
        "Die Rechnung weist keine MwSt. aus, so kann ich sie nicht einreichen.",
    ],
}


def _stream() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    stream = [
        {
            "external_id": f"{pid}-{n}" if n else pid,
            "subject": "Frage",
            "body": text,
            "tags": ["technik"],
            "truth": {"problem": pid},
        }
        for pid, texts in TEXTS.items()
        for n, text in enumerate(texts)
    ]
    for k, m in enumerate(stream):
        m["external_id"] = str(1000 + k)
    return stream, {pid: {"id": pid, "kind": "burst"} for pid in TEXTS}


def test_every_form_is_measured_and_cleaning_leaves_little_trace() -> None:
    result = measure(*_stream())
    assert set(result) == set(FORMS)
    for name, r in result.items():
        assert 0.0 <= r["link_rate"] <= 1.0
        # the customer's own text is all that is left of each form, so it is close to the plain report
        assert r["cosine"] >= 0.85, (name, r)
    assert result["plain"]["link_rate"] == 1.0
