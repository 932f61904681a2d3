from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from sirene.cases.models import Case, Status
from sirene.flows.intake import import_csv

pytestmark = pytest.mark.django_db

SHEET_DE = """Datum;Kunde;Name;Betreff;Beschreibung;Kategorie;Status;Bearbeiter;Ticket;Tags;Lösung
21.11.2026 09:12;maria@gmx.de;Maria M.;Login geht nicht;Passwort wird nicht akzeptiert;Login;in Bearbeitung;anna;#1001;technik;
21.11.2026 10:00;peter@web.de;Peter;Video lädt nicht;Lektion 3 bleibt schwarz;Lektion;gelöst;anna;1002;technik;Cache geleert
gestern;kaputt@example.de;X;Test;x;Login;neu;;1003;technik;
21.11.2026 11:00;anna@t-online.de;Anna;App Absturz;App stürzt ab;Wetter;neu;;1004;;
21.11.2026 12:00;olga@gmail.com;Olga;Falsch bedient;Kundin findet Button nicht;Login;neu;;1005;#helga;
21.11.2026 13:00;nicht-gueltig;Olaf;Checkout;Zahlung geht nicht;Checkout;neu;;1006;;
"""

SHEET_EN = """Date,Email,Subject,Description,Category,Status
2026-11-20,ben@example.com,Payment failed,Card declined at checkout,checkout,new
2026-11-20,ben@example.com,Payment failed,Card declined at checkout,checkout,new
"""


def write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "sheet.csv"
    path.write_text(text, encoding=encoding)
    return path


def test_it_imports_good_rows_and_reports_bad_ones_by_line_and_field(tmp_path: Path, agent: Any) -> None:
    report = import_csv(write(tmp_path, SHEET_DE))
    assert report.created == 2
    assert report.skipped == 1  # the #helga row
    assert {(e.line, e.field) for e in report.errors} == {
        (4, "received_at"),
        (5, "category"),
        (7, "customer.email"),
    }
    solved = Case.objects.get(external_id="1002")
    assert solved.status == Status.SOLVED and solved.solution == "Cache geleert" and solved.owner == agent
    assert Case.objects.get(external_id="1001").status == Status.IN_PROGRESS


def test_importing_the_same_file_twice_creates_nothing_new(tmp_path: Path, agent: Any) -> None:
    path = write(tmp_path, SHEET_DE)
    import_csv(path)
    again = import_csv(path)
    assert again.created == 0 and again.updated == 0
    assert Case.objects.count() == 2


def test_a_changed_status_in_a_later_export_updates_the_case(tmp_path: Path, agent: Any) -> None:
    import_csv(write(tmp_path, SHEET_DE))
    changed = SHEET_DE.replace("in Bearbeitung;anna;#1001", "erledigt;anna;#1001")
    report = import_csv(write(tmp_path, changed))
    assert report.updated == 1
    assert Case.objects.get(external_id="1001").status == Status.SOLVED


def test_english_headers_comma_separated_and_rows_without_ticket_are_idempotent(tmp_path: Path) -> None:
    report = import_csv(write(tmp_path, SHEET_EN))
    assert report.created == 1 and report.skipped == 1
    assert Case.objects.get().category == "checkout"


def test_windows_1252_exports_are_read(tmp_path: Path, agent: Any) -> None:
    report = import_csv(write(tmp_path, SHEET_DE, encoding="cp1252"))
    assert report.created == 2
    assert Case.objects.get(external_id="1002").subject == "Video lädt nicht"


def test_a_file_without_customer_column_is_refused_clearly(tmp_path: Path) -> None:
    report = import_csv(write(tmp_path, "Betreff;Text\nA;B\n"))
    assert report.errors and report.errors[0].field == "email"
    assert Case.objects.count() == 0


def test_the_command_prints_a_summary(tmp_path: Path, agent: Any, capsys: Any) -> None:
    call_command("import_cases", str(write(tmp_path, SHEET_DE)))
    out = capsys.readouterr().out
    assert "created" in out and "line 5 (category)" in out


# --- faults (security review F7): encodings and big cells are per-row problems, never a traceback ----------


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-8-sig", "utf-32"])
def test_utf16_and_bom_files_are_detected(tmp_path: Path, agent: Any, encoding: str) -> None:
    """Excel's "Unicode text" is UTF-16 with a BOM (also without one, little-endian); UTF-8 with a BOM."""
    report = import_csv(write(tmp_path, SHEET_DE, encoding=encoding))
    assert report.created == 2 and len(report.errors) == 3
    assert Case.objects.get(external_id="1002").subject == "Video lädt nicht"


def test_a_big_cell_is_refused_with_a_row_error_and_the_other_rows_are_imported(tmp_path: Path, agent: Any) -> None:
    big = "x" * 200_000
    sheet = (
        "Datum;Kunde;Betreff;Beschreibung;Ticket\n"
        "21.11.2026 09:12;maria@gmx.de;Login geht nicht;Passwort falsch;2001\n"
        f"21.11.2026 09:13;peter@web.de;Video;{big};2002\n"
        "21.11.2026 09:14;olga@gmail.com;App;stürzt ab;2003\n"
    )
    report = import_csv(write(tmp_path, sheet))
    assert report.created == 2
    assert [(e.line, e.field) for e in report.errors] == [(3, "body")]
    assert "200000 characters" in report.errors[0].message
    assert set(Case.objects.values_list("external_id", flat=True)) == {"2001", "2003"}


def test_nul_bytes_and_cr_only_lines_do_not_stop_the_import(tmp_path: Path, agent: Any) -> None:
    sheet = (
        "Datum;Kunde;Betreff;Beschreibung;Ticket\r"
        "21.11.2026 09:12;maria@gmx.de;Login\x00 geht nicht;Passwort falsch;3001\r"
        "21.11.2026 09:14;olga@gmail.com;App;stürzt ab;3002\r"
    )
    path = tmp_path / "sheet.csv"
    path.write_bytes(sheet.encode("utf-8"))
    report = import_csv(path)
    assert report.created == 2 and report.errors == []
    assert Case.objects.get(external_id="3001").subject == "Login geht nicht"
