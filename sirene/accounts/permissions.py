"""Who may do what: ONE table (role × action), used by the web views and the API alike.

    from sirene.accounts.permissions import Action, can, require, permission_required, api_permission

    can(user, Action.RESOLVE_INCIDENT)          # -> bool (templates: show the button or not)
    require(user, Action.RESOLVE_INCIDENT)      # raises PermissionDenied (web: 403 page, API: 403 JSON)

    @permission_required(Action.EDIT_POLICIES)  # a web view: login required, then the table
    def policy_create(request): ...

    @router.post("/…")
    @api_permission(Action.RESOLVE_INCIDENT)    # an API operation: the token's (or session's) user
    def resolve_incident(request, …): ...

The process behind the table: any supporter may report a case, raise the alarm (open an incident by hand)
and acknowledge one; what speaks for the team to customers or to the whole company (status updates,
resolving, delay notices, mass replies) and what changes how sirene reacts (rules, people, policies,
reply templates) is for leads; accounts and other people's tokens are for admins. The README shows the
table (`sirene permissions` prints it from here, so the two cannot drift).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from enum import StrEnum
from typing import Any, TypeVar

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from ninja.decorators import decorate_view
from ninja.utils import contribute_operation_callback

from sirene.accounts.models import Role

F = TypeVar("F", bound=Callable[..., Any])


class Action(StrEnum):
    # any agent
    REPORT_CASE = "report_case"
    WORK_ON_CASE = "work_on_case"  # status, owner, notes, the troubleshooting workspace
    EDIT_KNOWLEDGE = "edit_knowledge"  # known problems, import, suggestions, article views
    CORRECT_GROUPS = "correct_groups"  # move/merge/split problem groups
    OPEN_INCIDENT = "open_incident"
    ACKNOWLEDGE_INCIDENT = "acknowledge_incident"
    RECORD_TEST_CHECK = "record_test_check"
    RETRY_REPLY = "retry_reply"  # one failed customer reply
    COMPLETE_TASK = "complete_task"  # an escalation task assigned to a person
    MANAGE_OWN_TOKENS = "manage_own_tokens"
    # leads and admins
    POST_STATUS_UPDATE = "post_status_update"
    RESOLVE_INCIDENT = "resolve_incident"
    SEND_DELAY_NOTICE = "send_delay_notice"
    SEND_MASS_REPLY = "send_mass_reply"  # re-queue every failed reply of an incident
    EDIT_REPLY_TEMPLATES = "edit_reply_templates"
    EDIT_RULES = "edit_rules"  # detection and settings pages
    EDIT_PEOPLE = "edit_people"  # escalation people and absences
    EDIT_POLICIES = "edit_policies"  # escalation policies and steps
    DELETE_KNOWN_PROBLEM = "delete_known_problem"
    SEE_ALL_WORK = "see_all_work"  # everyone's overdue cases and open questions
    # admins
    MANAGE_USERS = "manage_users"
    MANAGE_TOKENS = "manage_tokens"  # see and revoke everyone's tokens
    MANAGE_PRIVACY = "manage_privacy"  # export and erase a customer's data (GDPR Art. 15/17)


_EVERYONE = frozenset({Role.AGENT, Role.LEAD, Role.ADMIN})
_LEADS = frozenset({Role.LEAD, Role.ADMIN})
_ADMINS = frozenset({Role.ADMIN})

PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.REPORT_CASE: _EVERYONE,
    Action.WORK_ON_CASE: _EVERYONE,
    Action.EDIT_KNOWLEDGE: _EVERYONE,
    Action.CORRECT_GROUPS: _EVERYONE,
    Action.OPEN_INCIDENT: _EVERYONE,
    Action.ACKNOWLEDGE_INCIDENT: _EVERYONE,
    Action.RECORD_TEST_CHECK: _EVERYONE,
    Action.RETRY_REPLY: _EVERYONE,
    Action.COMPLETE_TASK: _EVERYONE,
    Action.MANAGE_OWN_TOKENS: _EVERYONE,
    Action.POST_STATUS_UPDATE: _LEADS,
    Action.RESOLVE_INCIDENT: _LEADS,
    Action.SEND_DELAY_NOTICE: _LEADS,
    Action.SEND_MASS_REPLY: _LEADS,
    Action.EDIT_REPLY_TEMPLATES: _LEADS,
    Action.EDIT_RULES: _LEADS,
    Action.EDIT_PEOPLE: _LEADS,
    Action.EDIT_POLICIES: _LEADS,
    Action.DELETE_KNOWN_PROBLEM: _LEADS,
    Action.SEE_ALL_WORK: _LEADS,
    Action.MANAGE_USERS: _ADMINS,
    Action.MANAGE_TOKENS: _ADMINS,
    Action.MANAGE_PRIVACY: _ADMINS,
}

LABELS: dict[Action, Any] = {
    Action.REPORT_CASE: _("report a tech case"),
    Action.WORK_ON_CASE: _("work on a case"),
    Action.EDIT_KNOWLEDGE: _("edit the knowledge base"),
    Action.CORRECT_GROUPS: _("correct problem groups"),
    Action.OPEN_INCIDENT: _("open an incident"),
    Action.ACKNOWLEDGE_INCIDENT: _("acknowledge an incident"),
    Action.RECORD_TEST_CHECK: _("record the test-account check"),
    Action.RETRY_REPLY: _("retry a failed customer reply"),
    Action.COMPLETE_TASK: _("complete an escalation task"),
    Action.MANAGE_OWN_TOKENS: _("manage your own API tokens"),
    Action.POST_STATUS_UPDATE: _("post a status update"),
    Action.RESOLVE_INCIDENT: _("resolve an incident"),
    Action.SEND_DELAY_NOTICE: _("send a delay notice"),
    Action.SEND_MASS_REPLY: _("send replies to all customers of an incident"),
    Action.EDIT_REPLY_TEMPLATES: _("edit reply templates"),
    Action.EDIT_RULES: _("edit detection rules and settings"),
    Action.EDIT_PEOPLE: _("edit escalation people and absences"),
    Action.EDIT_POLICIES: _("edit escalation policies"),
    Action.DELETE_KNOWN_PROBLEM: _("delete a known problem"),
    Action.SEE_ALL_WORK: _("see everyone's overdue cases"),
    Action.MANAGE_USERS: _("manage users"),
    Action.MANAGE_TOKENS: _("manage everyone's API tokens"),
    Action.MANAGE_PRIVACY: _("export and erase customer data"),
}

assert set(PERMISSIONS) == set(Action) == set(LABELS), "every action needs a row and a label"


def role_of(user: Any) -> Role | None:
    """The user's role for the table; None for anonymous or deactivated users. Superusers are admins."""
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return None
    if getattr(user, "is_superuser", False):
        return Role.ADMIN
    try:
        return Role(getattr(user, "role", Role.AGENT))
    except ValueError:
        return None


def can(user: Any, action: Action) -> bool:
    role = role_of(user)
    return role is not None and role in PERMISSIONS[action]


def refusal(action: Action) -> str:
    """The (translated) sentence a refused user reads."""
    allowed = PERMISSIONS[action]
    if allowed == _ADMINS:
        who = gettext("Only admins may %(action)s.")
    elif allowed == _LEADS:
        who = gettext("Only leads and admins may %(action)s.")
    else:
        who = gettext("You may not %(action)s.")
    return who % {"action": LABELS[action]}


def require(user: Any, action: Action) -> None:
    """Raise PermissionDenied unless the table allows `action` for `user`'s role."""
    if not can(user, action):
        raise PermissionDenied(refusal(action))


def request_user(request: HttpRequest) -> Any:
    """The API's authenticated user (token or session) or the web request's user."""
    return getattr(request, "auth", None) or getattr(request, "user", None)


def permission_required(action: Action) -> Callable[[F], F]:
    """View decorator: login required (redirect to the login page), then the table (403 page)."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            require(request.user, action)
            return view(request, *args, **kwargs)

        wrapper.sirene_permission = action  # type: ignore[attr-defined]  # read by the permission tests
        return login_required(wrapper)  # type: ignore[return-value]

    return decorate


def api_permission(action: Action) -> Callable[[F], F]:
    """Decorator for a ninja operation (put it below `@router.post`): 401 without credentials, then 403
    unless the table allows it — decided before the body is even validated, so a refused role learns
    nothing about the payload. The rule is also noted in the operation's OpenAPI description.
    """

    def around_run(run: Callable[..., Any]) -> Callable[..., Any]:
        operation = run.__self__  # type: ignore[attr-defined]

        @functools.wraps(run)
        def checked(request: HttpRequest, **kwargs: Any) -> Any:
            error = operation._run_checks(request)  # authentication (the token lookup is memoised)
            if error:
                return error
            if not can(request_user(request), action):
                return operation.api.on_exception(request, PermissionDenied(refusal(action)))
            return run(request, **kwargs)

        return checked

    def describe(operation: Any) -> None:
        operation.sirene_permission = action
        # The OpenAPI document names each operation's permission (tests and clients read it there).
        operation.openapi_extra = {**(operation.openapi_extra or {}), "x-sirene-permission": action.value}
        who = {_LEADS: "leads and admins", _ADMINS: "admins"}.get(PERMISSIONS[action])
        if who:
            note = f"Allowed for {who} only (permission `{action.value}`)."
            operation.description = f"{operation.description}\n\n{note}" if operation.description else note

    def decorate(operation: F) -> F:
        contribute_operation_callback(operation, describe)
        return decorate_view(around_run)(operation)

    return decorate


def table() -> list[tuple[Action, list[bool]]]:
    """Rows of (action, [agent, lead, admin]) for the README and `sirene permissions`."""
    roles = [Role.AGENT, Role.LEAD, Role.ADMIN]
    return [(action, [role in PERMISSIONS[action] for role in roles]) for action in Action]


def markdown_table() -> str:
    lines = ["| action | agent | lead | admin |", "|---|:-:|:-:|:-:|"]
    for action, allowed in table():
        marks = " | ".join("✓" if ok else "—" for ok in allowed)
        lines.append(f"| `{action.value}` — {LABELS[action]} | {marks} |")
    return "\n".join(lines)
