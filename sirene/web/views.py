from __future__ import annotations

import csv
import statistics
from datetime import datetime, time, timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from sirene.cases.models import Case, Category, Status
from sirene.core import clock
from sirene.escalation import services as escalation_services
from sirene.flows import health
from sirene.incidents.charts import grouped_bars, stacked_bars
from sirene.incidents.models import Incident, IncidentStatus
from sirene.web import metrics

DASHBOARD_DAYS = 14


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on every page; answer with the SVG icon (cached for a day)."""
    path = finders.find("sirene/favicon.svg")
    assert isinstance(path, str)
    with open(path, "rb") as fh:
        response = HttpResponse(fh.read(), content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    return response


def category_chart(days: int = DASHBOARD_DAYS) -> tuple[str, int]:
    """Cases per category per day for the last `days` days, as an SVG (and the total shown)."""
    today = timezone.localtime(clock.now()).date()
    first = today - timedelta(days=days - 1)
    start = timezone.make_aware(datetime.combine(first, time.min))
    rows = (
        Case.objects.filter(received_at__gte=start)
        .annotate(day=TruncDate("received_at"))
        .values_list("day", "category")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[tuple[object, str], int] = {(day, cat): n for day, cat, n in rows}
    dates = [first + timedelta(days=i) for i in range(days)]
    series = [(str(label), [counts.get((d, value), 0) for d in dates]) for value, label in Category.choices]
    total = sum(sum(values) for _, values in series)
    return stacked_bars(
        [d.strftime("%d.%m.") for d in dates], series, title=_("Cases per category per day")
    ), total


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    by_status = dict(Case.objects.values_list("status").annotate(n=Count("id")).order_by())
    chart, total = category_chart()
    live = Incident.objects.exclude(status=IncidentStatus.RESOLVED).order_by("-opened_at")[:10]
    return render(
        request,
        "sirene/dashboard.html",
        {
            "by_status": [(label, by_status.get(value, 0), value) for value, label in Status.choices],
            "category_chart": chart,
            "chart_total": total,
            "chart_days": DASHBOARD_DAYS,
            "live_incidents": live,
            "lagging_lanes": [lane for lane in health.lanes() if lane.lagging],
        },
    )


def _metric_period(request: HttpRequest) -> tuple[int, datetime]:
    try:
        months_back = max(1, min(36, int(request.GET.get("months", "12"))))
    except ValueError:
        months_back = 12
    today = timezone.localtime(clock.now()).date()
    year, month = today.year, today.month - (months_back - 1)
    while month <= 0:
        year, month = year - 1, month + 12
    return months_back, timezone.make_aware(datetime(year, month, 1))


@login_required
def metrics_page(request: HttpRequest) -> HttpResponse:
    months_back, since = _metric_period(request)
    cells = metrics.compute(since=since)
    span = metrics.months(cells)
    labels = [date_format(m, "M Y") for m in span]
    times = [
        (_("Detection delay (first report → incident)"), "detection_median_min"),
        (_("Time to acknowledgement"), "ack_median_min"),
        (_("Time to resolution"), "resolution_median_min"),
    ]
    by_month: dict[Any, list[Any]] = {m: [c for c in cells if c.month == m] for m in span}

    def overall(month: Any, key: str) -> float:
        values = [getattr(c, key) for c in by_month[month]]
        merged = [v for vs in values for v in vs]
        return round(statistics.median(merged), 1) if merged else 0

    time_series = [
        (str(label), [overall(m, {"detection_median_min": "detection", "ack_median_min": "ack",
                                  "resolution_median_min": "resolution"}[key]) for m in span])
        for label, key in times
    ]
    # One small chart per time, each on its own scale: a 172 h detection next to 0.6 min bars is unreadable
    # on one axis. Each chart picks minutes or hours for its own values.
    time_charts = []
    for label, values in time_series:
        in_hours = max(values, default=0) > 120
        shown = [round(v / 60, 1) for v in values] if in_hours else values
        time_charts.append(
            grouped_bars(labels, [(label, shown)], title=label, unit=_("h") if in_hours else _("min"))
        )
    rows = []
    for c in cells:
        row = {**c.as_dict(), "category_label": c.category_label, "month_date": c.month}
        for key in ("detection", "ack", "resolution"):
            row[f"{key}_label"] = metrics.human_minutes(row[f"{key}_median_min"])
        rows.append(row)
    return render(
        request,
        "sirene/metrics.html",
        {
            "rows": rows,
            "months_back": months_back,
            "month_choices": [3, 6, 12, 24],
            "incident_chart": stacked_bars(
                labels, metrics.per_month(cells, "incidents"), title=_("Incidents per month and category")
            ),
            "customer_chart": stacked_bars(
                labels, metrics.per_month(cells, "customers"), title=_("Customers affected per month")
            ),
            "time_charts": time_charts,
            "has_data": bool(cells),
            "call_outs": escalation_services.call_outs_per_month(since=since),
        },
    )


@login_required
def metrics_csv(request: HttpRequest) -> HttpResponse:
    _months_back, since = _metric_period(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="sirene-stoerungen-kennzahlen.csv"'
    # German Excel: a byte-order mark so it reads UTF-8, ";" between cells, decimal commas.
    response.write("\ufeff")
    writer = csv.writer(response, delimiter=";")
    writer.writerows(metrics.csv_rows(metrics.compute(since=since)))
    return response
