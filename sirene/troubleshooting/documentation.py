"""The final documentation, drafted from what the workspace stages hold (the agent edits it afterwards)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from sirene.cases.labels import attribute_label, attribute_value
from sirene.cases.models import Case
from sirene.core import clock
from sirene.troubleshooting import questions
from sirene.troubleshooting.models import Backup, Conversion, StageState, Workspace


def _lines(label: str, value: str) -> list[str]:
    return [f"{label}: {value}"] if value else []


def draft(case: Case, workspace: Workspace) -> dict[str, str]:
    known = questions.known_answers(case, workspace.answers)
    symptoms = [case.subject.strip()] if case.subject.strip() else []
    symptoms += _lines(_("First seen"), known.get("first_seen", ""))
    symptoms += _lines(_("Just before"), known.get("action_before", ""))
    # "Browser: Firefox 133, Betriebssystem: Windows 11", not the attribute keys.
    setup = ", ".join(
        f"{attribute_label(k)}: {attribute_value(k, known[k])}" for k in questions.ATTRIBUTE_KEYS if k in known
    )
    symptoms += _lines(_("Setup"), setup)

    steps: list[str] = []
    conversions = list(Conversion.objects.filter(case=case).select_related("backup"))
    for conversion in conversions:
        steps.append(
            _("%(action)s (%(result)s), backup #%(backup)s before it")
            % {
                "action": conversion.action,
                "result": conversion.get_result_display(),
                "backup": conversion.backup_id,
            }
        )
        if conversion.note:
            steps.append(conversion.note)
    if case.solution.strip():
        steps.append(case.solution.strip())

    notes = [
        f"{entry.get_stage_display()}: {entry.notes}"
        for entry in workspace.stages.order_by("id")
        if entry.notes and entry.state != StageState.NOT_NEEDED
    ]
    backups = Backup.objects.filter(case=case).count()
    sections = [
        f"# {case.subject or _('Case')} (#{case.pk})",
        "",
        f"## {_('Symptoms')}",
        *(symptoms or ["–"]),
        "",
        f"## {_('Reproducibility')}",
        f"{_('Reproduced in test account')}: {case.get_reproduced_display()}",
        *_lines(_("Exact steps"), workspace.repro_steps),
        *_lines(_("Environment"), workspace.repro_environment),
        *_lines(_("Test-account result"), workspace.repro_test_account_result),
        "",
        f"## {_('Solution')}",
        *(steps or ["–"]),
        "",
        f"## {_('Notes from the stages')}",
        *(notes or ["–"]),
        "",
        _("Backups stored: %(count)s · written %(when)s")
        % {"count": backups, "when": timezone.localtime(clock.now()).strftime("%d.%m.%Y %H:%M")},
    ]
    return {
        "title": (case.subject or _("Case #%(id)s") % {"id": case.pk})[:200],
        "symptoms": "\n".join(symptoms),
        "solution_steps": "\n".join(steps),
        "text": "\n".join(sections),
    }
