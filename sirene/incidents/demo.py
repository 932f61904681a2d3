"""Demo data for incidents (called by `sirene demo` after the cases demo, whose 502 burst the
detection rule already turned into a live incident). Adds one resolved incident from last week so
the list shows history; idempotent (keyed by title)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sirene.cases.models import Case, Category
from sirene.core import clock
from sirene.flows import incidents as incident_flows
from sirene.incidents import services
from sirene.incidents.models import Incident

PAST_TITLE = "PayPal-Zahlungen im Checkout schlugen fehl"


def load(stdout: Any = None) -> None:
    live = Incident.objects.exclude(status="resolved").count()
    if not Incident.objects.filter(title=PAST_TITLE).exists():
        now = clock.now()
        clock.set_now(now - timedelta(days=6))
        try:
            cases = list(Case.objects.filter(category=Category.CHECKOUT).order_by("received_at")[:3])
            incident = incident_flows.open_incident(
                title=PAST_TITLE,
                description="Von Hand eröffnet: mehrere Kundinnen meldeten abgebrochene PayPal-Zahlungen.",
                category=Category.CHECKOUT,
                cases=cases,
            )
            clock.set_now(now - timedelta(days=6) + timedelta(minutes=12))
            incident_flows.acknowledge(incident, label="Tara", via="demo")
            services.set_test_check(incident, "yes", "Im Testkonto mit PayPal-Sandbox nachgestellt.")
            clock.set_now(now - timedelta(days=6) + timedelta(hours=2))
            incident_flows.resolve(
                incident, resolution="Zahlungsanbieter hatte eine Störung; seit 14:10 Uhr behoben."
            )
        finally:
            clock.set_now(None)
    if stdout is not None:
        stdout.write(f"incidents: {live} live, {Incident.objects.count()} in total\n")
