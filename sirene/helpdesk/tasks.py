"""This domain's worker step: called by `sirene worker` on every loop; returns how much it did."""

from __future__ import annotations

from sirene.helpdesk import inbound, services


def tick() -> int:
    # Inbound first, so a case that just arrived can get its replies queued in the same loop.
    done = inbound.process_pending()
    done += services.send_due()
    done += services.remind_delays()
    return done
