"""Settings for leads inside sirene: general settings, incident rules, people; the audit trail.

In `web/` because the pages edit rows of several domains (incident rules, escalation people); the
values themselves and the audit trail live in `sirene.preferences`.

Agents get 403 (the Django admin stays for staff). Every save names the field that is wrong, writes
nothing on bad input and leaves a row in the audit trail.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sirene.accounts.models import User
from sirene.accounts.permissions import Action, permission_required
from sirene.preferences import services
from sirene.web.settings_forms import GeneralForm, incident_rule_form, person_form

# Who may: the one permission table (accounts/permissions.py). Agents get 403; the admin stays for staff.
lead_required = permission_required(Action.EDIT_RULES)
people_required = permission_required(Action.EDIT_PEOPLE)


def _user(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


def _people() -> list[Any]:
    from sirene.escalation.models import Person

    return list(Person.objects.order_by("name"))


def _rules() -> list[Any]:
    from sirene.incidents.models import IncidentRule

    return list(IncidentRule.objects.all().order_by("category", "pk"))


def _context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    from sirene.escalation.models import Policy
    from sirene.incidents.rules import rule_for

    defaults = {key: services.env_default(key) for key in services.SPECS}
    overridden = services.overridden()
    return {
        "general": extra.pop("general", None)
        or GeneralForm(initial={k: services.get(k) for k in services.SPECS}, people=[p.name for p in _people()]),
        "rule_form": extra.pop("rule_form", None) or incident_rule_form(),
        "rules": _rules(),
        "default_rule": rule_for("other"),
        "people": _people(),
        "person_form": extra.pop("person_form", None) or person_form(),
        "policies": Policy.objects.prefetch_related("steps"),
        "changes": services.recent_changes(),
        "defaults": defaults,
        "overridden": overridden,
        "privacy": _privacy(),
        **extra,
    }


def _privacy() -> dict[str, Any]:
    """The retention policy and what its next pass would change (privacy.retention, a dry run)."""
    from sirene.privacy import retention, tasks

    return {"plan": retention.plan(), "next_run_at": tasks.next_run_at()}


@lead_required
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "preferences/index.html", _context(request))


@lead_required
@require_POST
def general_save(request: HttpRequest) -> HttpResponse:
    form = GeneralForm(request.POST, people=[p.name for p in _people()])
    if not form.is_valid():
        return render(request, "preferences/index.html", _context(request, general=form), status=422)
    changed = services.save({k: str(form.cleaned_data[k] or "") for k in services.SPECS}, user=_user(request))
    messages.success(request, _("Settings saved.") if changed else _("Nothing changed."))
    return redirect("preferences:index")


def _audit_diff(user: User | None, area: str, subject: str, before: dict[str, Any], after: dict[str, Any]) -> None:
    for field, new in after.items():
        if before.get(field) != new:
            services.audit(user, area, subject, field, before.get(field, ""), new)


@lead_required
def rule_edit(request: HttpRequest, rule_id: int | None = None) -> HttpResponse:
    from sirene.incidents import rules as incident_rules
    from sirene.incidents.models import IncidentRule

    instance = get_object_or_404(IncidentRule, pk=rule_id) if rule_id else None
    form = incident_rule_form(request.POST or None, instance=instance)
    fields = list(form.fields)
    # Read before validation: a model form writes the posted values into the instance while validating.
    before = {f: getattr(instance, f) for f in fields} if instance else {}
    if request.method == "POST":
        if form.is_valid():
            with transaction.atomic():
                rule = form.save()
                _audit_diff(_user(request), "incident_rule", str(rule), before, {f: getattr(rule, f) for f in fields})
            incident_rules.clear_cache()
            messages.success(request, _("Incident rule saved."))
            return redirect("preferences:index")
        if instance is None:
            return render(request, "preferences/index.html", _context(request, rule_form=form), status=422)
    return render(
        request, "preferences/rule.html", {"form": form, "rule": instance}, status=422 if form.errors else 200
    )


@lead_required
@require_POST
def rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    from sirene.incidents import rules as incident_rules
    from sirene.incidents.models import IncidentRule

    rule = get_object_or_404(IncidentRule, pk=rule_id)
    with transaction.atomic():
        services.audit(_user(request), "incident_rule", str(rule), "deleted", str(rule), "")
        rule.delete()
    incident_rules.clear_cache()
    messages.success(request, _("Incident rule removed: the default rule applies again."))
    return redirect("preferences:index")


@people_required
def person_edit(request: HttpRequest, person_id: int | None = None) -> HttpResponse:
    from sirene.escalation.models import Person

    instance = get_object_or_404(Person, pk=person_id) if person_id else None
    form = person_form(request.POST or None, instance=instance)
    fields = list(form.fields)
    before = {f: getattr(instance, f) for f in fields} if instance else {}
    if request.method == "POST":
        if form.is_valid():
            with transaction.atomic():
                person = form.save()
                _audit_diff(_user(request), "person", person.name, before, {f: getattr(person, f) for f in fields})
            messages.success(request, _("Person saved."))
            return redirect("preferences:index")
        if instance is None:
            return render(request, "preferences/index.html", _context(request, person_form=form), status=422)
    return render(
        request, "preferences/person.html", {"form": form, "person": instance}, status=422 if form.errors else 200
    )
