"""Project/account snapshots as plain JSON: validation, canonical checksum, and a readable diff.

No Django models here, so the diff can be benchmarked and tested on its own. The diff walks both
documents once and skips equal subtrees with one C-level `==`, so a 5 MB snapshot with a few changes
costs little more than parsing it; output is capped so a page never renders 100 000 rows.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

MAX_DEPTH = 64
DEFAULT_LIMIT = 500
VALUE_PREVIEW = 200


class SnapshotError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def canonical_bytes(data: Any) -> bytes:
    """Key order and whitespace never change the checksum of the same content."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def checksum(data: Any) -> str:
    return hashlib.sha256(canonical_bytes(data)).hexdigest()


def _check_depth(data: Any, field_name: str) -> None:
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise SnapshotError(field_name, f"is nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node if isinstance(v, (dict, list)))


def parse(raw: str | bytes | Any, *, max_bytes: int, field_name: str = "data") -> tuple[Any, bytes]:
    """Validate a snapshot (JSON text or an already parsed value); return it and its canonical bytes.

    Only an object or an array is a project/account state; a bare string or number is a mistake.
    """
    if isinstance(raw, (bytes, bytearray)):
        if len(raw) > max_bytes:
            raise SnapshotError(field_name, f"is larger than {max_bytes} bytes ({len(raw)} bytes)")
        try:
            raw = bytes(raw).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SnapshotError(field_name, f"is not UTF-8 (byte {exc.start})") from None
    if isinstance(raw, str):
        if len(raw) > max_bytes:
            raise SnapshotError(field_name, f"is larger than {max_bytes} bytes")
        if not raw.strip():
            raise SnapshotError(field_name, "is empty")
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise SnapshotError(
                field_name, f"is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            ) from None
        except RecursionError:
            raise SnapshotError(field_name, f"is nested deeper than {MAX_DEPTH} levels") from None
    else:
        data = raw
    if not isinstance(data, (dict, list)):
        raise SnapshotError(field_name, "must be a JSON object or array")
    _check_depth(data, field_name)
    try:
        body = canonical_bytes(data)
    except (TypeError, ValueError) as exc:
        raise SnapshotError(field_name, f"cannot be stored as JSON: {exc}") from None
    if len(body) > max_bytes:
        raise SnapshotError(field_name, f"is larger than {max_bytes} bytes ({len(body)} bytes)")
    return data, body


@dataclass
class Diff:
    entries: list[dict[str, str]] = field(default_factory=list)
    added: int = 0
    removed: int = 0
    changed: int = 0
    limit: int = DEFAULT_LIMIT

    @property
    def total(self) -> int:
        return self.added + self.removed + self.changed

    @property
    def truncated(self) -> bool:
        return self.total > len(self.entries)

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "removed": self.removed,
            "changed": self.changed,
            "total": self.total,
            "truncated": self.truncated,
            "entries": self.entries,
        }

    def _add(self, op: str, path: str, before: Any = None, after: Any = None) -> None:
        if op == "added":
            self.added += 1
        elif op == "removed":
            self.removed += 1
        else:
            self.changed += 1
        if len(self.entries) < self.limit:
            self.entries.append(
                {
                    "op": op,
                    "path": path or "$",
                    "before": "" if op == "added" else preview(before),
                    "after": "" if op == "removed" else preview(after),
                }
            )


def preview(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= VALUE_PREVIEW else text[: VALUE_PREVIEW - 1] + "…"


def _key_path(path: str, key: str) -> str:
    if key.isidentifier():
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key, ensure_ascii=False)}]"


def _ids(items: list[Any]) -> list[Any] | None:
    """Lists of records with a unique "id" are matched by id, so one insertion is not N changes."""
    if not items or not all(isinstance(i, dict) and "id" in i for i in items):
        return None
    ids = [i["id"] for i in items]
    try:
        if len(set(ids)) != len(ids):
            return None
    except TypeError:
        return None
    return ids


def diff(before: Any, after: Any, *, limit: int = DEFAULT_LIMIT) -> Diff:
    result = Diff(limit=limit)
    stack: list[tuple[str, Any, Any]] = [("", before, after)]
    while stack:
        path, a, b = stack.pop()
        if a == b and type(a) is type(b):
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            pending = []
            for key in a:
                sub = _key_path(path, str(key))
                if key in b:
                    pending.append((sub, a[key], b[key]))
                else:
                    result._add("removed", sub, before=a[key])
            for key in b:
                if key not in a:
                    result._add("added", _key_path(path, str(key)), after=b[key])
            stack.extend(reversed(pending))
        elif isinstance(a, list) and isinstance(b, list):
            ids_a, ids_b = _ids(a), _ids(b)
            pending = []
            if ids_a is not None and ids_b is not None:
                by_id_b = dict(zip(ids_b, b, strict=True))
                set_a = set(ids_a)
                for ident, item in zip(ids_a, a, strict=True):
                    sub = f"{path}[id={ident}]"
                    if ident in by_id_b:
                        pending.append((sub, item, by_id_b[ident]))
                    else:
                        result._add("removed", sub, before=item)
                for ident, item in zip(ids_b, b, strict=True):
                    if ident not in set_a:
                        result._add("added", f"{path}[id={ident}]", after=item)
            else:
                for index in range(max(len(a), len(b))):
                    sub = f"{path}[{index}]"
                    if index >= len(b):
                        result._add("removed", sub, before=a[index])
                    elif index >= len(a):
                        result._add("added", sub, after=b[index])
                    else:
                        pending.append((sub, a[index], b[index]))
            stack.extend(reversed(pending))
        else:
            result._add("changed", path, before=a, after=b)
    return result
