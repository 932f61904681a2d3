"""`{% case_history case as history %}` and `{% outbox_rows messages as rows %}`: page parts that read
several domains, composed here so the domain apps stay in their layer."""

from __future__ import annotations

from typing import Any

from django import template

from sirene.cases.models import Case
from sirene.escalation.models import Person
from sirene.helpdesk import outbox_display
from sirene.web import history

register = template.Library()


@register.simple_tag
def case_history(case: Case) -> list[history.Line]:
    return history.lines(case)


@register.simple_tag
def outbox_rows(messages: Any) -> list[outbox_display.Row]:
    by_phone, by_slack = {}, {}
    for name, phone, slack in Person.objects.values_list("name", "phone", "slack_user_id"):
        if phone:
            by_phone[phone] = name
        if slack:
            by_slack[slack] = name
    return outbox_display.rows(list(messages), by_phone=by_phone, by_slack=by_slack)
