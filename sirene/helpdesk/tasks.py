"""This domain's worker step: called by `sirene worker` on every loop; returns how much it did."""

from __future__ import annotations

from sirene.cases import services as cases
from sirene.helpdesk import aftercare, inbound, loop, services


def tick(report: inbound.Report = cases.intake) -> int:
    """`report` stores a case a Groove delivery creates; the worker passes `flows.intake.report_case`,
    which analyses it in the same step."""
    # Inbound first, so a case that just arrived can get its replies queued in the same loop.
    done = inbound.process_pending(report=report)
    done += loop.queue_incident_holding()
    done += services.send_due()
    done += loop.send_due_outreach()
    done += services.remind_delays()
    done += aftercare.post_pending_alerts()  # ★ "Hat der Fix gehalten?": one quiet line
    return done
