"""The incident timeline reads as German sentences (English for an English viewer), old rows included."""

from __future__ import annotations

from typing import Any

import pytest

from sirene.cases import services as cases
from sirene.incidents import services
from sirene.incidents.models import Incident

pytestmark = pytest.mark.django_db


def incident_with_cases(n: int = 2) -> Incident:
    made = []
    for i in range(n):
        result = cases.intake(
            cases.IntakeData(
                source="groove", external_id=str(100 + i), subject="Fehler 502", body="…",
                customer=cases.CustomerData(email=f"k{i}@example.de"), tags=["technik"],
            )
        )
        assert result.case is not None
        made.append(result.case)
    return services.open_incident(title="Fehler 502", category="app_error", origin="auto", cases=made)


def timeline(client: Any, incident: Incident, lang: str = "de") -> str:
    response = client.get(f"/incidents/{incident.pk}/", headers={"Accept-Language": lang})
    assert response.status_code == 200
    return " ".join(line.text for line in response.context["events"])


def test_opening_acknowledging_and_resolving_read_as_sentences(client: Any, lead: Any) -> None:
    incident = incident_with_cases()
    services.add_event(
        incident, "rule", "7 customers in the window; usual 0.9, alert from 7",
        data={"customers_in_window": 7, "window_hours": 24.0, "threshold": 5, "required": 7, "known_recurring": True},
    )
    services.acknowledge(incident, user=lead, label=lead.display_name(), via="web")
    services.add_event(
        incident, "customer_replies",
        "Resolution reply queued for 3 ticket(s); 4 linked case(s) have no helpdesk ticket",
    )
    services.add_event(incident, "escalation", "Tara übersprungen (absent)")
    client.force_login(lead)
    text = timeline(client, incident)
    assert "Störung automatisch eröffnet" in text
    assert "7 Kunden haben innerhalb von 24 h dasselbe Problem gemeldet (Alarm ab 7)" in text
    assert f"Übernommen von {lead.display_name()} (in sirene)" in text
    assert "Lösungsnachricht für 3 Kundentickets eingeplant" in text
    assert "4 verknüpfte Fälle haben kein Helpdesk-Ticket" in text
    assert "Tara übersprungen (abwesend)" in text
    for raw in ("case_joined", "acknowledged", "opened", "ticket(s)", "absent"):
        assert raw not in text
    english = timeline(client, incident, "en")
    assert "Tara skipped (absent)" in english and "Incident opened automatically" in english
