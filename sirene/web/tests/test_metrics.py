"""Incident metrics on a small fixed data set: every number checked by hand."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest

from sirene.cases.models import Case, Customer
from sirene.core import clock
from sirene.helpdesk.models import CustomerReply, ReplyKind, ReplyStatus
from sirene.incidents.models import Incident, IncidentStatus
from sirene.web import metrics

pytestmark = pytest.mark.django_db
UTC = dt.UTC


def t(day: int, hour: int, minute: int = 0, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=UTC)


def incident(category: str, first: dt.datetime, opened: dt.datetime, ack: dt.datetime | None,
             resolved: dt.datetime | None, customers: int) -> Incident:
    return Incident.objects.create(
        title=f"{category} {opened}", category=category, first_seen=first, opened_at=opened,
        acknowledged_at=ack, resolved_at=resolved, customers_affected=customers,
        status=IncidentStatus.RESOLVED if resolved else IncidentStatus.OPEN,
    )


@pytest.fixture
def data(db: Any) -> dict[str, Incident]:
    clock.set_now(t(30, 12, month=12))
    # November, login: two incidents. Detection 10 and 30 min; ack 5 and 15; resolution 60 and 180.
    a = incident("login", t(3, 9, 0), t(3, 9, 10), t(3, 9, 15), t(3, 10, 10), 7)
    b = incident("login", t(10, 14, 0), t(10, 14, 30), t(10, 14, 45), t(10, 17, 30), 12)
    # November, checkout: one, never acknowledged, still open.
    c = incident("checkout", t(20, 8, 0), t(20, 8, 20), None, None, 6)
    # December, login: one.
    d = incident("login", t(1, 9, 0, 12), t(1, 9, 2, 12), t(1, 9, 12, 12), t(1, 11, 2, 12), 9)
    customer = Customer.objects.create(email="k@example.de")
    for n, (inc, status) in enumerate(
        [(a, ReplyStatus.SENT), (a, ReplyStatus.SENT), (a, ReplyStatus.FAILED), (b, ReplyStatus.SENT),
         (d, ReplyStatus.QUEUED)]
    ):
        case = Case.objects.create(source="t", external_id=str(n), customer=customer)
        CustomerReply.objects.create(
            kind=ReplyKind.RESOLUTION, incident=inc, case=case, ticket_number=1000 + n, body="…", status=status
        )
    return {"a": a, "b": b, "c": c, "d": d}


def test_numbers_per_month_and_category(data: Any) -> None:
    cells = {(c.month.strftime("%Y-%m"), c.category): c.as_dict() for c in metrics.compute()}
    assert set(cells) == {("2026-11", "login"), ("2026-11", "checkout"), ("2026-12", "login")}
    nov_login = cells[("2026-11", "login")]
    assert nov_login["incidents"] == 2
    assert nov_login["detection_median_min"] == 20.0 and nov_login["detection_mean_min"] == 20.0
    assert nov_login["ack_median_min"] == 10.0 and nov_login["acknowledged"] == 2
    assert nov_login["resolution_median_min"] == 120.0 and nov_login["resolved"] == 2
    assert nov_login["customers_affected"] == 19 and nov_login["replies_sent"] == 3
    nov_checkout = cells[("2026-11", "checkout")]
    assert nov_checkout["detection_median_min"] == 20.0
    assert nov_checkout["ack_median_min"] is None and nov_checkout["acknowledged"] == 0
    assert nov_checkout["resolution_median_min"] is None and nov_checkout["replies_sent"] == 0
    dec_login = cells[("2026-12", "login")]
    assert (dec_login["detection_median_min"], dec_login["ack_median_min"], dec_login["resolution_median_min"]) == (
        2.0, 10.0, 120.0,
    )
    assert dec_login["replies_sent"] == 0  # queued, not sent


def test_the_page_shows_charts_with_every_category_and_the_table(client: Any, agent: Any, data: Any) -> None:
    client.force_login(agent)
    html = client.get("/metrics/").content.decode()
    assert "Kennzahlen zu Störungen" in html
    for label in ("Login", "Checkout", "Sonstiges", "Lektion / Inhalt öffnet nicht"):
        assert label in html
    assert "Erkennungszeit (erste Meldung → Störung)" in html
    table = html[html.index('id="metrics-table"'):]
    assert "November 2026" in table and "Dezember 2026" in table
    assert "2,0 h" in table and "10 min" in table


def test_csv_export_is_german_excel(client: Any, agent: Any, data: Any) -> None:
    client.force_login(agent)
    response = client.get("/metrics.csv")
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert [(r["Monat"], r["Kategorie"], r["Störungen"]) for r in rows] == [
        ("2026-11", "Login", "2"), ("2026-11", "Checkout", "1"), ("2026-12", "Login", "1"),
    ]
    assert rows[0]["An Groove gesendete Antworten"] == "3" and rows[0]["Zeit bis Lösung Mittelwert (min)"] == "120,0"
    assert "detection_median_min" not in text and "app_error" not in text
    assert client.get("/metrics.csv", {"months": "1"}).content.decode().count("\n") == 2  # header + December


def test_replies_that_only_reached_the_outbox_are_not_counted_as_sent(data: Any) -> None:
    CustomerReply.objects.filter(incident=data["a"], status=ReplyStatus.SENT).update(provider_message_id="outbox:1")
    cells = metrics.compute(since=t(1, 0))
    login_november = next(c for c in cells if c.category == "login" and c.month.month == 11)
    assert login_november.replies_sent == 1  # only b's reply reached Groove


def test_the_period_select_has_no_inline_handler(client: Any, agent: Any, data: Any) -> None:
    client.force_login(agent)
    html = client.get("/metrics/").content.decode()
    assert "onchange" not in html and "data-autosubmit" in html and 'id="months-show"' in html


def test_no_template_has_an_inline_event_handler() -> None:
    """sirene's CSP (script-src 'self') blocks inline handlers: none may exist (the dead period select)."""
    import re
    from pathlib import Path

    root = Path(metrics.__file__).resolve().parent.parent
    handler = re.compile(r"<[^>]*\son[a-z]+\s*=", re.I)
    found = [str(p.relative_to(root)) for p in root.glob("**/templates/**/*.html") if handler.search(p.read_text())]
    assert found == []
