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


def _msg(eid: str, minute: int, problem: str, email: str) -> dict[str, object]:
    return {
        "at": f"2025-01-13T10:{minute:02d}:00Z",
        "external_id": eid,
        "customer": {"email": email},
        "truth": {"problem": problem, "kind": "burst"},
    }


def test_score_counts_an_incident_with_two_customers_of_another_problem_as_strictly_wrong() -> None:
    from sirene.bench.detect import score

    stream = [_msg(str(i), i, "a", f"a{i}@x.de") for i in range(6)]
    stream += [_msg(f"b{i}", 10 + i, "b", f"b{i}@x.de") for i in range(2)]
    problems = {
        "a": {
            "id": "a",
            "kind": "burst",
            "must_open": True,
            "thread": None,
            "opens_at": {"external_id": "5"},
        },
        "b": {"id": "b", "kind": "burst", "must_open": False, "thread": None, "opens_at": None},
    }
    # Opened 6 minutes after the 6th customer, with both of b's customers in it.
    late_mixed = {"opened_by": "b1", "messages": [m["external_id"] for m in stream]}
    scored = score(stream, problems, [late_mixed])
    assert scored["precision"] == 1.0
    assert scored["precision_strict"] == 0.0
    assert scored["stray_details"] == [["a", ["b"]]]
    assert scored["delay_after_sixth_min_p50"] == 6.0 and scored["delay_after_sixth_min_p90"] == 6.0
    # One customer of b is a stray, not a merge: strictly right, and on time.
    exact = {"opened_by": "5", "messages": ["0", "1", "2", "3", "4", "5", "b0"]}
    scored = score(stream, problems, [exact])
    assert scored["precision_strict"] == 1.0
    assert scored["delay_after_sixth_min_p90"] == 0.0


def test_rotation_chooses_on_the_other_corpora_and_reports_the_held_out_one(tmp_path: Path) -> None:
    folders = []
    for name in ("one", "two", "three"):
        folder = tmp_path / name
        folder.mkdir()
        _corpus(folder)
        folders.append(folder)
    # A link bar nothing reaches can never open the incident: the protocol must choose the other one.
    result = window.rotate(folders, ["link=0.4,5.0"], [])
    assert result["points"] == ["link=0.4", "link=5.0"]
    assert [r["held_out"] for r in result["rotations"]] == ["one", "two", "three"]
    for rotation in result["rotations"]:
        assert rotation["chosen"] == "link=0.4"
        assert rotation["held_out"] not in rotation["chosen_on"]
        assert rotation["held_out_rows"][0]["recall"] == 1.0
