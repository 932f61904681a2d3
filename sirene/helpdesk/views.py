"""Helpdesk pages and actions: the outbox, reply templates, and the buttons of the case/incident panels.
Thin: every write goes through services.py (sending itself is left to the worker)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sirene.accounts.models import User
from sirene.accounts.permissions import Action, permission_required, require
from sirene.cases.models import Case
from sirene.core.validation import safe_next
from sirene.helpdesk import inbound, outbox_display, replies, services
from sirene.helpdesk.models import CustomerReply, ReplyKind
from sirene.incidents.models import Incident
from sirene.integrations.models import OutboxMessage


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    return redirect(safe_next(request, fallback))


@login_required
def outbox(request: HttpRequest) -> HttpResponse:
    """Everything sirene sent or would have sent (Slack, phone, helpdesk), newest first."""
    rows = OutboxMessage.objects.all()
    channel = request.GET.get("channel", "")
    kind = request.GET.get("kind", "").strip()
    query = request.GET.get("q", "").strip()
    if channel in OutboxMessage.Channel.values:
        rows = rows.filter(channel=channel)
    if kind:
        rows = rows.filter(kind=kind)
    if query:
        rows = rows.filter(
            Q(body__icontains=query) | Q(recipient__icontains=query) | Q(subject__icontains=query)
        )
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "helpdesk/outbox.html",
        {
            "page": page,
            "channels": OutboxMessage.Channel.choices,
            "kinds": [
                (k, outbox_display.kind_label(k))
                for k in OutboxMessage.objects.order_by("kind").values_list("kind", flat=True).distinct()
            ],
            "f": {"channel": channel, "kind": kind, "q": query},
            "query": params.urlencode(),
        },
    )


@login_required
def templates(request: HttpRequest) -> HttpResponse:
    errors: dict[str, str] = {}
    if request.method == "POST":
        require(request.user, Action.EDIT_REPLY_TEMPLATES)
        kind = request.POST.get("kind", "")
        try:
            replies.save_template(kind, request.POST.get("body", ""), user=_user(request))
        except replies.TemplateError as exc:
            errors[kind] = exc.message
        else:
            messages.success(request, _("Template saved."))
            return redirect("helpdesk:templates")
    rows = [
        {
            "kind": kind,
            "label": label,
            "body": request.POST.get("body") if kind in errors else replies.template_text(kind),
            "error": errors.get(kind, ""),
        }
        for kind, label in ReplyKind.choices
        if kind in replies.DEFAULTS  # the single-case answer is composed per case, it has no template
    ]
    return render(
        request,
        "helpdesk/templates.html",
        {"rows": rows, "placeholders": replies.PLACEHOLDERS},
        status=422 if errors else 200,
    )


@permission_required(Action.RETRY_REPLY)
@require_POST
def retry_reply(request: HttpRequest, reply_id: int) -> HttpResponse:
    reply = get_object_or_404(CustomerReply, pk=reply_id)
    if services.retry_reply(reply, user=_user(request)):
        messages.success(request, _("The reply is queued again."))
    else:
        messages.info(request, _("Only failed replies can be retried."))
    return _back(request, reply.case.get_absolute_url())


@permission_required(Action.RETRY_REPLY)
@require_POST
def mark_reply_sent(request: HttpRequest, reply_id: int) -> HttpResponse:
    """A reply of unknown outcome that a person found on the Groove ticket: recorded as sent."""
    reply = get_object_or_404(CustomerReply, pk=reply_id)
    if services.mark_reply_sent(reply, user=_user(request)):
        messages.success(request, _("The reply is recorded as sent."))
    else:
        messages.info(request, _("Only replies of unknown outcome can be marked as sent."))
    return _back(request, reply.case.get_absolute_url())


@permission_required(Action.SEND_MASS_REPLY)
@require_POST
def retry_failed(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=incident_id)
    count = services.retry_failed(incident, user=_user(request))
    messages.success(request, _("%(count)d failed replies queued again.") % {"count": count})
    return _back(request, incident.get_absolute_url())


@permission_required(Action.SEND_DELAY_NOTICE)
@require_POST
def incident_delay_notice(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = get_object_or_404(Incident, pk=incident_id)
    try:
        count = services.send_delay_notice(incident=incident, user=_user(request))
    except services.ReplyError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Delay notice queued for %(count)d customers.") % {"count": count})
    return _back(request, incident.get_absolute_url())


@permission_required(Action.SEND_DELAY_NOTICE)
@require_POST
def case_delay_notice(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_object_or_404(Case, pk=case_id)
    try:
        count = services.send_delay_notice(case=case, user=_user(request))
    except services.ReplyError as exc:
        messages.error(request, str(exc))
    else:
        if count:
            messages.success(request, _("Delay notice queued."))
        else:
            messages.info(request, _("The delay notice was already queued or sent."))
    return _back(request, case.get_absolute_url())


@permission_required(Action.WORK_ON_CASE)
@require_POST
def case_note(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_object_or_404(Case, pk=case_id)
    try:
        services.post_case_note(case, user=_user(request))
    except services.ReplyError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The private note is queued for Groove."))
    return _back(request, case.get_absolute_url())


@permission_required(Action.WORK_ON_CASE)
@require_POST
def case_reply(request: HttpRequest, case_id: int) -> HttpResponse:
    """ "An Groove senden": the case's ready reply goes through the reply queue, exactly once."""
    case = get_object_or_404(Case.objects.select_related("customer"), pk=case_id)
    try:
        _reply, created = services.send_case_reply(case, user=_user(request))
    except services.ReplyError as exc:
        messages.error(request, str(exc))
    else:
        if created:
            messages.success(request, _("The reply is queued for the Groove ticket."))
        else:
            messages.info(request, _("This reply was already sent to Groove; nothing was sent twice."))
    return _back(request, case.get_absolute_url())


@permission_required(Action.WORK_ON_CASE)
@require_POST
def refresh_tickets(request: HttpRequest, case_id: int) -> HttpResponse:
    """Re-read the customer's tickets from the helpdesk now (a read; nothing is sent)."""
    case = get_object_or_404(Case.objects.select_related("customer"), pk=case_id)
    if case.customer.email:
        inbound.refresh_customer_tickets(case.customer.email)
    return _back(request, case.get_absolute_url())


@permission_required(Action.RETRY_REPLY)
@require_POST
def incident_outreach(request: HttpRequest, incident_id: int, case_id: int) -> HttpResponse:
    """A customer without a ticket: start a new Groove conversation, or mark "no reply needed"."""
    from sirene.helpdesk import loop

    incident = get_object_or_404(Incident, pk=incident_id)
    action = request.POST.get("action", "")
    kind = request.POST.get("kind", "resolution")
    try:
        if action == "new_conversation":
            loop.start_conversation(incident, case_id, kind=kind, user=_user(request))
            messages.success(request, _("A new conversation is being started."))
        elif action == "not_needed":
            loop.mark_not_needed(incident, case_id, kind=kind, user=_user(request))
            messages.success(request, _("Marked: no reply needed."))
        else:
            messages.error(request, _("Unknown action."))
    except loop.LoopError as exc:
        messages.error(request, str(exc))
    return redirect(incident.get_absolute_url() + "#helpdesk-incident-panel")


@permission_required(Action.RETRY_REPLY)
@require_POST
def outreach_retry(request: HttpRequest, outreach_id: int) -> HttpResponse:
    from sirene.helpdesk import loop
    from sirene.helpdesk.models import Outreach

    outreach = get_object_or_404(Outreach, pk=outreach_id)
    if loop.retry_outreach(outreach):
        messages.success(request, _("The reply is queued again."))
    else:
        messages.info(request, _("Only failed replies can be retried."))
    return redirect(outreach.incident.get_absolute_url() + "#helpdesk-incident-panel")
