"""Case changes that reach the customer: a status change (cases) plus the holding reply (helpdesk)
when the case enters "open question", in one transaction. Also what the other domains know about a
case, for the case API (suggestions, similar cases, the incident)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from sirene.accounts.models import User
from sirene.cases import services as cases
from sirene.cases.models import Case
from sirene.helpdesk import services as helpdesk
from sirene.incidents import services as incidents
from sirene.knowledge import services as knowledge


@transaction.atomic
def change_status(
    case: Case, status: str, *, actor: User | None, actor_label: str = "", note: str = ""
) -> Case:
    # The row lock first, so the old status read here is the one the change replaces.
    old = Case.objects.select_for_update().values_list("status", flat=True).get(pk=case.pk)
    changed = cases.change_status(case, status, actor=actor, actor_label=actor_label, note=note)
    helpdesk.queue_holding_reply_if_entered(changed, old, changed.status)
    return changed


def related(case: Case) -> dict[str, Any]:
    """The knowledge base's suggestions and similar cases, and the case's newest incident."""
    return {
        "suggestions": knowledge.suggestions_for(case),
        "similar_cases": knowledge.similar_cases_for(case),
        "incident": incidents.incident_summary_for(case),
    }
