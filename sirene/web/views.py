from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from sirene.cases.models import Case, Status


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    by_status = dict(Case.objects.values_list("status").annotate(n=Count("id")).order_by())
    return render(
        request,
        "sirene/dashboard.html",
        {"by_status": [(label, by_status.get(value, 0), value) for value, label in Status.choices]},
    )
