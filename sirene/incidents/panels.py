"""Context for this domain's panel on the case page (rendered from templates/incidents/case_panel.html).

A case in an incident shows the incident; a single case shows the customer-side hints as a ready
German reply, because a problem only one customer has is usually on the customer's side.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from sirene.cases.attributes import extract_attributes
from sirene.cases.models import Case
from sirene.incidents.models import GroupMembership, ProblemGroup


def customer_hints_reply(case: Case) -> str:
    """Ready reply (German: it goes to the customer) with the usual customer-side checks."""
    attrs = {
        **extract_attributes(case.text),
        **{k: str(v) for k, v in (case.customer.attributes or {}).items()},
    }
    name = case.customer.name.split()[0] if case.customer.name.strip() else ""
    greeting = f"Hallo {name}," if name else "Hallo,"
    app = attrs.get("client") == "app" or attrs.get("platform") == "mobile"
    steps = []
    if app:
        steps.append(
            "Schließe die App bitte vollständig (auch im Hintergrund) und starte dein Gerät einmal neu."
        )
        steps.append(
            "Prüfe, ob im App Store bzw. Google Play Store ein Update der App bereitsteht, und installiere es."
        )
    else:
        steps.append("Starte bitte dein Gerät bzw. deinen Browser einmal neu.")
    browser = attrs.get("browser")
    cache = (
        f"Leere den Cache und die Cookies deines Browsers ({browser})"
        if browser
        else "Leere den Cache und die Cookies deines Browsers"
    )
    steps.append(f"{cache} und melde dich danach neu an.")
    steps.append(
        "Versuche es bitte einmal mit einem anderen Gerät oder einem anderen Browser (z. B. Chrome oder Firefox)."
    )
    lines = "\n".join(f"{i}. {s}" for i, s in enumerate(steps, 1))
    return (
        f"{greeting}\n\n"
        "danke für deine Nachricht! Damit wir dir schnell helfen können, probiere bitte zuerst diese Schritte:\n\n"
        f"{lines}\n\n"
        "Falls es danach immer noch nicht klappt, antworte uns gern mit einem Screenshot der Fehlermeldung "
        "und sag uns, welches Gerät und welchen Browser bzw. welche App-Version du nutzt.\n\n"
        "Viele Grüße\ndein Support-Team"
    )


def case_panel_context(request: HttpRequest, case: Case) -> dict[str, Any]:
    incident = case.incidents.order_by("-opened_at").first()
    membership = GroupMembership.objects.filter(case=case).select_related("group").first()
    others = max(0, membership.group.count - 1) if membership is not None else 0
    # "Nobody else reports this" is only true when the case is alone in its problem group.
    context: dict[str, Any] = {"incident": incident, "membership": membership, "others": others}
    if incident is None:
        context["reply"] = customer_hints_reply(case)
    if membership is not None:
        context["groups"] = list(
            ProblemGroup.objects.filter(merged_into__isnull=True)
            .exclude(pk=membership.group_id)
            .defer("centroid", "recent_vectors")[:100]
        )
    return context
