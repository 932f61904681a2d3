"""The lead settings forms: German labels, errors on the field that is wrong."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.validators import MinValueValidator
from django.utils.translation import gettext_lazy as _

SLACK_CHANNEL = re.compile(r"^(#[a-z0-9][a-z0-9._-]{0,79}|[CGD][A-Z0-9]{8,})$")


def _channel(value: str) -> str:
    value = value.strip()
    if not SLACK_CHANNEL.match(value):
        raise forms.ValidationError(
            _("Enter a Slack channel as #name (lower case, no spaces) or a channel id like C0123456789.")
        )
    return value


class GeneralForm(forms.Form):
    customer_voice = forms.ChoiceField(
        label=_("How we address customers"),
        choices=[
            ("sie", _("formal (Sie); informal when the customer writes with du")),
            ("du", _("informal (du); formal when the customer writes with Sie")),
            ("sie_always", _("always formal (Sie)")),
            ("du_always", _("always informal (du)")),
        ],
        help_text=_(
            "Used in replies to customers and ready texts. A conversation keeps the form of address of its "
            "first message."
        ),
    )
    facebook_person = forms.ChoiceField(
        label=_("Who checks the Facebook groups during an incident"), required=False
    )
    test_account_url = forms.URLField(
        label=_("Link to the test account notes"),
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text=_("Shown next to “Reproduced in test account”."),
    )
    slack_channel = forms.CharField(label=_("Slack channel for the siren post"), max_length=80)
    slack_status_channel = forms.CharField(label=_("Slack channel for internal status updates"), max_length=80)
    slack_customer_addresses = forms.ChoiceField(
        label=_("Customer addresses in Slack"),
        choices=[
            ("show", _("show (the team's process: at least 3 addresses)")),
            ("mask", _("masked (s…@web.de)")),
            ("count", _("only the number per provider (“6 customers: GMX 4, web.de 2”)")),
        ],
        help_text=_("How the siren post lists the example customers. The common thread and the links stay."),
        required=False,
    )

    def __init__(self, *args: Any, people: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["facebook_person"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("the deputy (default)")), *[(name, name) for name in people]]

    def clean_slack_channel(self) -> str:
        return _channel(self.cleaned_data["slack_channel"])

    def clean_slack_status_channel(self) -> str:
        return _channel(self.cleaned_data["slack_status_channel"])

    def clean_slack_customer_addresses(self) -> str:
        """Left out (a form from before the setting existed): what is in effect stays."""
        from sirene.preferences import services

        return str(self.cleaned_data.get("slack_customer_addresses") or services.get("slack_customer_addresses"))


class _IncidentRuleBase(forms.ModelForm):  # type: ignore[type-arg]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "known_problem_key" in self.fields:
            from sirene.knowledge.models import KnownProblem

            self.fields["known_problem_key"] = forms.ChoiceField(
                label=_("Known problem"),
                required=False,
                choices=[("", _("– none: the rule is for the category –"))]
                + [(k.key, k.title) for k in KnownProblem.objects.filter(active=True).order_by("title")],
            )
            self.fields["category"].required = False
        self.fields["threshold"].validators.append(MinValueValidator(1))
        self.fields["threshold"].widget.attrs["min"] = 1

    def clean_window_hours(self) -> float:
        value = self.cleaned_data["window_hours"]
        if value is None or not 0.25 <= value <= 24 * 14:
            raise forms.ValidationError(_("Enter a window between 0.25 and 336 hours (14 days)."))
        return float(value)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "known_problem_key" in self.fields and not data.get("known_problem_key") and not data.get("category"):
            self.add_error("category", _("Choose a category or a known problem."))
        return data


def incident_rule_form(data: Any = None, *, instance: Any = None) -> forms.ModelForm:  # type: ignore[type-arg]
    """A form over the IncidentRule model as it is (per category, and per known problem where the model
    has that field): detection owns what a rule means, this form only edits its rows."""
    from sirene.incidents.models import IncidentRule

    names = {f.name for f in IncidentRule._meta.get_fields()}
    fields = [f for f in ("category", "known_problem_key", "threshold", "window_hours", "pages") if f in names]
    labels: dict[str, Any] = {
        "category": _("Category"),
        "known_problem_key": _("Known problem"),
        "threshold": _("Alert when more than … customers"),
        "window_hours": _("… report within (hours)"),
        "pages": _("Opens incidents (off: never page, the reports are still grouped)"),
    }
    form_class = forms.modelform_factory(
        IncidentRule,
        form=_IncidentRuleBase,
        fields=fields,
        labels=labels,
    )
    return form_class(data, instance=instance)


def person_form(data: Any = None, *, instance: Any = None) -> forms.ModelForm:  # type: ignore[type-arg]
    from sirene.escalation.models import Person

    labels: dict[str, Any] = {
        "name": _("Name"),
        "role": _("Role"),
        "phone": _("Phone number (international, e.g. +4915112345678)"),
        "slack_user_id": _("Slack member id (e.g. U0123ABCD)"),
        "time_zone": _("Time zone"),
    }
    form_class = forms.modelform_factory(
        Person,
        fields=["name", "role", "phone", "slack_user_id", "time_zone"],
        labels=labels,
    )
    form = form_class(data, instance=instance)
    form.fields["slack_user_id"].validators.append(_slack_id)
    return form


def _slack_id(value: str) -> None:
    if value and not re.fullmatch(r"[UW][A-Z0-9]{6,}", value):
        raise forms.ValidationError(_("A Slack member id starts with U or W, e.g. U0123ABCD."))
