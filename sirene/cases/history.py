"""Reads of a case's history shared by the parts of the case page (one read per page):
the customer's other cases, newest first, and the case's events."""

from __future__ import annotations

from sirene.cases.models import Case, CaseEvent
from sirene.core.memo import per_page

# Enough for the lists on the case page (20 earlier, 50 open); callers needing more read exactly.
OTHER_CASES_READ = 200
FIELDS = ("id", "customer_id", "subject", "status", "received_at", "solution", "solved_at")


@per_page
def other_cases(case: Case) -> list[Case]:
    """Up to OTHER_CASES_READ of the customer's other cases (few fields), newest first."""
    qs = Case.objects.filter(customer_id=case.customer_id).exclude(pk=case.pk).only(*FIELDS)
    return list(qs.order_by("-received_at", "-id")[:OTHER_CASES_READ])


@per_page
def events(case: Case) -> list[CaseEvent]:
    """The case's events, oldest first, with who did them."""
    return list(case.events.select_related("actor"))
