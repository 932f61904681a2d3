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


def customer_hints_reply(case: Case, known: tuple[str, str] | None = None) -> str:
    """Ready reply (German: it goes to the customer) in the configured voice (Sie/du).

    With a confirmed known problem its customer hints are the steps; otherwise the usual
    customer-side checks for the customer's platform (app: restart and update the app; browser:
    cache and cookies of that browser), never browser steps for an app user.
    """
    from sirene.preferences.voice import say, signature

    attrs = {
        **extract_attributes(case.text),
        **{k: str(v) for k, v in (case.customer.attributes or {}).items()},
    }
    name = case.customer.name.split()[0] if case.customer.name.strip() else ""
    if say("sie", "du") == "sie" and case.customer.name.strip():
        name = case.customer.name.strip()
    greeting = f"Hallo {name}," if name else "Hallo,"
    app = (
        attrs.get("client") == "app"
        or attrs.get("platform") in {"mobile", "ios", "android"}
        or attrs.get("os") in {"iOS", "Android"}
    )
    problem_title, problem_hints = known or ("", "")
    hints = [
        line.strip(" -•*\t").strip()
        for line in problem_hints.splitlines()
        if line.strip(" -•*\t").strip()
    ]
    steps: list[str] = []
    if hints:
        steps = [h.lstrip("0123456789.) ").strip() or h for h in hints]
    elif app:
        steps.append(
            say(
                "Schließen Sie die App bitte vollständig (auch im Hintergrund) und starten Sie Ihr Gerät einmal neu.",
                "Schließe die App bitte vollständig (auch im Hintergrund) und starte dein Gerät einmal neu.",
            )
        )
        steps.append(
            say(
                "Prüfen Sie, ob im App Store bzw. Google Play Store ein Update der App bereitsteht, und installieren Sie es.",
                "Prüfe, ob im App Store bzw. Google Play Store ein Update der App bereitsteht, und installiere es.",
            )
        )
        steps.append(say("Melden Sie sich danach in der App neu an.", "Melde dich danach in der App neu an."))
    else:
        browser = attrs.get("browser")
        which = f" ({browser})" if browser else ""
        steps.append(say("Starten Sie Ihren Browser bitte einmal neu.", "Starte bitte deinen Browser einmal neu."))
        steps.append(
            say(
                f"Leeren Sie den Cache und die Cookies Ihres Browsers{which} und melden Sie sich danach neu an.",
                f"Leere den Cache und die Cookies deines Browsers{which} und melde dich danach neu an.",
            )
        )
        steps.append(
            say(
                "Versuchen Sie es bitte einmal mit einem anderen Browser (z. B. Chrome oder Firefox).",
                "Versuche es bitte einmal mit einem anderen Browser (z. B. Chrome oder Firefox).",
            )
        )
    lines = "\n".join(f"{i}. {s}" for i, s in enumerate(steps, 1))
    intro = say(
        "vielen Dank für Ihre Nachricht! Damit wir Ihnen schnell helfen können, probieren Sie bitte zuerst diese Schritte:",
        "danke für deine Nachricht! Damit wir dir schnell helfen können, probiere bitte zuerst diese Schritte:",
    )
    if problem_title and hints:
        intro = say(
            f"vielen Dank für Ihre Nachricht! Das Problem kennen wir („{problem_title}“). So lässt es sich beheben:",
            f"danke für deine Nachricht! Das Problem kennen wir („{problem_title}“). So lässt es sich beheben:",
        )
    device = say("welches Gerät und welche App-Version", "welches Gerät und welche App-Version") if app else say(
        "welches Gerät und welchen Browser", "welches Gerät und welchen Browser"
    )
    outro = say(
        f"Falls es danach immer noch nicht klappt, antworten Sie uns gern mit einem Screenshot der Fehlermeldung "
        f"und sagen Sie uns, {device} Sie nutzen.",
        f"Falls es danach immer noch nicht klappt, antworte uns gern mit einem Screenshot der Fehlermeldung "
        f"und sag uns, {device} du nutzt.",
    )
    return f"{greeting}\n\n{intro}\n\n{lines}\n\n{outro}\n\n{signature()}"


def case_panel_context(
    request: HttpRequest, case: Case, known: tuple[str, str] | None = None
) -> dict[str, Any]:
    """`known`: (title, customer hints) of the case's confirmed known problem (the page composes it in)."""
    from sirene.incidents.team_loop import newest_incident

    incident = newest_incident(case)  # one read per page, shared with the team-loop panel
    membership = GroupMembership.objects.filter(case=case).select_related("group").first()
    others = max(0, membership.group.count - 1) if membership is not None else 0
    # "Nobody else reports this" is only true when the case is alone in its problem group.
    context: dict[str, Any] = {"incident": incident, "membership": membership, "others": others}
    if incident is None:
        context["reply"] = customer_hints_reply(case, known)
    if membership is not None:
        context["groups"] = list(
            ProblemGroup.objects.filter(merged_into__isnull=True)
            .exclude(pk=membership.group_id)
            .defer("centroid", "recent_vectors")[:100]
        )
    return context
