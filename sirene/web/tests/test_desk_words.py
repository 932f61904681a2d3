"""German and readable at decisive moments (issue 19): the incident page says who acknowledged, keeps raw
Slack/Twilio ids and p-values behind "Details", uses one word ("Störung"); the resolve preview is German."""

from __future__ import annotations

import re
from typing import Any

import pytest

pytestmark = pytest.mark.django_db

DETAILS = re.compile(r"<details.*?</details>", re.S)


def _visible(html: str) -> str:
    return DETAILS.sub("", html)


def test_the_incident_page_reads_german_without_raw_ids(client: Any, lead: Any) -> None:
    from django.core.management import call_command

    from sirene.flows import incidents as incident_flows
    from sirene.incidents.models import Incident
    from sirene.worker.loop import STEPS

    call_command("demo", verbosity=0)
    for _name, step in STEPS:
        step()
    incident = Incident.objects.filter(status="open").order_by("pk").first()
    assert incident is not None
    incident_flows.acknowledge(incident, user=lead, label=lead.display_name(), via="web")
    client.force_login(lead)
    html = client.get(f"/incidents/{incident.pk}/").content.decode()
    shown = _visible(html)
    assert f"Übernommen von {lead.display_name()}" in shown
    for raw in (r"\bU0000\w+", r"\bC0CUST\w*", r"posted \d", r"queued CA", r"p=\d", r"\bearly_warning\b"):
        assert not re.search(raw, shown), raw
    assert "Vorfall" not in html
    preview = client.post(
        f"/incidents/{incident.pk}/resolve/preview/", {"resolution": "Server neu gestartet", "customer_text": ""}
    ).content.decode()
    assert "customers with a ticket" not in preview and "Resolve and send" not in preview
    assert "Lösen und an" in preview
