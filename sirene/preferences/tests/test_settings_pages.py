"""Lead settings inside sirene: German forms, errors on the right field, lead only, an audit trail."""

from __future__ import annotations

from typing import Any

import pytest

from sirene.escalation.models import Person
from sirene.incidents.models import IncidentRule
from sirene.incidents.rules import rule_for
from sirene.preferences import services
from sirene.preferences.models import SettingChange

pytestmark = pytest.mark.django_db

GENERAL = {
    "customer_voice": "du",
    "facebook_person": "",
    "test_account_url": "https://wiki.example.de/testkonto",
    "slack_channel": "#customer-success",
    "slack_status_channel": "#cs-status",
}


def test_agents_cannot_see_or_change_settings(client: Any, agent: Any) -> None:
    client.force_login(agent)
    assert client.get("/settings/").status_code == 403
    assert client.post("/settings/general/", GENERAL).status_code == 403
    assert client.post("/settings/rules/new/", {"category": "login", "threshold": 3, "window_hours": 12}).status_code == 403
    assert not IncidentRule.objects.exists() and not SettingChange.objects.exists()
    assert "Einstellungen" not in client.get("/").content.decode().split("<main>")[0]


def test_a_lead_sees_the_german_settings_page(client: Any, lead: Any) -> None:
    client.force_login(lead)
    html = client.get("/settings/").content.decode()
    for text in ("Einstellungen", "Störungsregeln", "Wie wir Kunden ansprechen", "Slack-Kanal für den Sirenen-Post",
                 "Personen", "Eskalationsabläufe"):
        assert text in html


def test_general_settings_override_the_environment_and_are_audited(client: Any, lead: Any, settings: Any) -> None:
    settings.SLACK_STATUS_CHANNEL = "#customer-success-intern"
    client.force_login(lead)
    response = client.post("/settings/general/", GENERAL)
    assert response.status_code == 302
    assert services.get("slack_status_channel") == "#cs-status"
    assert services.get("customer_voice") == "du"
    change = SettingChange.objects.get(field="slack_status_channel")
    assert (change.old_value, change.new_value, change.user) == ("#customer-success-intern", "#cs-status", lead)
    # Setting the environment's value again removes the override.
    client.post("/settings/general/", {**GENERAL, "slack_status_channel": "#customer-success-intern"})
    assert services.overridden() == {"customer_voice", "test_account_url"}
    assert "#cs-status" in client.get("/settings/").content.decode()  # the audit trail keeps the history


def test_bad_general_input_names_the_field_and_writes_nothing(client: Any, lead: Any) -> None:
    client.force_login(lead)
    response = client.post("/settings/general/", {**GENERAL, "slack_channel": "Customer Success", "test_account_url": "kein link"})
    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-field="slack_channel"' in html and "Slack-Kanal für den Sirenen-Post: Bitte den Slack-Kanal" in html
    assert 'data-field="test_account_url"' in html
    assert not SettingChange.objects.exists() and services.overridden() == set()


def test_incident_rules_are_added_edited_and_removed(client: Any, lead: Any) -> None:
    client.force_login(lead)
    response = client.post("/settings/rules/new/", {"category": "login", "threshold": 3, "window_hours": 12, "pages": "on"})
    assert response.status_code == 302
    rule = IncidentRule.objects.get(category="login")
    assert (rule_for("login").threshold, rule_for("login").window_hours) == (3, 12)
    client.post(f"/settings/rules/{rule.pk}/", {"category": "login", "threshold": 4, "window_hours": 6, "pages": "on"})
    assert rule_for("login").threshold == 4
    assert SettingChange.objects.filter(area="incident_rule", field="threshold", old_value="3", new_value="4").exists()
    client.post(f"/settings/rules/{rule.pk}/delete/")
    assert not IncidentRule.objects.exists()


def test_a_bad_rule_names_the_field(client: Any, lead: Any) -> None:
    client.force_login(lead)
    response = client.post("/settings/rules/new/", {"category": "login", "threshold": 0, "window_hours": 1000})
    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-field="threshold"' in html and 'data-field="window_hours"' in html
    assert "zwischen 0,25 und 336 Stunden" in html
    assert not IncidentRule.objects.exists()


def test_people_are_edited_with_field_errors(client: Any, lead: Any) -> None:
    client.force_login(lead)
    response = client.post(
        "/settings/people/new/",
        {"name": "Tara", "role": "lead", "phone": "0151 123", "slack_user_id": "tara", "time_zone": "Europe/Berlin"},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-field="phone"' in html and 'data-field="slack_user_id"' in html
    assert not Person.objects.exists()
    response = client.post(
        "/settings/people/new/",
        {"name": "Tara", "role": "lead", "phone": "+4915112345678", "slack_user_id": "U0TARA001",
         "time_zone": "Europe/Berlin"},
    )
    assert response.status_code == 302
    person = Person.objects.get(name="Tara")
    client.post(
        f"/settings/people/{person.pk}/",
        {"name": "Tara", "role": "lead", "phone": "+4915112345679", "slack_user_id": "U0TARA001",
         "time_zone": "Europe/Berlin"},
    )
    assert SettingChange.objects.filter(area="person", field="phone", new_value="+4915112345679").exists()
