"""The starter set, import/export (YAML/JSON), CLI and demo loading."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import CommandError, call_command

from sirene.knowledge import transfer
from sirene.knowledge.models import KnownProblem, Phrasing
from sirene.knowledge.services import KnowledgeError

pytestmark = pytest.mark.django_db


def test_the_starter_set_covers_the_common_problems_in_german_and_english() -> None:
    data = yaml.safe_load(transfer.STARTER_FILE.read_text(encoding="utf-8"))
    problems = data["known_problems"]
    assert len(problems) >= 12
    for p in problems:
        assert p["title"] and p["title_en"] and p["solution_steps"] and p["customer_hints"], p["key"]
        assert 5 <= len(p["phrasings"]) <= 10, p["key"]
        english = [t for t in p["phrasings"] if any(w in t.lower().split() for w in ("i", "my", "the", "it"))]
        assert 2 <= len(english) < len(p["phrasings"]), p["key"]


def test_loading_the_demo_twice_creates_the_starter_set_once() -> None:
    from sirene.knowledge import demo

    out = io.StringIO()
    demo.load(out)
    count = KnownProblem.objects.count()
    phrasings = Phrasing.objects.count()
    demo.load(out)
    assert count >= 12
    assert KnownProblem.objects.count() == count
    assert Phrasing.objects.count() == phrasings
    assert "0 created" in out.getvalue().splitlines()[-1] or "0 created" in out.getvalue()


def test_export_then_import_into_an_empty_kb_reproduces_it(starter_kb: Any) -> None:
    for fmt in ("yaml", "json"):
        text = transfer.export_text(fmt)
        before = transfer.export_data()
        KnownProblem.objects.all().delete()
        result = transfer.import_text(text)
        assert result.created == len(before["known_problems"])
        assert transfer.export_data() == before


def test_reimporting_updates_by_key_and_keeps_learnt_phrasings(starter_kb: Any) -> None:
    problem = KnownProblem.objects.get(key="app-crashes")
    Phrasing.objects.create(known_problem=problem, text="gelernt", source=Phrasing.Source.CONFIRMED)
    data = transfer.export_data()
    for p in data["known_problems"]:
        if p["key"] == "app-crashes":
            p["title"] = "App stürzt ab"
            p["phrasings"] = p["phrasings"][:2]
    result = transfer.import_data(data)
    assert (result.created, result.updated) == (0, 1)
    problem.refresh_from_db()
    assert problem.title == "App stürzt ab"
    assert problem.phrasings.filter(text="gelernt").exists()


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ("known_problems: [{title: ok}, {category: login}]", "known_problems.1.title"),
        ("known_problems: [{title: ok, category: weather}]", "known_problems.0.category"),
        ("known_problems: [{title: a, key: x}, {title: b, key: x}]", "known_problems"),
        ("known_problems: [{title: a, colour: red}]", "known_problems.0.colour"),
        ("known_problems: [{title: a, articles: [{title: no url}]}]", "known_problems.0.articles.0.url"),
        ("known_problems: {title: a}", "known_problems"),
        ("{ nope: [", "file"),
        ('{"known_problems": [}', "file"),
    ],
)
def test_a_bad_file_imports_nothing_and_names_the_problem(raw: str, field: str) -> None:
    with pytest.raises(KnowledgeError) as err:
        transfer.import_text(raw)
    assert err.value.field == field
    assert not KnownProblem.objects.exists()


def test_binary_garbage_is_not_a_file_we_import() -> None:
    with pytest.raises(KnowledgeError) as err:
        transfer.import_text(b"\xff\xfe\x00garbage")
    assert err.value.field == "file"


def test_the_cli_exports_and_imports(starter_kb: Any, tmp_path: Path) -> None:
    target = tmp_path / "kb.json"
    call_command("export_kb", str(target), stderr=io.StringIO())
    exported = json.loads(target.read_text(encoding="utf-8"))
    assert len(exported["known_problems"]) == KnownProblem.objects.count()
    KnownProblem.objects.all().delete()
    out = io.StringIO()
    call_command("import_kb", str(target), stdout=out)
    assert f"{len(exported['known_problems'])} created" in out.getvalue()
    with pytest.raises(CommandError, match="does not exist"):
        call_command("import_kb", str(tmp_path / "missing.yaml"))
