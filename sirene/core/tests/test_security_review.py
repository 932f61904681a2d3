"""Every hand-found reproducer of the security review (../shared/reviews/security.md) as a regression test.

Each one used to answer 500 (or store something it should not); now it gets a 4xx naming the field, or
the documented behaviour (text cleaned the same way on SQLite and PostgreSQL). The module runs on both
stores (`make test`), and counts rows so "nothing stored" is checked, not assumed.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, RequestFactory

from sirene.accounts.models import ApiToken, User
from sirene.cases.models import Case, CaseEvent, Customer
from sirene.escalation.models import Absence, Person
from sirene.knowledge.models import ArticleView, KnownProblem

pytestmark = pytest.mark.django_db

BIG = 2**63  # one beyond the largest 64-bit id
FAR_FUTURE = "9999-12-31T23:59:59-12:00"  # year 10000 in UTC
FAR_PAST = "0001-01-01T00:00:00+14:00"  # before year 1 in UTC


def _counts() -> tuple[int, ...]:
    return (Case.objects.count(), Customer.objects.count(), CaseEvent.objects.count(), Absence.objects.count())


def _case_body(**extra: Any) -> dict[str, Any]:
    return {"source": "p", "external_id": "1", "subject": "Login", "customer": {"email": "a@example.com"}, **extra}


@pytest.fixture
def lead_token(lead: User) -> str:
    return ApiToken.issue(lead, name="t")[1]


def _send(client: Client, method: str, path: str, token: str, body: Any = None) -> Any:
    data = body if isinstance(body, str) else json.dumps(body if body is not None else {})
    return client.generic(method, path, data, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")


def _assert_field_error(response: Any, field: str, status: int = 422) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["field"] == field, body
    assert body["error"]


# --- §1: the fuzzer's three 5xx (64-bit overflow) ---------------------------------------------------


def test_an_id_beyond_64_bit_in_case_ids_is_a_422(api: Any) -> None:
    before = _counts()
    _assert_field_error(api.post("/api/v1/incidents", {"title": "x", "case_ids": [BIG]}), "case_ids.0")
    _assert_field_error(api.post("/api/v1/incidents/groups/1/split", {"case_ids": [BIG]}), "case_ids.0")
    assert _counts() == before


def test_a_path_id_beyond_64_bit_is_a_422_naming_the_parameter(api: Any) -> None:
    _assert_field_error(api.post(f"/api/v1/workspace/{BIG}/backups/1/restore", {}), "case_id")
    _assert_field_error(api.get(f"/api/v1/workspace/{BIG}/snapshots/1"), "case_id")
    _assert_field_error(api.get(f"/api/v1/workspace/{BIG}/backups/1"), "case_id")
    _assert_field_error(api.client.delete(f"/api/v1/workspace/1/links/{BIG}", headers=api.headers), "other_id")


def test_query_ids_beyond_64_bit_are_a_422(api: Any) -> None:
    _assert_field_error(api.get("/api/v1/escalation/absences", person_id=BIG), "person_id")
    _assert_field_error(api.get("/api/v1/helpdesk/replies", incident=BIG), "incident")
    _assert_field_error(api.get("/api/v1/helpdesk/replies", case=BIG), "case")


# --- §2a/2b: datetimes out of range, on both stores nothing is stored ---------------------------------


@pytest.mark.parametrize("when", [FAR_FUTURE, FAR_PAST, "0001-01-01T00:00:00", "9999-12-31T23:59:59", "1970-01-01T00:00:00Z"])
def test_received_at_out_of_range_is_a_422_and_nothing_is_stored(api: Any, when: str) -> None:
    before = _counts()
    _assert_field_error(api.post("/api/v1/cases", _case_body(received_at=when)), "received_at")
    assert _counts() == before


def test_after_the_year_10000_request_every_list_stays_readable(api: Any, agent: User, client: Client) -> None:
    """On PostgreSQL this stored a case dated 10000-01-01 and broke the lists for everyone."""
    api.post("/api/v1/cases", _case_body(received_at=FAR_FUTURE))
    assert api.post("/api/v1/cases", _case_body(external_id="2")).status_code == 201
    assert api.get("/api/v1/cases").status_code == 200
    client.force_login(agent)
    assert client.get("/cases/").status_code == 200
    assert client.get("/").status_code == 200


def test_absence_out_of_range_is_a_422_and_the_escalation_page_stays_readable(
    client: Client, lead: User, lead_token: str
) -> None:
    person = Person.objects.create(name="Lea")
    for ends in (FAR_FUTURE, FAR_PAST):
        body = {"person_id": person.pk, "starts_at": "2026-12-05T00:00:00Z", "ends_at": ends}
        _assert_field_error(_send(client, "POST", "/api/v1/escalation/absences", lead_token, body), "ends_at")
    assert not Absence.objects.exists()
    assert _send(client, "GET", "/api/v1/escalation/absences", lead_token).status_code == 200
    client.force_login(lead)
    assert client.get("/escalation/").status_code == 200


def test_follow_up_and_article_view_dates_out_of_range_are_a_422(api: Any) -> None:
    assert api.post("/api/v1/cases", _case_body()).status_code == 201
    case = Case.objects.get()
    _assert_field_error(api.post(f"/api/v1/workspace/{case.pk}/follow-ups", {"due_at": FAR_FUTURE}), "due_at")
    response = api.post(f"/api/v1/customers/{case.customer_id}/article-views", {"article": "a", "viewed_at": FAR_PAST})
    _assert_field_error(response, "viewed_at")
    assert not ArticleView.objects.exists()


# --- lone surrogates and NUL: cleaned the same way on both stores -------------------------------------


def test_lone_surrogates_and_nul_are_cleaned_on_every_store(api: Any) -> None:
    raw = json.dumps(
        _case_body(
            tags=["technik", "\ud83d"],
            customer={"external_id": "cust\x00id", "attributes": {"os": "\udc00"}},
        )
    )
    response = api.post("/api/v1/cases", raw=raw)
    assert response.status_code == 201, response.content
    case = Case.objects.select_related("customer").get()
    assert case.tags == ["technik", "\ufffd"]
    assert case.customer.external_id == "custid"
    assert case.customer.attributes == {"os": "\ufffd"}


def test_text_is_stored_nfc_normalised(api: Any) -> None:
    decomposed = "Mu\u0308ller"  # "Müller" as u + combining diaeresis
    assert api.post("/api/v1/cases", _case_body(subject=decomposed)).status_code == 201
    assert Case.objects.get().subject == "M\u00fcller"


def test_lone_surrogates_in_known_problems_and_the_import_are_cleaned(api: Any) -> None:
    created = api.post("/api/v1/knowledge/problems", raw=json.dumps({"title": "t", "phrasings": ["\ud800 hängt"]}))
    assert created.status_code == 201, created.content
    doc = {"version": 1, "known_problems": [{"title": "s", "key": "s", "phrasings": ["\ud800"]}]}
    assert api.post("/api/v1/knowledge/import", raw=json.dumps(doc)).status_code == 200
    texts = [p.text for kp in KnownProblem.objects.all() for p in kp.phrasings.all()]
    assert "\ufffd hängt" in texts and all("\ud800" not in t for t in texts)


# --- search terms, pages, floats ------------------------------------------------------------------------


@pytest.mark.parametrize("length", [201, 50_000, 100_000])
def test_an_overlong_search_term_is_a_clear_422(api: Any, length: int) -> None:
    _assert_field_error(api.get("/api/v1/cases", q="x" * length), "q")


def test_the_web_list_cuts_an_overlong_search_instead_of_failing(client: Client, agent: User) -> None:
    client.force_login(agent)
    assert client.get("/cases/", {"q": "x" * 50_001}).status_code == 200
    assert client.get("/cases/", {"tag": "a,b"}).status_code == 200


def test_a_huge_page_number_is_a_422(api: Any) -> None:
    _assert_field_error(api.get("/api/v1/cases", page=200000000000000000), "page")


@pytest.mark.parametrize("value", ["inf", "1e308", "nan"])
def test_an_infinite_ack_at_in_the_preview_is_a_422(api: Any, lead: User, client: Client, value: str) -> None:
    from sirene.escalation import services

    policy = services.create_policy("Standard")
    _assert_field_error(api.get(f"/api/v1/escalation/policies/{policy.pk}/preview", ack_at=value), "ack_at")
    client.force_login(lead)
    page = client.get(f"/escalation/policies/{policy.pk}/", {"ack_at": value})
    assert page.status_code == 200  # the page shows the error next to the form


def test_nan_and_infinity_in_a_json_body_are_a_400(api: Any) -> None:
    response = api.post("/api/v1/cases", raw='{"source": "p", "external_id": "1", "subject": NaN, "customer": {}}')
    assert response.status_code == 400 and not Case.objects.exists()


# --- §2c: smaller contract issues ----------------------------------------------------------------------


def test_an_overlong_body_names_the_field_body(api: Any) -> None:
    _assert_field_error(api.post("/api/v1/cases", _case_body(body="x" * 200_001)), "body")


def test_tags_are_at_most_64_characters_and_contain_no_comma(api: Any) -> None:
    _assert_field_error(api.post("/api/v1/cases", _case_body(tags=["x" * 500_000])), "tags.0")
    _assert_field_error(api.post("/api/v1/cases", _case_body(tags=["ok", "a,b"])), "tags.1")
    _assert_field_error(api.get("/api/v1/cases", tag="a,b"), "tag")
    assert not Case.objects.exists()


def test_a_report_with_neither_subject_nor_body_is_refused(api: Any) -> None:
    _assert_field_error(api.post("/api/v1/cases", _case_body(subject="  ", body="")), "subject")
    assert _counts() == (0, 0, 0, 0)


@pytest.mark.parametrize("email", ["jürgen@example.de", "info@bücher.example", "JÜRGEN@XN--BCHER-KVA.EXAMPLE"])
def test_internationalised_email_addresses_are_accepted(api: Any, email: str) -> None:
    response = api.post("/api/v1/cases", _case_body(customer={"email": email}))
    assert response.status_code == 201, response.content
    assert Customer.objects.get().email == email.lower().replace("xn--bcher-kva", "bücher")


def test_an_invalid_email_is_still_refused(api: Any) -> None:
    _assert_field_error(api.post("/api/v1/cases", _case_body(customer={"email": "jürgen@@example"})), "customer.email")


def test_the_web_form_accepts_an_umlaut_address(client: Client, agent: User) -> None:
    client.force_login(agent)
    response = client.post("/cases/new/", {"email": "jürgen@example.de", "subject": "Login", "body": "geht nicht"})
    assert response.status_code == 302
    assert Customer.objects.get().email == "jürgen@example.de"


def test_customer_attributes_are_bounded(api: Any) -> None:
    body = _case_body(customer={"email": "a@example.com", "attributes": {"blob": "x" * 900_000}})
    _assert_field_error(api.post("/api/v1/cases", body), "customer.attributes")


def test_an_unknown_time_zone_is_refused(client: Client, lead_token: str) -> None:
    body = {"name": "Mars", "time_zone": "Mars/Olympus"}
    _assert_field_error(_send(client, "POST", "/api/v1/escalation/people", lead_token, body), "time_zone")
    assert not Person.objects.exists()


# --- §3: authorization ---------------------------------------------------------------------------------


def test_a_post_without_or_with_a_wrong_token_is_401_not_a_csrf_403(client: Client) -> None:
    headers: dict[str, str]
    for headers in ({}, {"Authorization": "Bearer srn_nope"}):
        response = client.post(
            "/api/v1/cases", json.dumps(_case_body()), content_type="application/json", headers=headers
        )
        assert response.status_code == 401 and response.json()["field"] == ""
    assert not Case.objects.exists()


def test_the_session_still_needs_the_csrf_header_on_the_api(agent: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    response = client.post("/api/v1/cases", json.dumps(_case_body()), content_type="application/json")
    assert response.status_code == 403 and not Case.objects.exists()


def test_a_wrong_token_next_to_a_valid_session_is_still_401(agent: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    assert client.get("/api/v1/cases", HTTP_AUTHORIZATION="Bearer srn_nope").status_code == 401
    assert client.get("/api/v1/cases").status_code == 200


@pytest.mark.parametrize("target", ["https://evil.example/phish", "//evil.example/x", "https:evil.example"])
def test_no_open_redirect_on_reminder_dismiss_or_task_done(client: Client, agent: User, target: str) -> None:
    import datetime as dt

    from sirene.cases import services as cases
    from sirene.core import clock
    from sirene.troubleshooting import services as workspace
    from sirene.troubleshooting.models import Reminder

    result = cases.intake(
        cases.IntakeData(source="p", external_id="1", subject="Login", body="", customer=cases.CustomerData("a@x.de"))
    )
    assert result.case is not None
    follow_up = workspace.schedule_follow_up(result.case, clock.now() + dt.timedelta(days=1), actor=agent)
    reminder = Reminder.objects.create(user=agent, case=result.case, follow_up=follow_up, text="x")
    client.force_login(agent)
    response = client.post(f"/troubleshooting/reminders/{reminder.pk}/dismiss/", {"next": target})
    assert response.status_code == 302 and response["Location"] == "/troubleshooting/my-cases/"
    ok = Reminder.objects.create(user=agent, case=result.case, follow_up=follow_up, text="y")
    response = client.post(f"/troubleshooting/reminders/{ok.pk}/dismiss/", {"next": "/cases/"})
    assert response["Location"] == "/cases/"


def test_login_is_throttled_with_a_german_message(client: Client, agent: User) -> None:
    for _ in range(4):
        assert client.post("/login/", {"username": "anna", "password": "wrong"}).status_code == 200
    assert client.post("/login/", {"username": "Anna ", "password": "wrong"}).status_code == 429  # the 5th
    blocked = client.post("/login/", {"username": "anna", "password": "agent-pass-123"}, HTTP_ACCEPT_LANGUAGE="de")
    assert blocked.status_code == 429 and int(blocked["Retry-After"]) > 0
    assert "Zu viele fehlgeschlagene Anmeldeversuche" in blocked.content.decode()
    assert "_auth_user_id" not in client.session
    # Only that (user name, address) pair: the same user from another address still logs in.
    other = client.post("/login/", {"username": "anna", "password": "agent-pass-123"}, REMOTE_ADDR="198.51.100.9")
    assert other.status_code == 302


def test_a_successful_login_clears_the_failures(client: Client, agent: User) -> None:
    for _ in range(4):
        client.post("/login/", {"username": "anna", "password": "wrong"})
    assert client.post("/login/", {"username": "anna", "password": "agent-pass-123"}).status_code == 302
    client.logout()
    for _ in range(4):
        client.post("/login/", {"username": "anna", "password": "wrong"})
    assert client.post("/login/", {"username": "anna", "password": "agent-pass-123"}).status_code == 302


# --- §4: KB article links -----------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["javascript:alert(document.domain)", "data:text/html,<script>x</script>", "JaVaScRiPt:x"])
def test_kb_article_links_must_be_http_or_https(api: Any, url: str) -> None:
    body = {"title": "t", "articles": [{"url": url, "title": "Hilfe"}]}
    _assert_field_error(api.post("/api/v1/knowledge/problems", body), "articles.0.url")
    ok = api.post("/api/v1/knowledge/problems", {"title": "t", "articles": [{"url": "https://hilfe.example/a"}]})
    assert ok.status_code == 201


# --- §6/§7: secrets, deployment, headers ----------------------------------------------------------------


def test_the_groove_secret_never_reaches_the_log(client: Client, settings: Any, caplog: Any) -> None:
    secret = "groove-secret-0123456789abcdef0123456789abcdef"
    settings.GROOVE_WEBHOOK_SECRET = secret
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get(f"/hooks/groove/{secret}").status_code == 405
        assert client.post(f"/hooks/groove/{secret}", b"\x00\xffnot json", content_type="application/json").status_code == 400
    assert caplog.records and all(secret not in r.getMessage() for r in caplog.records)
    assert any("/hooks/groove/***" in r.getMessage() for r in caplog.records)


def test_the_built_in_secret_key_is_reported_by_check_deploy_and_refused_off_loopback(settings: Any) -> None:
    from django.core.checks import run_checks

    from sirene.core.deploy import refuse_dev_key
    from sirene.core.env import DEV_SECRET_KEY

    settings.SECRET_KEY = DEV_SECRET_KEY
    settings.DEBUG = False
    assert "sirene.W001" in {m.id for m in run_checks(include_deployment_checks=True)}
    with pytest.raises(CommandError, match="SIRENE_SECRET_KEY"):
        refuse_dev_key("0.0.0.0")
    with pytest.raises(CommandError):
        call_command("serve", "--host", "0.0.0.0", "--port", "1")
    refuse_dev_key("127.0.0.1")  # a local demo is fine
    refuse_dev_key("[::1]")
    settings.SECRET_KEY = "a-real-key-" + "x" * 50
    assert "sirene.W001" not in {m.id for m in run_checks(include_deployment_checks=True)}
    refuse_dev_key("0.0.0.0")


def test_pages_send_a_content_security_policy_and_hsts_is_configurable(client: Client, settings: Any) -> None:
    response = client.get("/login/")
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in response
    settings.SECURE_HSTS_SECONDS = 31536000
    secure = Client().get("/login/", secure=True)  # a new client: SecurityMiddleware reads settings once
    assert secure["Strict-Transport-Security"].startswith("max-age=31536000")
    settings.CSP = "off"
    assert "Content-Security-Policy" not in client.get("/login/")


def test_the_api_docs_load_swagger_from_our_own_static_files(client: Client) -> None:
    html = client.get("/api/v1/docs").content.decode()
    assert "cdn.jsdelivr.net" not in html and "/static/ninja/swagger-ui-bundle.js" in html
    asset = client.get("/static/ninja/swagger-ui-bundle.js")
    assert asset.status_code == 200


def test_an_unexpected_api_exception_answers_json_500() -> None:
    from sirene.core.middleware import ApiEdgeMiddleware

    middleware = ApiEdgeMiddleware(lambda request: None)  # type: ignore[arg-type,return-value]
    response = middleware.process_exception(RequestFactory().get("/api/v1/cases"), RuntimeError("boom"))
    assert response is not None and response.status_code == 500
    assert json.loads(response.content) == {"error": "internal server error", "field": ""}
    assert middleware.process_exception(RequestFactory().get("/cases/"), RuntimeError("boom")) is None
