from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from sirene.api.urls import api

handler404 = "sirene.core.middleware.not_found"  # JSON under /api/ (issue 23)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("hooks/", include("sirene.hooks.urls")),
    path("", include("sirene.accounts.urls")),
    path("", include("sirene.web.urls")),
    path("cases/", include("sirene.cases.urls")),
    path("knowledge/", include("sirene.knowledge.urls")),
    path("incidents/", include("sirene.incidents.urls")),
    path("escalation/", include("sirene.escalation.urls")),
    path("troubleshooting/", include("sirene.troubleshooting.urls")),
    path("helpdesk/", include("sirene.helpdesk.urls")),
    # Public, login-free: the status notice for customers (issue 12).
    path("status/", include("sirene.status.urls")),
    path("settings/", include("sirene.web.settings_urls")),
    # The team in the loop (issue 18): same problem yes/no, near-miss split, open an incident by hand.
    path("team/", include("sirene.web.team_loop_urls")),
]
