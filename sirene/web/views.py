from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from sirene.cases.models import Case, Category, Status
from sirene.core import clock
from sirene.flows import health
from sirene.incidents.charts import stacked_bars
from sirene.incidents.models import Incident, IncidentStatus

DASHBOARD_DAYS = 14


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
