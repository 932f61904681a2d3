"""Resolve closes the loop (issue 12): cases solved with an audit trail, one customer reply per ticket
with the customer text (never the internal cause), customers without a ticket listed and reachable
through a new Groove conversation, a second resolve sends nothing; one voice (Sie/du)."""

from __future__ import annotations

from typing import Any

import pytest

from sirene.cases import services as cases
from sirene.cases.models import Case, CaseEvent, Status
from sirene.escalation.messages import facebook_group_reply
from sirene.flows import incidents as incidents
from sirene.helpdesk import replies, tasks
from sirene.helpdesk.models import CustomerReply, Outreach, ReplyKind, ReplyStatus
from sirene.helpdesk.tests.conftest import make_groove_case

pytestmark = pytest.mark.django_db

INTERNAL = "Loadbalancer lb-3 hatte ein abgelaufenes Zertifikat; ersetzt."
CUSTOMER = "Der Mitgliederbereich ist wieder erreichbar. Bitte laden Sie die Seite einmal neu."


def _case_without_ticket(email: str) -> Case:
    result = cases.intake(
        cases.IntakeData(
            source="web",
            external_id=f"form-{email}",
            subject="Mitgliederbereich zeigt Fehler 502",
            body="Seit heute Morgen nur Fehler 502.",
            customer=cases.CustomerData(email=email, name=""),
            tags=["technik"],
        ),
        actor_label="web",
    )
    assert result.case is not None
    return result.case


@pytest.fixture
def api(client: Any, lead: Any) -> Any:
    """The JSON API as the lead (resolving is the lead's decision)."""
    import json

    from sirene.accounts.models import ApiToken

    _token, raw = ApiToken.issue(lead, name="lead")
    headers = {"Authorization": f"Bearer {raw}"}

    class Api:
        def get(self, path: str) -> Any:
            return client.get(path, headers=headers)

        def post(self, path: str, data: Any) -> Any:
            return client.post(path, json.dumps(data), content_type="application/json", headers=headers)

    return Api()


@pytest.fixture
def incident(groove: Any) -> Any:
    linked = []
    for n, email in enumerate(["anna@example.com", "bernd@example.com", "clara@example.com"], start=1):
        groove.add_ticket(700 + n, email=email, tags=["technik"])
        linked.append(make_groove_case(700 + n, email, name=email.split("@")[0].title()))
    linked += [_case_without_ticket("dora@example.com"), _case_without_ticket("emil@example.com")]
    return incidents.open_incident(title="Fehler 502 im Mitgliederbereich", cases=linked)


def _resolution_posts(groove: Any) -> list[Any]:
    return [p for p in groove.posted() if "behoben" in p.body["body"]]


def test_resolve_solves_the_cases_replies_once_per_ticket_and_lists_the_unticketed(
    groove: Any, incident: Any, lead: Any, api: Any
) -> None:
    tasks.tick()  # the holding replies at open
    holding = CustomerReply.objects.filter(incident=incident, kind=ReplyKind.HOLDING)
    assert holding.count() == 3 and {r.status for r in holding} == {ReplyStatus.SENT}

    preview = api.post(f"/api/v1/incidents/{incident.pk}/resolve/preview", {"customer_text": CUSTOMER}).json()
    assert preview["tickets"] == 3 and preview["customers"] == 5
    assert CUSTOMER in preview["text"] and INTERNAL not in preview["text"]
    assert preview["without_ticket"] == ["dora@example.com", "emil@example.com"]
    assert not _resolution_posts(groove), "a preview sends nothing"

    response = api.post(
        f"/api/v1/incidents/{incident.pk}/resolve", {"resolution": INTERNAL, "customer_text": CUSTOMER}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["replies"]["queued"] == 3 and body["replies"]["sent"] == 0
    assert body["replies"]["without_ticket"] == ["dora@example.com", "emil@example.com"]

    # every linked case solved, with who, when and which incident
    for case in incident.cases.all():
        assert case.status == Status.SOLVED and case.solution == INTERNAL and case.solved_at is not None
        audit = CaseEvent.objects.get(case=case, message__startswith="Gelöst über Störung")
        assert f"INC-{incident.pk}" in audit.message and audit.data == {"incident": incident.pk}

    tasks.tick()
    posts = _resolution_posts(groove)
    assert sorted(p.path for p in posts) == [f"/v1/tickets/{n}/messages" for n in (701, 702, 703)]
    for post in posts:
        assert CUSTOMER in post.body["body"] and INTERNAL not in post.body["body"]
        assert "Sie" in post.body["body"] and " du " not in post.body["body"]
    state = api.get(f"/api/v1/incidents/{incident.pk}").json()["replies"]
    assert (state["sent"], state["queued"], state["failed"]) == (3, 0, 0)
    assert state["without_ticket"] == ["dora@example.com", "emil@example.com"]

    # a second resolve sends nothing
    again = api.post(f"/api/v1/incidents/{incident.pk}/resolve", {"resolution": "nochmal", "customer_text": "x"})
    assert again.status_code == 409
    tasks.tick()
    assert len(_resolution_posts(groove)) == 3
    assert CustomerReply.objects.filter(incident=incident, kind=ReplyKind.RESOLUTION).count() == 3


def test_a_customer_without_ticket_gets_a_new_groove_conversation_or_no_reply(
    groove: Any, incident: Any, lead: Any, api: Any
) -> None:
    incidents.resolve(incident, resolution=INTERNAL, customer_text=CUSTOMER, user=lead)
    dora = incident.cases.get(customer__email="dora@example.com")
    emil = incident.cases.get(customer__email="emil@example.com")
    state = api.post(f"/api/v1/incidents/{incident.pk}/customers/{dora.pk}/new-conversation", {}).json()
    assert state["without_ticket"] == ["emil@example.com"] and state["queued"] == 4
    # twice is once
    api.post(f"/api/v1/incidents/{incident.pk}/customers/{dora.pk}/new-conversation", {})
    state = api.post(f"/api/v1/incidents/{incident.pk}/customers/{emil.pk}/not-needed", {}).json()
    assert state["without_ticket"] == [] and state["not_needed"] == ["emil@example.com"]
    tasks.tick()
    [created] = groove.created()
    assert created.body["to"] == "dora@example.com" and created.body["send_copy_to_customer"] is True
    assert CUSTOMER in created.body["body"] and created.body["subject"] == incident.customer_title
    outreach = Outreach.objects.get(case=dora)
    assert outreach.status == ReplyStatus.SENT and outreach.ticket_number in groove.tickets
    tasks.tick()
    assert len(groove.created()) == 1
    state = api.get(f"/api/v1/incidents/{incident.pk}").json()["replies"]
    assert state["sent"] == 4
    # a ticketed customer is not "reached" twice
    anna = incident.cases.get(customer__email="anna@example.com")
    refused = api.post(f"/api/v1/incidents/{incident.pk}/customers/{anna.pk}/new-conversation", {})
    assert refused.status_code == 422 and refused.json()["field"] == "case"


def test_the_resolve_api_names_the_missing_field(api: Any, incident: Any) -> None:
    response = api.post(f"/api/v1/incidents/{incident.pk}/resolve", {"resolution": " ", "customer_text": CUSTOMER})
    assert response.status_code == 422 and response.json()["field"] == "resolution"
    assert incident.cases.filter(status=Status.SOLVED).count() == 0


def test_one_voice_sie_by_default_du_when_configured(groove: Any, settings: Any, incident: Any, lead: Any) -> None:
    from sirene.incidents.panels import customer_hints_reply

    single = make_groove_case(799, "fritz@example.com", name="Fritz Mayer", subject="Video ruckelt")
    sie = {
        "holding": replies.render(ReplyKind.HOLDING, {"greeting": "Hallo,"}),
        "delay": replies.render(ReplyKind.DELAY, {"greeting": "Hallo,", "subject": "x"}),
        "resolution": replies.default_customer_text(incident, settings.CUSTOMER_VOICE),
        "facebook": facebook_group_reply(incident),
        "single": customer_hints_reply(single),
    }
    for name, text in sie.items():
        assert " du " not in f" {text} " and "deine" not in text and "dich" not in text, name
    assert "Ihre" in sie["holding"] and "Sie" in sie["delay"] and "Hallo Fritz Mayer," in sie["single"]
    settings.CUSTOMER_VOICE = "du"
    du = {
        "holding": replies.render(ReplyKind.HOLDING, {"greeting": "Hallo,"}),
        "delay": replies.render(ReplyKind.DELAY, {"greeting": "Hallo,", "subject": "x"}),
        "resolution": replies.default_customer_text(incident, settings.CUSTOMER_VOICE),
        "single": customer_hints_reply(single),
    }
    for name, text in du.items():
        assert " Sie " not in text and "Ihre" not in text and "Ihnen" not in text, name
    assert "deine" in du["holding"] or "dein" in du["holding"]
    assert "Hallo Fritz," in du["single"]


def test_the_single_case_reply_uses_the_confirmed_known_problem_and_the_platform(db: Any, agent: Any) -> None:
    from sirene.cases.models import Customer
    from sirene.incidents.panels import customer_hints_reply
    from sirene.knowledge.models import KnownProblem, Suggestion, SuggestionState

    app_case = cases.intake(
        cases.IntakeData(
            source="web", external_id="app-1", subject="App stürzt ab",
            body="Die App auf meinem iPhone stürzt beim Start ab.",
            customer=cases.CustomerData(email="ina@example.com", name="Ina"), tags=["technik"],
        )
    ).case
    assert app_case is not None
    text = customer_hints_reply(app_case)
    assert "App" in text and "Cookies" not in text and "Browser" not in text
    problem = KnownProblem.objects.create(
        key="checkout-3ds", title="Zahlung fehlgeschlagen im Checkout",
        customer_hints="Bitte die 3-D-Secure-Freigabe in der Banking-App bestätigen.\nDanach erneut bezahlen.",
    )
    Suggestion.objects.create(case=app_case, known_problem=problem, state=SuggestionState.CONFIRMED)
    from sirene.knowledge.panels import confirmed_problem

    text = customer_hints_reply(app_case, confirmed_problem(app_case))
    assert "Zahlung fehlgeschlagen im Checkout" in text
    assert "1. Bitte die 3-D-Secure-Freigabe in der Banking-App bestätigen." in text
    assert "Cookies" not in text and "starten Sie Ihr Gerät" not in text
    assert Customer.objects.filter(email="ina@example.com").exists()


def test_a_new_conversation_refused_for_good_is_tried_once_then_dead_in_health_until_a_person_retries(
    groove: Any, incident: Any, lead: Any, api: Any
) -> None:
    """Issue 22 (review P3): new conversations run on core/jobs: tries, backoff, dead state, health."""
    from sirene.core import clock
    from sirene.flows import health
    from sirene.helpdesk import loop

    clock.set_now(clock.now())
    incidents.resolve(incident, resolution=INTERNAL, customer_text=CUSTOMER, user=lead)
    dora = incident.cases.get(customer__email="dora@example.com")
    api.post(f"/api/v1/incidents/{incident.pk}/customers/{dora.pk}/new-conversation", {})

    def tickets_posts() -> list[Any]:
        return [r for r in groove.requests if r.method == "POST" and r.path == "/v1/tickets"]

    before = len(tickets_posts())
    groove.fail_next(1, status=422)
    for _ in range(5):
        loop.send_due_outreach()
        clock.advance(seconds=600)
    assert len(tickets_posts()) == before + 1
    outreach = Outreach.objects.get(case=dora)
    assert outreach.status == ReplyStatus.FAILED and outreach.dead_at is not None
    background = next(lane for lane in health.lanes() if lane.lane == "background")
    assert any(q["name"] == "new_conversations" and q["dead"] == 1 for q in background.queues)
    assert loop.retry_outreach(outreach)
    loop.send_due_outreach()
    outreach.refresh_from_db()
    assert outreach.status == ReplyStatus.SENT and outreach.dead_at is None
