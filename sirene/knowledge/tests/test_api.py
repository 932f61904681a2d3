"""API fields: suggestions and similar cases on GET /cases/{id}, decisions, search, article views."""

from __future__ import annotations

from typing import Any

import pytest

from sirene.cases.models import Customer
from sirene.flows import cases as case_flows
from sirene.knowledge.models import ArticleView, KnownProblem, Phrasing
from sirene.knowledge.tests.conftest import report

pytestmark = pytest.mark.django_db

SUGGESTION_FIELDS = {
    "known_problem_id",
    "title",
    "title_en",
    "category",
    "confidence",
    "solution_steps",
    "customer_hints",
    "articles",
    "articles_already_read",
    "state",
}
SIMILAR_FIELDS = {"case_id", "subject", "similarity", "status", "solution", "solved_at", "url"}


def test_the_case_api_carries_suggestions_and_similar_solved_cases_with_all_fields(
    starter_kb: Any, api: Any, agent: Any
) -> None:
    old = report(
        "1", "Video", "Das Video in Lektion 3 lädt nicht, nur schwarzer Bildschirm.", email="a@example.de"
    )
    case_flows.change_status(old, "solved", actor=agent, note="Adblocker deaktiviert, danach lief das Video.")
    new = report(
        "2", "Video", "Das Video in Lektion 4 lädt nicht, ich sehe nur Schwarz.", email="b@example.de"
    )

    body = api.get(f"/api/v1/cases/{new.pk}").json()
    assert body["suggestions"]
    assert SUGGESTION_FIELDS <= set(body["suggestions"][0])
    assert body["suggestions"][0]["title_en"] == "Video / lesson does not load or stays black"
    assert body["suggestions"][0]["state"] == "suggested"
    similar = body["similar_cases"]
    assert [s["case_id"] for s in similar] == [old.pk]
    assert SIMILAR_FIELDS <= set(similar[0])
    assert similar[0]["status"] == "solved"
    assert "Adblocker" in similar[0]["solution"]
    assert similar[0]["solved_at"] is not None
    assert 0.5 <= similar[0]["similarity"] <= 1.0


def test_a_solved_case_with_a_solution_is_preferred_over_an_equally_close_open_one(
    starter_kb: Any, agent: Any
) -> None:
    from sirene.knowledge import services

    solved = report("1", "", "Die App stürzt beim Öffnen sofort ab.", email="a@example.de")
    case_flows.change_status(solved, "solved", actor=agent, note="Neuinstallation half.")
    open_one = report("2", "", "Die App stürzt beim Öffnen sofort ab!", email="b@example.de")
    new = report("3", "", "Die App stürzt beim Öffnen sofort ab", email="c@example.de")
    ids = [s["case_id"] for s in services.similar_cases_for(new)]
    assert ids[0] == solved.pk
    assert open_one.pk in ids and new.pk not in ids


def test_suggestions_never_propose_an_article_the_customer_already_read(starter_kb: Any, api: Any) -> None:
    case = report("1", "Login", "Ich habe mein Passwort vergessen und komme nicht mehr rein.")
    url = f"/api/v1/customers/{case.customer_id}/article-views"
    response = api.post(
        url, {"article": "hilfe.example.de/artikel/passwort-zuruecksetzen/", "title": "Passwort"}
    )
    assert response.status_code == 201, response.content

    first = api.get(f"/api/v1/cases/{case.pk}").json()["suggestions"][0]
    assert first["title"].startswith("Login")
    assert first["articles"] == []
    assert [a["url"] for a in first["articles_already_read"]] == [
        "https://hilfe.example.de/artikel/passwort-zuruecksetzen"
    ]
    assert first["articles_already_read"][0]["viewed_at"]


def test_confirm_and_reject_by_api(starter_kb: Any, api: Any) -> None:
    case = report("1", "", "Die Untertitel werden bei den Lektionen nicht angezeigt", category="other")
    suggestion = api.get(f"/api/v1/knowledge/cases/{case.pk}").json()["suggestions"][0]
    response = api.post(f"/api/v1/knowledge/suggestions/{suggestion['id']}/confirm")
    assert response.status_code == 200, response.content
    assert response.json()["suggestion"]["state"] == "confirmed"
    assert (
        response.json()["case_category"]
        == KnownProblem.objects.get(pk=suggestion["known_problem_id"]).category
    )
    assert Phrasing.objects.filter(case=case, source="confirmed").count() == 1

    response = api.post(f"/api/v1/knowledge/suggestions/{suggestion['id']}/reject")
    assert response.json()["suggestion"]["state"] == "rejected"
    assert not Phrasing.objects.filter(case=case).exists()
    assert api.post("/api/v1/knowledge/suggestions/999999/confirm").status_code == 404


def test_the_knowledge_endpoint_of_a_case_explains_a_missing_suggestion(starter_kb: Any, api: Any) -> None:
    case = report("1", "", "Viele Grüße\nAnna")
    body = api.get(f"/api/v1/knowledge/cases/{case.pk}").json()
    assert body["suggestions"] == []
    assert body["match"]["outcome"] == "empty_text"
    assert body["match"]["reason"]


def test_search_ranks_by_meaning_and_by_words(starter_kb: Any, api: Any) -> None:
    body = api.get("/api/v1/knowledge/search", q="Gutschein wird nicht angenommen").json()
    assert body["results"][0]["title"].startswith("Gutschein")
    english = api.get("/api/v1/knowledge/search", q="my card payment was declined").json()
    assert english["results"][0]["title"].startswith("Zahlung")
    word = api.get("/api/v1/knowledge/search", q="Bad Gateway").json()
    assert word["results"][0]["title"].startswith("Fehler 502")
    assert "lexical" in word["results"][0]["matched_by"]


@pytest.mark.parametrize(("params", "field"), [({"q": ""}, "q"), ({"q": "x", "limit": 0}, "limit")])
def test_search_refuses_bad_parameters_naming_them(api: Any, params: dict[str, Any], field: str) -> None:
    response = api.get("/api/v1/knowledge/search", **params)
    assert response.status_code == 422
    assert response.json()["error"].startswith(f"{field}:")


def test_article_views_are_idempotent_on_article_and_time_and_listed_newest_first(api: Any) -> None:
    customer = Customer.objects.create(email="kunde@example.de")
    url = f"/api/v1/customers/{customer.pk}/article-views"
    first = api.post(
        url, {"article": "https://hilfe.example.de/a/1", "viewed_at": "2024-05-01T10:00:00+02:00"}
    )
    again = api.post(
        url, {"article": "https://hilfe.example.de/a/1", "viewed_at": "2024-05-01T10:00:00+02:00"}
    )
    later = api.post(
        url, {"article": "42", "title": "Cache leeren", "viewed_at": "2024-05-02T09:00:00+02:00"}
    )
    assert (first.status_code, again.status_code, later.status_code) == (201, 200, 201)
    assert again.json()["id"] == first.json()["id"]
    assert ArticleView.objects.count() == 2
    items = api.get(url).json()["items"]
    assert [i["article"] for i in items] == ["42", "https://hilfe.example.de/a/1"]
    assert items[0]["title"] == "Cache leeren"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"article": ""}, 422, "article"),
        ({"title": "no article"}, 422, "article"),
        ({"article": "x", "viewed_at": "gestern"}, 422, "viewed_at"),
        ({"article": "x" * 501}, 422, "article"),
    ],
)
def test_bad_article_views_are_refused_naming_the_field(
    api: Any, body: dict[str, Any], status: int, field: str
) -> None:
    customer = Customer.objects.create(email="kunde@example.de")
    response = api.post(f"/api/v1/customers/{customer.pk}/article-views", body)
    assert response.status_code == status
    assert response.json()["error"].startswith(f"{field}:")
    assert not ArticleView.objects.exists()


def test_article_views_of_an_unknown_customer_are_404(api: Any) -> None:
    assert api.post("/api/v1/customers/999/article-views", {"article": "x"}).status_code == 404
    assert api.get("/api/v1/customers/999/article-views").status_code == 404


def test_malformed_json_is_a_clear_400(api: Any) -> None:
    customer = Customer.objects.create(email="kunde@example.de")
    response = api.post(f"/api/v1/customers/{customer.pk}/article-views", raw=b"{not json")
    assert response.status_code == 400
    assert "malformed JSON" in response.json()["error"]


def test_known_problems_can_be_created_and_replaced_by_api(api: Any) -> None:
    created = api.post(
        "/api/v1/knowledge/problems",
        {"title": "Zertifikat fehlt", "category": "content", "phrasings": ["Wo ist mein Zertifikat?"]},
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["key"] == "zertifikat-fehlt"
    replaced = api.client.put(
        f"/api/v1/knowledge/problems/{pk}",
        '{"title": "Zertifikat fehlt", "category": "nope"}',
        content_type="application/json",
        headers=api.headers,
    )
    assert replaced.status_code == 422
    assert replaced.json()["error"].startswith("category:")
    assert (
        api.get(f"/api/v1/knowledge/problems/{pk}").json()["phrasings"][0]["text"]
        == "Wo ist mein Zertifikat?"
    )


def test_similar_cases_follow_new_and_deleted_cases(starter_kb: Any) -> None:
    from sirene.knowledge import services

    first = report("1", "", "Die App stürzt beim Öffnen sofort ab.", email="a@example.de")
    assert services.similar_cases_for(first) == []
    second = report("2", "", "Die App stürzt beim Öffnen sofort ab!", email="b@example.de")
    assert [s["case_id"] for s in services.similar_cases_for(first)] == [second.pk]
    second.delete()
    assert services.similar_cases_for(first) == []
    third = report("3", "", "Die App stürzt direkt beim Öffnen ab.", email="c@example.de")
    assert [s["case_id"] for s in services.similar_cases_for(first)] == [third.pk]


@pytest.mark.parametrize(
    ("article", "title"),
    [
        ("https://www.hilfe.example.de/artikel/passwort-zuruecksetzen?utm=x", ""),
        ("Passwort zurücksetzen", ""),
        ("kb-1234", "Passwort zurücksetzen"),
    ],
    ids=["url-variant", "title-as-article", "title-field"],
)
def test_an_article_read_is_recognised_by_url_or_title(starter_kb: Any, article: str, title: str) -> None:
    from sirene.knowledge import services

    case = report("1", "Login", "Ich habe mein Passwort vergessen und komme nicht mehr rein.")
    services.record_article_view(case.customer, article, title=title)
    first = services.suggestions_for(case)[0]
    assert first["articles"] == []
    assert len(first["articles_already_read"]) == 1


def test_an_unrelated_article_read_does_not_hide_the_suggested_one(starter_kb: Any) -> None:
    from sirene.knowledge import services

    case = report("1", "Login", "Ich habe mein Passwort vergessen und komme nicht mehr rein.")
    services.record_article_view(case.customer, "https://hilfe.example.de/artikel/video-laedt-nicht")
    first = services.suggestions_for(case)[0]
    assert [a["title"] for a in first["articles"]] == ["Passwort zurücksetzen"]
    assert first["articles_already_read"] == []
