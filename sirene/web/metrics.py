"""Incident metrics per month and category (PagerDuty-style analytics for a support team).

Per (month, category): incidents opened; the detection delay (first report → incident opened); time to
acknowledgement and to resolution (from opening); customers affected; customer replies sent. Times are
medians in minutes (one slow incident should not hide that most were quick) with the mean next to them.
Months are calendar months in the display time zone, by the incident's opening time.

Incidents are few (a handful a month), so one pass in Python over a year of them is cheap and keeps the
arithmetic the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.utils import timezone

from sirene.cases.models import Category


@dataclass
class Cell:
    month: date
    category: str
    incidents: int = 0
    detection: list[float] = field(default_factory=list)
    ack: list[float] = field(default_factory=list)
    resolution: list[float] = field(default_factory=list)
    customers: int = 0
    replies_sent: int = 0

    @property
    def category_label(self) -> str:
        try:
            return str(Category(self.category).label)
        except ValueError:
            return self.category

    @staticmethod
    def _median(values: list[float]) -> float | None:
        return round(statistics.median(values), 1) if values else None

    @staticmethod
    def _mean(values: list[float]) -> float | None:
        return round(statistics.fmean(values), 1) if values else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "month": self.month.strftime("%Y-%m"),
            "category": self.category,
            "incidents": self.incidents,
            "detection_median_min": self._median(self.detection),
            "detection_mean_min": self._mean(self.detection),
            "ack_median_min": self._median(self.ack),
            "ack_mean_min": self._mean(self.ack),
            "acknowledged": len(self.ack),
            "resolution_median_min": self._median(self.resolution),
            "resolution_mean_min": self._mean(self.resolution),
            "resolved": len(self.resolution),
            "customers_affected": self.customers,
            "replies_sent": self.replies_sent,
        }


def _minutes(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds() / 60)


def _month(moment: datetime) -> date:
    local = timezone.localtime(moment)
    return date(local.year, local.month, 1)


def compute(since: datetime | None = None, until: datetime | None = None) -> list[Cell]:
    """Cells for every (month, category) with at least one incident, oldest month first."""
    from sirene.helpdesk.models import CustomerReply, ReplyStatus
    from sirene.incidents.models import Incident

    incidents = Incident.objects.all()
    if since is not None:
        incidents = incidents.filter(opened_at__gte=since)
    if until is not None:
        incidents = incidents.filter(opened_at__lt=until)
    rows = list(
        incidents.values(
            "pk", "category", "opened_at", "first_seen", "acknowledged_at", "resolved_at", "customers_affected"
        )
    )
    sent: dict[int, int] = defaultdict(int)
    # Only what reached Groove: a reply "sent" in outbox mode (no Groove configured) went nowhere.
    replies = (
        CustomerReply.objects.filter(incident_id__in=[r["pk"] for r in rows], status=ReplyStatus.SENT)
        .exclude(provider_message_id__startswith="outbox:")
        .values_list("incident_id", flat=True)
    )
    for incident_id in replies:
        sent[incident_id] += 1
    cells: dict[tuple[date, str], Cell] = {}
    for r in rows:
        key = (_month(r["opened_at"]), r["category"])
        cell = cells.setdefault(key, Cell(month=key[0], category=key[1]))
        cell.incidents += 1
        for values, start, end in (
            (cell.detection, r["first_seen"], r["opened_at"]),
            (cell.ack, r["opened_at"], r["acknowledged_at"]),
            (cell.resolution, r["opened_at"], r["resolved_at"]),
        ):
            minutes = _minutes(start, end)
            if minutes is not None:
                values.append(minutes)
        cell.customers += r["customers_affected"] or 0
        cell.replies_sent += sent[r["pk"]]
    order = {value: i for i, value in enumerate(Category.values)}
    return sorted(cells.values(), key=lambda c: (c.month, order.get(c.category, 99)))


def months(cells: list[Cell]) -> list[date]:
    return sorted({c.month for c in cells})


def per_month(cells: list[Cell], metric: str) -> list[tuple[str, list[float]]]:
    """One series per category (all categories, so the legend is complete) over the months present."""
    span = months(cells)
    index = {(c.month, c.category): c for c in cells}
    series = []
    for value, label in Category.choices:
        values: list[float] = []
        for m in span:
            cell = index.get((m, value))
            if cell is None:
                values.append(0)
            elif metric == "incidents":
                values.append(cell.incidents)
            elif metric == "customers":
                values.append(cell.customers)
            else:
                values.append(cell.as_dict()[metric] or 0)
        series.append((str(label), values))
    return series


CSV_COLUMNS = [
    "month",
    "category",
    "incidents",
    "detection_median_min",
    "detection_mean_min",
    "acknowledged",
    "ack_median_min",
    "ack_mean_min",
    "resolved",
    "resolution_median_min",
    "resolution_mean_min",
    "customers_affected",
    "replies_sent",
]


# The CSV for German Excel: German headers, category names, ";" and the decimal comma.
CSV_HEADERS = {
    "month": "Monat",
    "category": "Kategorie",
    "incidents": "Störungen",
    "detection_median_min": "Erkennungszeit Median (min)",
    "detection_mean_min": "Erkennungszeit Mittelwert (min)",
    "acknowledged": "Übernommen",
    "ack_median_min": "Zeit bis Übernahme Median (min)",
    "ack_mean_min": "Zeit bis Übernahme Mittelwert (min)",
    "resolved": "Gelöst",
    "resolution_median_min": "Zeit bis Lösung Median (min)",
    "resolution_mean_min": "Zeit bis Lösung Mittelwert (min)",
    "customers_affected": "Betroffene Kund:innen",
    "replies_sent": "An Groove gesendete Antworten",
}


def csv_rows(cells: list[Cell]) -> list[list[str]]:
    """Header and rows of the German CSV (decimal comma, category names, empty cell for "no value")."""
    from django.utils import translation

    out = [[CSV_HEADERS[c] for c in CSV_COLUMNS]]
    with translation.override("de"):
        labels = {value: str(label) for value, label in Category.choices}
    for cell in cells:
        data = cell.as_dict()
        row = []
        for column in CSV_COLUMNS:
            value = data[column]
            if column == "category":
                row.append(labels.get(str(value), str(value)))
            elif value is None:
                row.append("")
            elif isinstance(value, float):
                row.append(f"{value:.1f}".replace(".", ","))
            else:
                row.append(str(value))
        out.append(row)
    return out


def human_minutes(value: float | None) -> str:
    """12 min, 3,5 h, 7,2 Tage: a duration a person reads at a glance."""
    from django.utils.formats import number_format
    from django.utils.translation import gettext as _

    if value is None:
        return "–"
    if value < 120:
        return _("%(n)s min") % {"n": number_format(round(value, 1), 1 if value % 1 else 0)}
    if value < 48 * 60:
        return _("%(n)s h") % {"n": number_format(round(value / 60, 1), 1)}
    return _("%(n)s days") % {"n": number_format(round(value / 1440, 1), 1)}
