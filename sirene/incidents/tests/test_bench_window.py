"""`sirene bench window` on a tiny corpus of our own: the plumbing and the scores it prints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sirene.bench import window

TEXTS = [
    "Seit heute Morgen kommt beim Öffnen von „Meine Kurse“ nur Fehler 500.",
    "Meine Kurse zeigen einen Fehler 500 an, im Browser und in der App.",
    "Hallo, bei mir kommt auf der Kursübersicht Internal Server Error 500.",
    "Kursübersicht geht nicht: 500 Internal Server Error seit heute früh.",
    "my courses page gives error 500 since this morning",
    "Fehler 500 wenn ich auf Meine Kurse klicke, Profil geht.",
    "Immer noch Fehler 500 bei Meine Kurse!",
]


def _corpus(folder: Path) -> None:
    lines = []
    for i, text in enumerate(TEXTS):
        lines.append(
            {
                "at": f"2025-01-13T09:{10 + 5 * i:02d}:00Z",
                "source": "groove",
                "external_id": str(100 + i),
                "subject": "Meine Kurse",
                "body": text,
                "tags": ["technik", "mitgliederbereich"],
                "customer": {"email": f"kundin{i}@example.de", "attributes": {}},
                "truth": {"problem": "b500", "kind": "burst"},
            }
        )
    lines.append(
        {
            "at": "2025-01-13T10:30:00Z",
            "source": "groove",
            "external_id": "200",
            "subject": "Kündigung",
            "body": "Wie kündige ich mein Abo?",
            "tags": ["kündigung"],
            "customer": {"email": "other@example.de", "attributes": {}},
            "truth": {"problem": "single_1", "kind": "single"},
        }
    )
    (folder / "stream-1.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    problems = [
        {
            "id": "b500",
            "kind": "burst",
            "must_open": True,
            "thread": None,
            "opens_at": {"external_id": "105"},
        },
        {"id": "single_1", "kind": "single", "must_open": False, "thread": None, "opens_at": None},
    ]
    (folder / "problems-1.json").write_text(json.dumps({"problems": problems}), encoding="utf-8")


@pytest.mark.usefixtures("db")
def test_bench_window_replays_and_scores_a_corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _corpus(tmp_path)
    assert window.run(["--corpus", str(tmp_path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    seed = out["seeds"][0]
    assert seed["recall"] == 1.0 and seed["precision"] == 1.0 and seed["at_sixth"] == 1.0
    assert seed["moments"] == 1 and seed["exact"] == 1 and seed["strays"] == 0
    # A bad override is a clear error, not a silent default.
    assert window.run(["--corpus", str(tmp_path), "--param", "nonsense=1"]) == 2
    assert "not a WindowParams field" in capsys.readouterr().err
