"""Import and export of the knowledge base as YAML or JSON (UI, CLI and the demo's starter set).

File shape (both formats)::

    version: 1
    known_problems:
      - key: login-password-reset        # stable id: a re-import updates, never duplicates
        title: …, title_en: …, category: login, symptoms: …,
        phrasings: [ …customer texts… ], solution_steps: …, customer_hints: …,
        articles: [{url: …, title: …}]

Importing validates the whole file first and writes it in one transaction, so a bad entry in
line 400 leaves the knowledge base untouched. Phrasings are merged (added, never removed), so
re-importing the starter set keeps everything the knowledge base learnt from confirmed cases.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction

from sirene.accounts.models import User
from sirene.knowledge import services
from sirene.knowledge.models import KnownProblem, Phrasing
from sirene.knowledge.services import KnowledgeError, ProblemData

FORMAT_VERSION = 1
MAX_FILE_BYTES = 10 * 1024 * 1024
STARTER_FILE = Path(__file__).parent / "starter" / "known_problems.yaml"
FIELDS = ("title", "title_en", "category", "symptoms", "solution_steps", "customer_hints", "articles")


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    phrasings_added: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def parse(raw: bytes | str, fmt: str | None = None) -> dict[str, Any]:
    """Parse a YAML or JSON document (format guessed when not given); KnowledgeError names the problem."""
    if isinstance(raw, bytes):
        if len(raw) > MAX_FILE_BYTES:
            raise KnowledgeError("file", f"is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise KnowledgeError("file", f"is not UTF-8 text (byte {exc.start})") from None
    if len(raw) > MAX_FILE_BYTES:
        raise KnowledgeError("file", f"is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    fmt = (fmt or ("json" if raw.lstrip().startswith(("{", "[")) else "yaml")).lower()
    try:
        if fmt == "json":
            data = json.loads(raw)
        elif fmt in {"yaml", "yml"}:
            data = yaml.safe_load(raw)
        else:
            raise KnowledgeError("format", f"{fmt!r} is not one of: yaml, json")
    except json.JSONDecodeError as exc:
        raise KnowledgeError(
            "file", f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        raise KnowledgeError("file", f"malformed YAML{where}") from None
    if isinstance(data, list):  # a bare list of problems is accepted too
        data = {"known_problems": data}
    if not isinstance(data, dict) or not isinstance(data.get("known_problems"), list):
        raise KnowledgeError("known_problems", "the file needs a list 'known_problems'")
    return data


def _entry(item: Any, i: int) -> ProblemData:
    where = f"known_problems.{i}"
    if not isinstance(item, dict):
        raise KnowledgeError(where, "must be an object")
    unknown = set(item) - {*FIELDS, "key", "phrasings", "active", "id"}
    if unknown:
        raise KnowledgeError(f"{where}.{sorted(unknown)[0]}", "unknown field")
    try:
        data = services.validate(
            ProblemData(
                key=item.get("key") or "",
                title=item.get("title"),  # type: ignore[arg-type]
                title_en=item.get("title_en") or "",
                category=item.get("category") or "other",
                symptoms=item.get("symptoms") or "",
                solution_steps=item.get("solution_steps") or "",
                customer_hints=item.get("customer_hints") or "",
                articles=item.get("articles") or [],
                phrasings=item.get("phrasings") or [],
                active=item.get("active", True) is not False,
            )
        )
    except KnowledgeError as exc:
        raise KnowledgeError(f"{where}.{exc.field}", exc.message) from None
    return data


def import_data(data: dict[str, Any], *, actor: User | None = None) -> ImportResult:
    entries = [_entry(item, i) for i, item in enumerate(data["known_problems"])]
    keys = [e.key for e in entries if e.key]
    if len(keys) != len(set(keys)):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise KnowledgeError("known_problems", f"key {dup!r} appears more than once")
    result = ImportResult()
    with transaction.atomic():
        for entry in entries:
            problem = KnownProblem.objects.filter(key=entry.key).first() if entry.key else None
            if problem is None:
                services.create_known_problem(entry, actor=actor, source=Phrasing.Source.IMPORT)
                result.created += 1
                result.phrasings_added += len(entry.phrasings)
                continue
            changed = (
                any(getattr(problem, f) != getattr(entry, f) for f in FIELDS)
                or problem.active != entry.active
            )
            if changed:
                merged = ProblemData(**{**entry.__dict__, "phrasings": []})
                services._apply(problem, merged)
                problem.save()
                services.notify_changed()
            added = services.add_phrasings(problem, entry.phrasings, source=Phrasing.Source.IMPORT)
            result.phrasings_added += added
            if changed or added:
                result.updated += 1
            else:
                result.unchanged += 1
    return result


def import_text(raw: bytes | str, fmt: str | None = None, *, actor: User | None = None) -> ImportResult:
    return import_data(parse(raw, fmt), actor=actor)


def import_starter_set() -> ImportResult:
    return import_text(STARTER_FILE.read_bytes(), "yaml")


def export_data() -> dict[str, Any]:
    problems = []
    for problem in KnownProblem.objects.prefetch_related("phrasings").order_by("key"):
        entry: dict[str, Any] = {"key": problem.key}
        for f in FIELDS:
            entry[f] = getattr(problem, f)
        entry["phrasings"] = [p.text for p in problem.phrasings.all()]
        if not problem.active:
            entry["active"] = False
        problems.append(entry)
    return {"version": FORMAT_VERSION, "known_problems": problems}


def export_text(fmt: str = "yaml") -> str:
    data = export_data()
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if fmt in {"yaml", "yml"}:
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=110)
    raise KnowledgeError("format", f"{fmt!r} is not one of: yaml, json")
