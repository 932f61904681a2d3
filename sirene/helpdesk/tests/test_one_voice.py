"""One voice to customers (issue 19): every customer text renders in Sie and in du with no form of the other;
the customer's own form is mirrored (unless the lead forces the team voice); a conversation never changes
voice; the single case's ready reply is in the API and sent to Groove exactly once; hints fit the side."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from sirene.cases import services as cases
from sirene.cases.models import Reproduced
from sirene.escalation.messages import facebook_group_reply
from sirene.flows import incidents as incident_flows
from sirene.helpdesk import replies, services, tasks
from sirene.helpdesk.models import CustomerReply, ReplyKind
from sirene.incidents.panels import customer_hints_reply
from sirene.knowledge import services as knowledge
from sirene.preferences import services as preferences
from sirene.preferences.voice import DU, SIE, customer_form, forms_of

pytestmark = pytest.mark.django_db

STARTER = Path(knowledge.__file__).parent / "starter" / "known_problems.yaml"


def _other(which: str) -> str:
    return DU if which == SIE else SIE


def _case(number: int, body: str, *, email: str = "", name: str = "Maria Muster", **attrs: Any) -> Any:
    result = cases.intake(
        cases.IntakeData(
            source="groove",
            external_id=str(number),
            subject="Es geht nicht",
            body=body,
            customer=cases.CustomerData(email=email or f"k{number}@example.com", name=name, attributes=attrs),
            tags=["technik"],
        ),
        actor_label="groove",
    )
    assert result.case is not None
    return result.case


def test_the_forms_of_either_voice_are_found() -> None:
    assert forms_of("Bitte prüfe, ob deine Bank die Zahlung freigegeben hat.")[DU] == ["deine"]
    assert forms_of("vielen Dank für Ihre Nachricht, antworten Sie uns gern.")[SIE] == ["Ihre", "Sie"]
    # "Sie" opening a sentence can be the third person: not counted.
    assert forms_of("Die App startet nicht. Sie stürzt sofort ab.")[SIE] == []
    assert customer_form("Hallo, kannst du mir helfen? Die App geht nicht.") == DU
    assert customer_form("Guten Tag, können Sie mir helfen?") == SIE
    assert customer_form("Die App stürzt ab.") is None


def _every_customer_text(which: str, incident: Any, cases_: dict[str, Any]) -> dict[str, str]:
    values = {"greeting": "Hallo,", "subject": "Video lädt nicht", "resolution": replies.DEFAULT_CUSTOMER_TEXT}
    texts = {kind: replies.render(kind, values, which=which) for kind in replies.DEFAULTS if kind != ReplyKind.NOTE}
    texts["default customer text"] = replies.default_customer_text(incident, which)
    texts["facebook"] = facebook_group_reply(incident)  # the team voice (set to `which` by the test)
    for name, case in cases_.items():
        texts[f"single: {name}"] = customer_hints_reply(case, which=which)
    for problem in yaml.safe_load(STARTER.read_text(encoding="utf-8"))["known_problems"]:
        texts[f"known problem {problem['key']}"] = customer_hints_reply(
            cases_["browser"], (problem["title"], problem["customer_hints"]), which=which
        )
    return texts


@pytest.mark.parametrize("which", [SIE, DU])
def test_every_customer_text_renders_in_both_voices_without_a_form_of_the_other(
    which: str, settings: Any, groove: Any
) -> None:
    settings.CUSTOMER_VOICE = which
    browser = _case(1, "Das Video lädt nicht.", browser="Firefox 133")
    app = _case(2, "Die App zeigt nichts an.", platform="ios")
    ours = _case(3, "Das Zertifikat zeigt meinen Namen mit kaputten Umlauten.")
    ours.reproduced = Reproduced.YES
    ours.save(update_fields=["reproduced"])
    incident = incident_flows.open_incident(title="Audios spielen nicht ab", cases=[app])
    texts = _every_customer_text(which, incident, {"browser": browser, "app": app, "our side": ours})
    assert len(texts) > 20
    for name, text in texts.items():
        found = forms_of(text)
        assert not found[_other(which)], (name, found[_other(which)], text)
        assert "[" not in text or "|" not in text, (name, text)  # no markup left
    # Each voice is really there (not just neutral text).
    assert forms_of(texts[ReplyKind.HOLDING])[which]
    assert forms_of(texts["known problem payment-failed"])[which]


def test_a_customer_who_writes_du_gets_du_and_the_conversation_keeps_it(groove: Any, settings: Any) -> None:
    settings.CUSTOMER_VOICE = "sie"
    groove.add_ticket(41, email="lena@example.com", tags=["technik"])
    case = _case(41, "Hallo, kannst du mir helfen? Bei mir startet kein Video.", email="lena@example.com")
    assert services.voice_for(case) == DU
    reply, created = services.queue_reply(ReplyKind.HOLDING, case)
    assert created and reply is not None and reply.voice == DU
    assert forms_of(reply.body)[DU] and not forms_of(reply.body)[SIE]
    # The lead now forces "immer Sie": this conversation started with du and stays du.
    preferences.save({"customer_voice": "sie_always"}, user=None)
    delay, _created = services.queue_reply(ReplyKind.DELAY, case)
    assert delay is not None and delay.voice == DU and not forms_of(delay.body)[SIE]
    # A new conversation of someone writing du is answered with Sie now.
    other = _case(42, "Hallo, kannst du mal schauen?")
    assert services.voice_for(other) == SIE


def test_a_customer_who_writes_sie_gets_sie_when_the_team_says_du(groove: Any, settings: Any) -> None:
    settings.CUSTOMER_VOICE = "du"
    case = _case(43, "Guten Tag, können Sie mir bitte helfen? Das Video lädt nicht.")
    assert services.voice_for(case) == SIE
    neutral = _case(44, "Das Video lädt nicht.")
    assert services.voice_for(neutral) == DU


def test_the_single_case_reply_is_in_the_api_and_sent_to_groove_exactly_once(
    groove: Any, api: Any, settings: Any
) -> None:
    settings.CUSTOMER_VOICE = "sie"
    groove.add_ticket(51, email="ina@example.com", tags=["technik"])
    case = _case(51, "Seit heute lädt kein Video.", email="ina@example.com", name="Ina Berg", browser="Chrome")
    got = api.get(f"/api/v1/cases/{case.pk}/reply")
    assert got.status_code == 200, got.content
    body = got.json()
    assert body["voice"] == SIE and body["text"].startswith("Hallo Ina Berg,")
    assert "Cache" in body["text"] and not forms_of(body["text"])[DU]
    first = api.post(f"/api/v1/cases/{case.pk}/reply", {})
    again = api.post(f"/api/v1/cases/{case.pk}/reply", {})
    assert first.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert CustomerReply.objects.filter(case=case, kind=ReplyKind.ANSWER).count() == 1
    tasks.tick()
    posted = [p for p in groove.posted() if "Cache" in p.body["body"]]
    assert len(posted) == 1
    tasks.tick()
    assert len([p for p in groove.posted() if "Cache" in p.body["body"]]) == 1
    # Without a ticket: 422 naming the case, nothing queued.
    web = cases.intake(
        cases.IntakeData(
            source="web", external_id="w1", subject="x", body="Video lädt nicht",
            customer=cases.CustomerData(email="o@example.com"), tags=[],
        )
    ).case
    assert web is not None
    refused = api.post(f"/api/v1/cases/{web.pk}/reply", {})
    assert refused.status_code == 422 and refused.json()["field"] == "case"
    assert api.get("/api/v1/cases/999999/reply").status_code == 404


def test_the_case_page_sends_the_reply_once(groove: Any, client: Any, agent: Any) -> None:
    groove.add_ticket(61, email="jo@example.com", tags=["technik"])
    case = _case(61, "Das Video lädt nicht.", email="jo@example.com")
    client.force_login(agent)
    page = client.get(case.get_absolute_url()).content.decode()
    assert 'id="send-reply"' in page
    for _ in range(2):
        client.post(f"/helpdesk/cases/{case.pk}/reply/")
    assert CustomerReply.objects.filter(case=case, kind=ReplyKind.ANSWER).count() == 1


def test_a_problem_on_our_side_gets_no_cache_advice(groove: Any) -> None:
    case = _case(71, "Auf meinem Zertifikat sind die Umlaute in meinem Namen kaputt.", browser="Firefox")
    assert "Cache" in customer_hints_reply(case)
    case.reproduced = Reproduced.YES
    case.save(update_fields=["reproduced"])
    text = customer_hints_reply(case)
    assert "Cache" not in text and "Browser" not in text and "bei uns" in text
    server = _case(72, "Ich bekomme nur Fehler 502 Bad Gateway.")
    assert "Cache" not in customer_hints_reply(server)


def test_knowledge_hints_must_carry_both_forms(db: Any) -> None:
    with pytest.raises(knowledge.KnowledgeError) as refused:
        knowledge.create_known_problem(
            knowledge.ProblemData(title="Zahlung", customer_hints="Bitte prüfe, ob deine Bank zustimmt."),
        )
    assert refused.value.field == "customer_hints"
    problem = knowledge.create_known_problem(
        knowledge.ProblemData(title="Zahlung", customer_hints="Bitte [prüfen Sie|prüfe], ob [Ihre|deine] Bank zustimmt."),
    )
    assert "[prüfen Sie|prüfe]" in problem.customer_hints


def test_a_lead_text_in_one_voice_is_refused_when_customers_read_the_other(groove: Any, lead: Any) -> None:
    groove.add_ticket(81, email="a@example.com", tags=["technik"])
    groove.add_ticket(82, email="b@example.com", tags=["technik"])
    du_case = _case(81, "Hallo, kannst du helfen? Die Seite lädt nicht.", email="a@example.com")
    sie_case = _case(82, "Können Sie helfen? Die Seite lädt nicht.", email="b@example.com")
    incident = incident_flows.open_incident(title="Seite lädt nicht", cases=[du_case, sie_case])
    preview = incident_flows.resolve_preview(incident, "Bitte laden Sie die Seite neu.")
    assert "1" in preview["voice_conflict"]
    from sirene.incidents.services import IncidentError

    with pytest.raises(IncidentError) as refused:
        incident_flows.resolve(incident, resolution="Cache-Server neu gestartet", customer_text="Bitte laden Sie die Seite neu.", user=lead)
    assert refused.value.field == "customer_text"
    incident.refresh_from_db()
    assert incident.status != "resolved"
    assert incident_flows.resolve(
        incident, resolution="Cache-Server neu gestartet",
        customer_text="Bitte [laden Sie|lade] die Seite neu.", user=lead,
    )
    bodies = {r.case_id: r.body for r in CustomerReply.objects.filter(incident=incident, kind=ReplyKind.RESOLUTION)}
    assert "lade die Seite neu" in bodies[du_case.pk] and not forms_of(bodies[du_case.pk])[SIE]
    assert "laden Sie die Seite neu" in bodies[sie_case.pk] and not forms_of(bodies[sie_case.pk])[DU]
