"""Import an export of the existing tracking spreadsheet ("Technikfälle-Tracking") as CSV.

Columns are mapped by header, German or English, case- and punctuation-insensitive. Rows are idempotent:
a row with a ticket number is keyed (groove, number); one without is keyed by a hash of date, customer and
subject, so importing the same file twice creates nothing new. Bad rows are reported with their line number
and field and never stop the good ones; each row is its own transaction.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from django.db import transaction
from django.utils import timezone

from sirene.accounts.models import User
from sirene.cases import services
from sirene.cases.models import Case, Category, Status

# canonical field -> accepted header spellings (normalised: lowercase, letters/digits only)
HEADERS: dict[str, tuple[str, ...]] = {
    "received_at": (
        "datum",
        "date",
        "eingang",
        "eingegangen",
        "received",
        "receivedat",
        "erstellt",
        "created",
        "zeitpunkt",
    ),
    "email": (
        "email",
        "mail",
        "emailadresse",
        "kundenemail",
        "kundenmail",
        "customeremail",
        "kunde",
        "customer",
    ),
    "name": ("name", "kundenname", "customername"),
    "subject": ("betreff", "subject", "titel", "title", "problem", "anliegen"),
    "body": (
        "beschreibung",
        "description",
        "details",
        "text",
        "nachricht",
        "message",
        "body",
        "fehlerbeschreibung",
    ),
    "category": ("kategorie", "category", "bereich", "art", "typ", "type"),
    "status": ("status", "stand"),
    "owner": (
        "bearbeiter",
        "bearbeiterin",
        "zustandig",
        "zustaendig",
        "verantwortlich",
        "owner",
        "agent",
        "assignee",
    ),
    "ticket": (
        "ticket",
        "ticketnr",
        "ticketnummer",
        "ticketid",
        "grooveid",
        "groove",
        "externalid",
        "id",
        "nr",
    ),
    "tags": ("tags", "tag", "schlagworte", "labels"),
    "solution": ("losung", "loesung", "solution", "fix", "massnahme", "ergebnis"),
    "channel": ("kanal", "channel", "quelle", "source"),
    "customer_id": ("kundennummer", "kundennr", "customerid"),
}

CATEGORY_WORDS: list[tuple[Category, tuple[str, ...]]] = [
    (
        Category.APP_ERROR,
        ("app_error", "fehler", "error", "fehlermeldung", "fehlerseite", "mitgliederbereich"),
    ),
    (Category.SYNC, ("sync", "synchron", "abgleich")),
    (Category.LOGIN, ("login", "anmeld", "einlogg", "passwort", "password")),
    (Category.CONTENT, ("content", "inhalt", "lektion", "lesson", "video", "kurs")),
    (Category.CHECKOUT, ("checkout", "zahlung", "payment", "kauf", "bestell", "rechnung")),
    (Category.OTHER, ("other", "sonstig", "andere")),
]
STATUS_WORDS: list[tuple[Status, tuple[str, ...]]] = [
    (Status.SOLVED, ("solved", "gelost", "geloest", "erledigt", "done", "closed", "geschlossen", "fertig")),
    (Status.OPEN_QUESTION, ("open_question", "offenefrage", "openquestion", "offen frage", "technik")),
    (Status.WAITING, ("waiting", "wartet", "rueckfrage", "ruckfrage", "kunde")),
    (Status.IN_PROGRESS, ("in_progress", "inbearbeitung", "bearbeitung", "progress", "inarbeit")),
    (Status.NEW, ("new", "neu", "offen", "open")),
]


def _norm(text: str) -> str:
    text = text.lower().replace("ä", "a").replace("ö", "o").replace("ü", "u").replace("ß", "ss")
    return re.sub(r"[^a-z0-9]", "", text)


@dataclass
class RowError:
    line: int
    field: str
    message: str


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    skipped_reasons: list[tuple[int, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.skipped + len(self.errors)


def map_headers(headers: list[str]) -> dict[str, int]:
    mapping: dict[str, int] = {}
    for index, header in enumerate(headers):
        key = _norm(header)
        for canonical, spellings in HEADERS.items():
            if canonical not in mapping and key in spellings:
                mapping[canonical] = index
                break
    return mapping


# A cell longer than this is refused with a row error (a case body is at most 200 000 characters anyway);
# the csv module's own limit would abort the whole file with a traceback instead.
MAX_CELL_CHARS = 131_072
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def _read_text(path: Path) -> str:
    """The file's text: a BOM decides (UTF-8, UTF-16, UTF-32: what Excel's "Unicode text" writes), else
    UTF-16 without BOM when every other byte is NUL, else UTF-8, else Windows-1252. NULs are dropped,
    line ends become LF."""
    raw = path.read_bytes()
    encodings = [enc for bom, enc in _BOMS if raw.startswith(bom)][:1]
    if not encodings and len(raw) >= 4:
        sample = raw[:4096]
        if sample[1::2].count(0) > len(sample) // 4:
            encodings.append("utf-16-le")
        elif sample[0::2].count(0) > len(sample) // 4:
            encodings.append("utf-16-be")
    text = None
    for encoding in [*encodings, "utf-8-sig", "cp1252"]:
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        text = raw.decode("utf-8", errors="replace")
    # Old Mac exports end lines with CR alone; the sniffer and the reader want LF.
    return text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")


def parse_datetime(value: str) -> dt.datetime:
    value = value.strip()
    formats = (
        "%d.%m.%Y %H:%M:%S",
        "%d.%m.%Y %H:%M",
        "%d.%m.%Y",
        "%d.%m.%y",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d",
        "%m/%d/%Y",
    )
    parsed: dt.datetime | None = None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        for fmt in formats:
            try:
                parsed = dt.datetime.strptime(value, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        raise ValueError(f"{value!r} is not a date (expected e.g. 22.11.2026 14:30 or 2026-11-22)")
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def _lookup(value: str, table: list[tuple[Any, tuple[str, ...]]], what: str) -> Any:
    key = _norm(value)
    if not key:
        return None
    for choice, words in table:
        if key == _norm(str(choice)) or any(_norm(w) and _norm(w) in key for w in words):
            return choice
    raise ValueError(f"{value!r} is not a known {what}")


def iter_rows(text: str) -> Iterator[tuple[int, list[str] | str]]:
    """(line, cells), or (line, message) for a record the csv module cannot read; the rest still comes."""
    sample = text[:4096]
    if "\n" in sample:  # whole lines only: a cut line (a big cell) miscounts the delimiters
        sample = sample[: sample.rindex("\n")]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    old_limit = csv.field_size_limit()
    csv.field_size_limit(max(old_limit, 64 * MAX_CELL_CHARS))  # big cells become row errors below
    try:
        while True:
            before = reader.line_num
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield reader.line_num, f"the line cannot be read as CSV: {exc}"
                if reader.line_num == before:
                    return  # no progress: the rest is unreadable
                continue
            yield reader.line_num, row
    finally:
        csv.field_size_limit(old_limit)


class ReportFn(Protocol):
    def __call__(
        self, data: services.IntakeData, *, actor: User | None = ..., actor_label: str = ...
    ) -> services.IntakeResult: ...


class ChangeStatusFn(Protocol):
    def __call__(
        self, case: Case, status: str, *, actor: User | None, actor_label: str = ..., note: str = ...
    ) -> Case: ...


def import_csv(
    path: Path,
    *,
    report_case: ReportFn,
    change_status: ChangeStatusFn,
    actor: User | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import the spreadsheet export. `report_case` / `change_status` store a row and move its status
    (the flows pass theirs, `sirene.flows.intake.import_csv`, so rows are analysed like any report)."""
    text = _read_text(path)
    rows = iter_rows(text)
    report = ImportReport()
    try:
        _line, first = next(rows)
    except StopIteration:
        report.errors.append(RowError(1, "", "the file is empty"))
        return report
    if isinstance(first, str):
        report.errors.append(RowError(1, "", first))
        return report
    headers = first
    mapping = map_headers(headers)
    if "email" not in mapping and "customer_id" not in mapping:
        report.errors.append(RowError(1, "email", f"no customer e-mail column among headers {headers!r}"))
        return report
    if "subject" not in mapping and "body" not in mapping:
        report.errors.append(
            RowError(1, "subject", f"no subject or description column among headers {headers!r}")
        )
        return report
    users = {u.username.lower(): u for u in User.objects.all()}
    users.update({u.first_name.lower(): u for u in User.objects.exclude(first_name="")})
    names = {index: canonical for canonical, index in mapping.items()}
    for line, row in rows:
        if isinstance(row, str):
            report.errors.append(RowError(line, "", row))
            continue
        if not any(cell.strip() for cell in row):
            continue
        big = next((i for i, cell in enumerate(row) if len(cell) > MAX_CELL_CHARS), None)
        if big is not None:
            column = names.get(big) or (headers[big] if big < len(headers) else f"column {big + 1}")
            message = f"a cell of {len(row[big])} characters is larger than the limit of {MAX_CELL_CHARS}"
            report.errors.append(RowError(line, column, message))
            continue
        try:
            outcome = _import_row(line, row, mapping, users, actor, report_case, change_status)
        except services.IntakeError as exc:
            report.errors.append(RowError(line, exc.field, exc.message))
        except _RowProblem as exc:
            report.errors.append(RowError(line, exc.field, exc.message))
        else:
            if outcome == "created":
                report.created += 1
            elif outcome == "updated":
                report.updated += 1
            else:
                report.skipped += 1
                if outcome != "unchanged":
                    report.skipped_reasons.append((line, outcome))
        if progress:
            progress(1)
    return report


class _RowProblem(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _cell(row: list[str], mapping: dict[str, int], name: str) -> str:
    index = mapping.get(name)
    if index is None or index >= len(row):
        return ""
    return row[index].strip()


def _import_row(
    line: int,
    row: list[str],
    mapping: dict[str, int],
    users: dict[str, User],
    actor: User | None,
    report_case: ReportFn,
    change_status: ChangeStatusFn,
) -> str:
    def get(name: str) -> str:
        return _cell(row, mapping, name)

    received = None
    if get("received_at"):
        try:
            received = parse_datetime(get("received_at"))
        except ValueError as exc:
            raise _RowProblem("received_at", str(exc)) from None
    try:
        category = _lookup(get("category"), CATEGORY_WORDS, "category")
    except ValueError as exc:
        raise _RowProblem("category", str(exc)) from None
    try:
        status = _lookup(get("status"), STATUS_WORDS, "status")
    except ValueError as exc:
        raise _RowProblem("status", str(exc)) from None
    owner = None
    if get("owner"):
        owner = users.get(get("owner").lower())
        if owner is None:
            raise _RowProblem("owner", f"no sirene user {get('owner')!r}")
    subject = get("subject") or get("body")[:120]
    ticket = get("ticket")
    if ticket:
        source, external_id = "groove", ticket.lstrip("#")
    else:
        key = "|".join([get("received_at"), get("email").lower(), get("customer_id"), subject])
        source, external_id = "sheet", hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    data = services.IntakeData(
        source=source,
        external_id=external_id,
        subject=subject,
        body=get("body"),
        customer=services.CustomerData(
            email=get("email") or None, external_id=get("customer_id") or None, name=get("name")
        ),
        tags=[t for t in re.split(r"[,\s]+", get("tags")) if t],
        category=category,
        channel=get("channel") or "email",
        received_at=received,
        raw_payload={"import": {"line": line, "row": row}},
        require_tech_tag=False,  # the sheet is the tracking list: its tags are labels, not the Groove tag
    )
    with transaction.atomic():
        result = report_case(data, actor=actor, actor_label="import")
        if not result.tracked:
            return result.reason
        assert result.case is not None
        changed = _apply_state(result.case, status, owner, get("solution"), actor, change_status)
    if result.created:
        return "created"
    return "updated" if changed else "unchanged"


def _apply_state(
    case: Case,
    status: Status | None,
    owner: User | None,
    solution: str,
    actor: User | None,
    change_status: ChangeStatusFn,
) -> bool:
    changed = False
    case.refresh_from_db()
    if owner is not None and case.owner_id != owner.pk:
        services.assign(case, owner, actor=actor, actor_label="import")
        changed = True
    if status is not None and case.status != status:
        change_status(
            case, status, actor=actor, actor_label="import", note=solution if status == Status.SOLVED else ""
        )
        changed = True
    elif solution and not case.solution:
        Case.objects.filter(pk=case.pk).update(solution=solution)
        services.record(case, "changed", actor=actor, actor_label="import", field="solution", new=solution)
        changed = True
    return changed
