from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from sirene.accounts.permissions import Action, can

# (url name, label). A renamed URL fails loudly here (NoReverseMatch) instead of vanishing from the menu.
NAV = [
    ("web:dashboard", _("Dashboard")),
    ("cases:list", _("Tech cases")),
    ("troubleshooting:my_cases", _("My cases")),
    ("troubleshooting:open_questions", _("Open questions")),
    ("incidents:list", _("Incidents")),
    ("knowledge:list", _("Known problems")),
    ("escalation:index", _("Escalation")),
    ("helpdesk:outbox", _("Outbox")),
    ("web:metrics", _("Metrics")),
]
# Shown to leads only.
LEAD_NAV = [("preferences:index", _("Settings"))]


def navigation(request: HttpRequest) -> dict[str, Any]:
    items = []
    user = getattr(request, "user", None)
    entries = NAV + (LEAD_NAV if user is not None and can(user, Action.EDIT_RULES) else [])
    for name, label in entries:
        url = reverse(name)
        items.append({"url": url, "label": label, "active": request.path.startswith(url) and url != "/"})
    return {"nav_items": items}
