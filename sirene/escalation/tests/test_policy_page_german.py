"""The policy page: the preview reads as German sentences, and a lead's step edit changes it."""

from __future__ import annotations

from typing import Any

import pytest

from sirene.escalation.models import Step, StepKind
from sirene.preferences.models import SettingChange

pytestmark = pytest.mark.django_db


def preview(client: Any, policy: Any, query: str = "") -> list[str]:
    response = client.get(f"/escalation/policies/{policy.pk}/{query}")
    return [f"{line.offset} {line.text}" for line in response.context["preview"]]


def test_the_preview_is_german_with_offsets_not_clock_times(client: Any, lead: Any, team: Any) -> None:
    client.force_login(lead)
    lines = preview(client, team["policy"], "?absent=Tara&no_answer=Piwi")
    text = "\n".join(lines)
    assert lines[0].startswith("sofort Slack-Post in #customer-success, erwähnt:")
    assert "nach 15 min Tara wird übersprungen (abwesend)" in text
    assert "nach 15 min Anruf bei Piwi (1 von 2)" in text
    for english in ("call ", "Slack post in", "skip ", "stop:", "pressed 1", "task for"):
        assert english not in text


def test_a_lead_changes_the_wait_and_the_preview_follows(client: Any, lead: Any, team: Any) -> None:
    client.force_login(lead)
    wait = Step.objects.get(policy=team["policy"], kind=StepKind.WAIT_ACK)
    assert any(line.startswith("nach 15 min Anruf bei Tara") for line in preview(client, team["policy"]))
    response = client.post(f"/escalation/steps/{wait.pk}/", {"action": "save", "minutes": "10"})
    assert response.status_code == 302
    lines = preview(client, team["policy"])
    assert any(line.startswith("nach 10 min Anruf bei Tara") for line in lines)
    change = SettingChange.objects.get(area="step", field="minutes")
    assert (change.old_value, change.new_value, change.user) == ("15", "10", lead)


def test_bad_step_values_name_the_field_and_agents_cannot_edit(client: Any, agent: Any, lead: Any, team: Any) -> None:
    wait = Step.objects.get(policy=team["policy"], kind=StepKind.WAIT_ACK)
    client.force_login(agent)
    assert client.post(f"/escalation/steps/{wait.pk}/", {"action": "save", "minutes": "5"}).status_code == 403
    client.force_login(lead)
    response = client.post(f"/escalation/steps/{wait.pk}/", {"action": "save", "minutes": "-3"}, follow=True)
    assert "Warten (Minuten): bitte eine ganze Zahl ab 0 eingeben." in response.content.decode()
    call = Step.objects.filter(policy=team["policy"], kind=StepKind.CALL).first()
    assert call is not None
    response = client.post(f"/escalation/steps/{call.pk}/", {"action": "save", "person": ""}, follow=True)
    assert "Person: ein Anruf-Schritt braucht eine Person" in response.content.decode()
    wait.refresh_from_db()
    call.refresh_from_db()
    assert wait.minutes == 15 and call.person is not None
