"""Context for the workspace panel on the case page (templates/troubleshooting/case_panel.html)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from sirene.accounts.models import User
from sirene.cases.models import Case, Reproduced
from sirene.troubleshooting import queries
from sirene.troubleshooting.models import (
    CHANGES_CUSTOMER_DATA,
    BackupKind,
    ConversionResult,
    SnapshotKind,
    StageState,
)

# Rows of the diff shown on the page; the API gives more on request.
PAGE_DIFF_ROWS = 200


def case_panel_context(request: HttpRequest, case: Case) -> dict[str, Any]:
    user = request.user if isinstance(request.user, User) else None
    data = queries.workspace_data(case, user=user)
    if data["diff"] is not None:
        data["diff"]["entries"] = data["diff"]["entries"][:PAGE_DIFF_ROWS]
    stages = {row["stage"]: row for row in data["stages"]}
    has_backup = bool(data["backups"])
    for stage, row in stages.items():
        row["needs_backup"] = stage in CHANGES_CUSTOMER_DATA and not has_backup
    reminders = [r for r in queries.open_reminders(user) if r.case_id == case.pk] if user else []
    done = sum(1 for row in data["stages"] if row["state"] != StageState.OPEN)
    # A case of an incident asks the customer nothing: the incident answers every linked customer.
    incident = case.incidents.order_by("-opened_at").first()
    skipped = {"questions"} if incident is not None else set()
    # Only the stage to work on now is open; the others stay folded (a new case was 4.6–5.6k px tall).
    current = next(
        (row["stage"] for row in data["stages"] if row["state"] == StageState.OPEN and row["stage"] not in skipped),
        None,
    )
    return {
        **data,
        "current_stage": current,
        "incident": incident,
        "case": case,
        "stage": stages,
        "progress": {"done": done, "total": len(data["stages"])},
        "states": StageState.choices,
        "snapshot_kinds": SnapshotKind.choices,
        "backup_kinds": BackupKind.choices,
        "conversion_results": ConversionResult.choices,
        "reproduced_choices": Reproduced.choices,
        "max_mb": settings.SNAPSHOT_MAX_BYTES // (1024 * 1024),
        "reminders": reminders,
    }
