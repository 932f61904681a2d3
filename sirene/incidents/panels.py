"""Context for this domain's panel on the case page (rendered from templates/incidents/case_panel.html).

A case in an incident shows the incident; a single case shows the customer-side hints as a ready
German reply, because a problem only one customer has is usually on the customer's side.
"""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest

from sirene.cases.attributes import extract_attributes
from sirene.cases.models import Case
from sirene.incidents.models import GroupMembership, ProblemGroup

# A problem only one customer has is usually on their side; these say it is on ours.
_SERVER_CODE = re.compile(r"\b5\d\d\b|bad gateway|gateway timeout|service unavailable|internal server error", re.I)


def on_our_side(case: Case, others: int = 0) -> bool:
    """The problem is ours, not the customer's: reproduced in the test account, other customers report
    the same (its problem group), or the report names a server error (5xx). Then customer-side steps
    (cache, restart) would be wrong advice."""
    from sirene.cases.models import Reproduced

    return case.reproduced == Reproduced.YES or others > 0 or bool(_SERVER_CODE.search(case.text))


def customer_hints_reply(
    case: Case, known: tuple[str, str] | None = None, *, which: str | None = None, others: int | None = None
) -> str:
    """Ready reply (German: it goes to the customer) in `which` voice (default: the team's; the page and
    the API pass the conversation's, `helpdesk.services.voice_for`).

    With a confirmed known problem its customer hints are the steps (stored with both forms of address,
    "[Sie-Form|du-Form]"). A problem on our side (`on_our_side`) gets no customer steps: it says we are on
    it. Otherwise the usual customer-side checks for the customer's platform (app: restart and update the
    app; browser: cache and cookies of that browser), never browser steps for an app user.
    """
    from sirene.preferences.voice import in_voice, say, signature, team_voice

    which = which or team_voice()

    def v(sie: str, du: str) -> str:
        return say(sie, du, which)

    attrs = {
        **extract_attributes(case.text),
        **{k: str(v) for k, v in (case.customer.attributes or {}).items()},
    }
    name = case.customer.name.split()[0] if case.customer.name.strip() else ""
    if which == "sie" and case.customer.name.strip():
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
        for line in in_voice(problem_hints, which).splitlines()
        if line.strip(" -•*\t").strip()
    ]
    if others is None:
        membership = GroupMembership.objects.filter(case=case).select_related("group").first()
        others = max(0, membership.group.count - 1) if membership is not None else 0
    ours = not hints and on_our_side(case, others)
    steps: list[str] = []
    if hints:
        steps = [h.lstrip("0123456789.) ").strip() or h for h in hints]
    elif ours:
        steps = []
    elif app:
        steps.append(
            v(
                "Schließen Sie die App bitte vollständig (auch im Hintergrund) und starten Sie Ihr Gerät einmal neu.",
                "Schließe die App bitte vollständig (auch im Hintergrund) und starte dein Gerät einmal neu.",
            )
        )
        steps.append(
            v(
                "Prüfen Sie, ob im App Store bzw. Google Play Store ein Update der App bereitsteht, und installieren Sie es.",
                "Prüfe, ob im App Store bzw. Google Play Store ein Update der App bereitsteht, und installiere es.",
            )
        )
        steps.append(v("Melden Sie sich danach in der App neu an.", "Melde dich danach in der App neu an."))
    else:
        browser = attrs.get("browser")
        which_browser = f" ({browser})" if browser else ""
        steps.append(v("Starten Sie Ihren Browser bitte einmal neu.", "Starte bitte deinen Browser einmal neu."))
        steps.append(
            v(
                f"Leeren Sie den Cache und die Cookies Ihres Browsers{which_browser} und melden Sie sich danach neu an.",
                f"Leere den Cache und die Cookies deines Browsers{which_browser} und melde dich danach neu an.",
            )
        )
        steps.append(
            v(
                "Versuchen Sie es bitte einmal mit einem anderen Browser (z. B. Chrome oder Firefox).",
                "Versuche es bitte einmal mit einem anderen Browser (z. B. Chrome oder Firefox).",
            )
        )
    if ours:
        body = v(
            "vielen Dank für Ihre Nachricht! Das Problem liegt nicht an Ihnen, sondern bei uns: Unser "
            "Technik-Team kümmert sich darum. Sie müssen nichts weiter tun – wir melden uns bei Ihnen, "
            "sobald es behoben ist.",
            "danke für deine Nachricht! Das Problem liegt nicht an dir, sondern bei uns: Unser "
            "Technik-Team kümmert sich darum. Du musst nichts weiter tun – wir melden uns bei dir, "
            "sobald es behoben ist.",
        )
        return f"{greeting}\n\n{body}\n\n{signature(which)}"
    lines = "\n".join(f"{i}. {s}" for i, s in enumerate(steps, 1))
    intro = v(
        "vielen Dank für Ihre Nachricht! Damit wir Ihnen schnell helfen können, probieren Sie bitte zuerst diese Schritte:",
        "danke für deine Nachricht! Damit wir dir schnell helfen können, probiere bitte zuerst diese Schritte:",
    )
    if problem_title and hints:
        intro = v(
            f"vielen Dank für Ihre Nachricht! Das Problem kennen wir („{problem_title}“). So lässt es sich beheben:",
            f"danke für deine Nachricht! Das Problem kennen wir („{problem_title}“). So lässt es sich beheben:",
        )
    device = "welches Gerät und welche App-Version" if app else "welches Gerät und welchen Browser"
    outro = v(
        f"Falls es danach immer noch nicht klappt, antworten Sie uns gern mit einem Screenshot der Fehlermeldung "
        f"und sagen Sie uns, {device} Sie nutzen.",
        f"Falls es danach immer noch nicht klappt, antworte uns gern mit einem Screenshot der Fehlermeldung "
        f"und sag uns, {device} du nutzt.",
    )
    return f"{greeting}\n\n{intro}\n\n{lines}\n\n{outro}\n\n{signature(which)}"


def case_panel_context(
    request: HttpRequest,
    case: Case,
    known: tuple[str, str] | None = None,
    *,
    which: str | None = None,
    send_url: str = "",
) -> dict[str, Any]:
    """`known`: (title, customer hints) of the case's confirmed known problem; `which`: the voice of this
    case's conversation; `send_url`: where "An Groove senden" posts (the page composes these in)."""
    from sirene.incidents.team_loop import newest_incident

    incident = newest_incident(case)  # one read per page, shared with the team-loop panel
    membership = GroupMembership.objects.filter(case=case).select_related("group").first()
    others = max(0, membership.group.count - 1) if membership is not None else 0
    # "Nobody else reports this" is only true when the case is alone in its problem group.
    context: dict[str, Any] = {"incident": incident, "membership": membership, "others": others}
    if incident is None:
        context["reply"] = customer_hints_reply(case, known, which=which, others=others)
        context["send_url"] = send_url
    if membership is not None:
        context["groups"] = list(
            ProblemGroup.objects.filter(merged_into__isnull=True, count__gt=0)
            .exclude(pk=membership.group_id)
            .defer("centroid", "recent_vectors")[:100]
        )
    return context
