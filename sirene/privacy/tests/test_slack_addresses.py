"""The lead's choice "Kundenadressen in Slack": zeigen (default) / maskiert / nur Anzahl und Anbieter.
The siren post (real slack_sdk, local fake Slack) keeps the thread line and the links in every mode."""

from __future__ import annotations

from typing import Any

import pytest

from sirene.escalation.tests.helpers import work
from sirene.preferences import services as preferences
from sirene.privacy.tests.helpers import report

pytestmark = pytest.mark.django_db

CUSTOMERS = ["sabine@gmx.de", "tom@gmx.net", "ute@gmx.de", "vera@web.de", "willi@gmx.de", "xaver@web.de"]


def siren_text(fake_slack: Any) -> str:
    import datetime as dt

    from sirene.core import clock

    now = clock.now()
    for i, email in enumerate(CUSTOMERS):
        report(email, at=now - dt.timedelta(minutes=60 - 5 * i))
    work()
    text: str = next(m for m in fake_slack.messages if "Fälle" in m["text"])["text"]
    return text


def cases_line(text: str) -> str:
    return next(line for line in text.split("\n") if line.startswith("– Fälle:"))


def test_by_default_the_addresses_are_shown(fake_slack: Any, team: Any, start: Any) -> None:
    line = cases_line(siren_text(fake_slack))
    assert "sabine@gmx.de" in line and "vera@web.de" in line


def test_masked_shows_the_first_letter_and_the_domain(fake_slack: Any, team: Any, start: Any, lead: Any) -> None:
    preferences.save({"slack_customer_addresses": "mask"}, user=lead)
    text = siren_text(fake_slack)
    line = cases_line(text)
    assert "s…@gmx.de" in line and "v…@web.de" in line and "und 1 weitere" in line
    assert "@" not in line.replace("…@", "")
    assert "sabine" not in text and "– Roter Faden:" in text and "Fälle in der Trackingliste" in text


def test_count_only_names_the_providers_and_links_to_sirene(
    fake_slack: Any, team: Any, start: Any, lead: Any, settings: Any
) -> None:
    settings.PUBLIC_URL = "https://sirene.example.com"
    preferences.save({"slack_customer_addresses": "count"}, user=lead)
    text = siren_text(fake_slack)
    line = cases_line(text)
    assert line.startswith("– Fälle: 6 Kund:innen: GMX 4, WEB.DE 2 (<https://sirene.example.com/cases/?incident=")
    assert "@" not in line and "– Roter Faden:" in text and "Störung INC-" in text


def test_a_lead_sets_it_under_einstellungen_and_the_change_is_audited(client: Any, lead: Any) -> None:
    from sirene.preferences.models import SettingChange

    client.force_login(lead)
    page = client.get("/settings/").content.decode()
    assert "Kundenadressen in Slack" in page and "nur Anzahl und Anbieter" in page
    data = {k: preferences.get(k) for k in preferences.SPECS}
    data["slack_customer_addresses"] = "mask"
    assert client.post("/settings/general/", data).status_code == 302
    assert preferences.get("slack_customer_addresses") == "mask"
    assert SettingChange.objects.filter(field="slack_customer_addresses", new_value="mask").exists()
    data["slack_customer_addresses"] = "everything"
    assert client.post("/settings/general/", data).status_code == 422
