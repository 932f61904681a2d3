"""The public status notice (login-free): open incidents the lead published, with their
customer-facing title and status text, so customers who did not write in see them too.

Nothing internal leaves through here: no internal title, cause, counts, customers or ids beyond the
incident number. German only, like every customer text. Three shapes of the same data:
`/status/` (a page), `/status/status.json` (for the members' area and the app) and
`/status/embed.js` (a snippet that shows "Bekannte Störung: … Wir arbeiten daran." where it is included).
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from sirene.incidents.models import Incident, IncidentStatus

STATUS_WORDS: dict[str, str] = {
    IncidentStatus.OPEN: "Wir untersuchen das Problem.",
    IncidentStatus.ACKNOWLEDGED: "Wir arbeiten daran.",
}


def published() -> list[dict[str, Any]]:
    rows = (
        Incident.objects.filter(published=True)
        .exclude(status=IncidentStatus.RESOLVED)
        .order_by("-opened_at")
        .values("pk", "customer_title", "public_text", "public_updated_at", "opened_at", "status")[:20]
    )
    return [
        {
            "id": row["pk"],
            "title": row["customer_title"] or "Technische Störung",
            "text": row["public_text"],
            "state": STATUS_WORDS.get(row["status"], "Wir arbeiten daran."),
            "since": row["opened_at"].isoformat(),
            "updated_at": (row["public_updated_at"] or row["opened_at"]).isoformat(),
        }
        for row in rows
    ]


@require_GET
@cache_control(max_age=30, public=True)
def page(request: HttpRequest) -> HttpResponse:
    from django.utils.dateparse import parse_datetime

    items = [{**i, "updated": parse_datetime(i["updated_at"])} for i in published()]
    return render(request, "status/page.html", {"incidents": items, "public_url": settings.PUBLIC_URL})


@require_GET
@cache_control(max_age=30, public=True)
def status_json(request: HttpRequest) -> JsonResponse:
    items = published()
    response = JsonResponse({"ok": not items, "incidents": items})
    # The members' area and the app live on other origins; the data is public anyway.
    response["Access-Control-Allow-Origin"] = "*"
    return response


EMBED = """(function () {
  var s = document.currentScript, url = %(url)s;
  var box = document.createElement("div");
  box.className = "sirene-status";
  box.setAttribute("role", "status");
  box.hidden = true;
  box.style.cssText = "background:#fff4e5;border:1px solid #f0b35c;border-radius:6px;padding:8px 12px;font:14px/1.4 sans-serif;color:#5a3700;margin:8px 0";
  s.parentNode.insertBefore(box, s);
  fetch(url, {credentials: "omit"}).then(function (r) { return r.json(); }).then(function (data) {
    if (!data.incidents || !data.incidents.length) { return; }
    box.textContent = "";
    data.incidents.forEach(function (i) {
      var p = document.createElement("p");
      p.style.margin = "0";
      var b = document.createElement("strong");
      b.textContent = "Bekannte Störung: " + i.title + ". ";
      p.appendChild(b);
      p.appendChild(document.createTextNode(i.text ? i.text : i.state));
      box.appendChild(p);
    });
    box.hidden = false;
  }).catch(function () {});
})();
"""


@require_GET
@cache_control(max_age=300, public=True)
def embed_js(request: HttpRequest) -> HttpResponse:
    url = json.dumps(f"{settings.PUBLIC_URL}/status/status.json")
    response = HttpResponse(EMBED % {"url": url}, content_type="text/javascript; charset=utf-8")
    response["Access-Control-Allow-Origin"] = "*"
    return response
