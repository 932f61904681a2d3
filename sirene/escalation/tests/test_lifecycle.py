from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from sirene.escalation import services
from sirene.escalation.models import Attempt, AttemptStatus, Policy, Run, Step, StepKind
from sirene.escalation.tests.helpers import calls, open_incident, run_until, work
from sirene.flows import incidents as incident_flows
from sirene.incidents.models import IncidentEvent

pytestmark = pytest.mark.django_db


def test_a_status_update_goes_to_the_internal_channel_and_the_timeline(
    lead: Any, fake_slack: Any, fake_twilio: Any, team: Any, start: Any
) -> None:
    incident = open_incident()
    work()
    services.post_status_update(incident, "Ursache gefunden, Fix wird ausgerollt.", user=lead)
    work()
    [update] = fake_slack.posted_to("#customer-success-intern")
    assert "Ursache gefunden" in update["text"]
    assert IncidentEvent.objects.filter(incident=incident, kind="status_update").count() == 1


def test_an_empty_status_update_is_refused_naming_the_field(lead: Any, team: Any, start: Any) -> None:
    incident = open_incident()
    with pytest.raises(services.EscalationError) as err:
        services.post_status_update(incident, "   ", user=lead)
    assert err.value.field == "text"


def test_resolution_posts_a_final_update_and_stops_the_calls(
    lead: Any, fake_slack: Any, fake_twilio: Any, team: Any, start: Any
) -> None:
    incident = open_incident()
    run_until(5)
    incident_flows.resolve(incident, resolution="CDN-Konfiguration korrigiert.", user=lead)
    run_until(30)
    assert fake_twilio.calls == []
    [final] = fake_slack.posted_to("#customer-success-intern")
    assert "Gelöst" in final["text"] and "CDN-Konfiguration" in final["text"]
    assert "*Gelöst*" in fake_slack.posted_to("#customer-success")[0]["text"]


def test_editing_the_policy_does_not_change_a_running_escalation(
    fake_slack: Any, fake_twilio: Any, team: Any, start: Any
) -> None:
    open_incident()
    work()
    policy: Policy = team["policy"]
    Step.objects.filter(policy=policy, kind=StepKind.WAIT_ACK).update(minutes=60)
    Step.objects.filter(policy=policy, kind=StepKind.CALL, person=team["tara"]).update(person=team["luca"])
    run_until(16)
    assert [c.person_name for c in calls()] == ["Tara"]


def test_the_web_ack_button_stops_the_escalation(
    client: Any, agent: Any, fake_slack: Any, fake_twilio: Any, team: Any, start: Any
) -> None:
    incident = open_incident()
    work()
    team["luca"].user = agent  # issue 22: only a responder of the policy (or a lead) takes over
    team["luca"].save()
    client.force_login(agent)
    response = client.post(f"/escalation/incidents/{incident.pk}/ack/")
    assert response.status_code == 302
    run_until(30)
    assert fake_twilio.calls == []
    assert Run.objects.get().status == "acknowledged"


def test_without_any_configuration_the_outbox_records_what_would_have_been_sent(
    settings: Any, team: Any, start: Any
) -> None:
    from sirene.integrations.models import OutboxMessage

    settings.SLACK_TOKEN = ""
    settings.TWILIO_ACCOUNT_SID = ""
    open_incident()
    run_until(16)
    assert (
        OutboxMessage.objects.filter(
            channel="slack", kind="post", recipient="#customer-success", payload__thread_ts=None
        ).count()
        == 1
    )
    assert OutboxMessage.objects.filter(channel="phone", kind="call", recipient="+4915550000002").count() == 1
    assert Attempt.objects.get(kind="call").status == AttemptStatus.SENT


def test_an_invalid_phone_number_is_refused_naming_the_field(db: Any) -> None:
    with pytest.raises(services.EscalationError) as err:
        services.save_person(name="Max", phone="0176 123")
    assert err.value.field == "phone"


def test_an_incident_opened_without_any_policy_still_posts_the_siren(
    fake_slack: Any, start: Any, db: Any
) -> None:
    services.save_person(name="Tara", slack_user_id="U1")
    open_incident()
    work()
    assert "<@U1>" in fake_slack.posted_to("#customer-success")[0]["text"]


def test_the_demo_loader_is_idempotent(db: Any) -> None:
    import io

    from sirene.escalation import demo
    from sirene.escalation.models import Person

    demo.load(io.StringIO())
    demo.load(io.StringIO())
    assert Person.objects.count() == 4 and Policy.objects.count() == 1
    assert Policy.objects.get().steps.count() == 5  # the Facebook task is no step: it goes out at open


def test_absence_end_before_start_is_refused(team: Any, start: Any) -> None:
    with pytest.raises(services.EscalationError) as err:
        services.add_absence(team["tara"], starts_at=start, ends_at=start - dt.timedelta(hours=1))
    assert err.value.field == "ends_at"


def test_the_escalation_page_speaks_german_and_shows_runs(
    client: Any, lead: Any, fake_slack: Any, team: Any, start: Any
) -> None:
    incident = open_incident()
    work()
    client.force_login(lead)
    page = client.get("/escalation/").content.decode()
    assert "Eskalationen" in page and "Abwesenheiten" in page
    assert f"INC-{incident.pk}" in page


def test_the_incident_panel_shows_attempts_and_the_status_form_for_leads(
    rf: Any, lead: Any, fake_slack: Any, team: Any, start: Any
) -> None:
    from django.template.loader import render_to_string

    from sirene.escalation.panels import incident_panel_context

    incident = open_incident()
    work()
    request = rf.get("/")
    request.user = lead
    html = render_to_string(
        "escalation/incident_panel.html",
        {"panel": incident_panel_context(request, incident)},
        request=request,
    )
    assert "Statusmeldung senden" in html and fake_slack.messages[0]["ts"] in html
