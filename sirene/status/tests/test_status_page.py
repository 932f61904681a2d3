"""The public status notice shows only what the lead published, only customer-facing text."""

from __future__ import annotations

from typing import Any

import pytest

from sirene.flows import incidents as flows
from sirene.incidents import services
from sirene.incidents.models import Incident

pytestmark = pytest.mark.django_db


def _incident(title: str, customer_title: str) -> Incident:
    incident = flows.open_incident(title=title, description="intern: Loadbalancer lb-3 kaputt")
    return services.rename(incident, title=title, customer_title=customer_title)


def test_the_status_page_is_off_until_the_lead_publishes_and_shows_only_customer_text(client: Any) -> None:
    hidden = _incident("Fehler 502 im Mitgliederbereich (Club) – lb-3", "Störung im Mitgliederbereich")
    page = client.get("/status/")
    assert page.status_code == 200  # no login
    body = page.content.decode()
    assert "Alle Systeme laufen normal" in body and "Mitgliederbereich" not in body
    assert client.get("/status/status.json").json() == {"ok": True, "incidents": []}

    services.publish(hidden, published=True, text="Einige Mitglieder kommen nicht in den Club-Bereich.")
    other = _incident("Videos schwarz <script>x</script>", "Störung bei Videos")  # not published
    body = client.get("/status/").content.decode()
    assert "Bekannte Störung: Störung im Mitgliederbereich" in body
    assert "Einige Mitglieder kommen nicht in den Club-Bereich." in body
    for internal in ("lb-3", "Loadbalancer", "502", "Videos", "<script>", "INC-", "embed.js", "status.json"):
        assert internal not in body  # no internal words, and no developer snippet for customers
    assert "Wir arbeiten daran." not in body and "Wir untersuchen" not in body  # the lead's text says it once
    data = client.get("/status/status.json")
    assert data["Access-Control-Allow-Origin"] == "*"
    [item] = data.json()["incidents"]
    assert item["title"] == "Störung im Mitgliederbereich"
    assert item["text"] == "Einige Mitglieder kommen nicht in den Club-Bereich."
    assert set(item) == {"id", "title", "text", "state", "since", "updated_at"}
    snippet = client.get("/status/embed.js")
    assert snippet["Content-Type"].startswith("text/javascript")
    assert "/status/status.json" in snippet.content.decode() and "Bekannte Störung: " in snippet.content.decode()

    flows.resolve(hidden, resolution="lb-3 ersetzt", user=None)
    assert client.get("/status/status.json").json()["incidents"] == []
    assert other.published is False


def test_publishing_needs_a_customer_text_naming_the_field() -> None:
    incident = _incident("x", "Störung")
    with pytest.raises(services.IncidentError) as err:
        services.publish(incident, published=True, text="  ")
    assert err.value.field == "public_text"
