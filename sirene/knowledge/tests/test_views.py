"""The knowledge UI: list/search, create/edit, import/export, and the case-page panel."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from sirene.flows import cases as case_flows
from sirene.knowledge.models import KnownProblem, Phrasing, Suggestion
from sirene.knowledge.tests.conftest import report

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client: Any, agent: Any) -> Any:
    client.force_login(agent)
    return client


def test_the_case_page_shows_suggestions_and_similar_cases(
    starter_kb: Any, logged_in: Any, agent: Any
) -> None:

    old = report(
        "1", "Video", "Das Video in Lektion 3 lädt nicht, nur schwarzer Bildschirm.", email="a@example.de"
    )
    case_flows.change_status(old, "solved", actor=agent, note="Werbeblocker war schuld.")
    new = report(
        "2", "Video", "Das Video in Lektion 4 lädt nicht, ich sehe nur Schwarz.", email="b@example.de"
    )
    page = logged_in.get(new.get_absolute_url()).content.decode()
    assert 'id="kb-panel"' in page
    assert "Video / Lektion lädt nicht oder bleibt schwarz" in page
    assert "Werbeblocker war schuld." in page
    assert f"#{old.pk}" in page


def test_confirming_on_the_case_page_teaches_the_kb(starter_kb: Any, logged_in: Any) -> None:
    case = report("1", "", "Die Untertitel werden bei den Lektionen nicht angezeigt")
    suggestion = Suggestion.objects.filter(case=case).first()
    assert suggestion is not None
    response = logged_in.post(f"/knowledge/suggestions/{suggestion.pk}/confirm/")
    assert response.status_code == 302 and response["Location"] == case.get_absolute_url()
    assert Phrasing.objects.filter(case=case, known_problem=suggestion.known_problem).exists()
    page = logged_in.get(case.get_absolute_url()).content.decode()
    assert 'data-state="confirmed"' in page


def test_the_case_page_says_why_there_is_no_suggestion(starter_kb: Any, logged_in: Any) -> None:
    case = report("1", "", "Viele Grüße\nAnna")
    page = logged_in.get(case.get_absolute_url()).content.decode()
    assert 'id="kb-no-suggestion"' in page


def test_the_list_searches_in_the_customers_words(starter_kb: Any, logged_in: Any) -> None:
    page = logged_in.get("/knowledge/", {"q": "Ich bekomme keinen Code per SMS"}).content.decode()
    results = page.split('id="kb-results"')[1].split("</div>")[0]
    assert results.index("Zwei-Faktor") < results.index("</li>")


def test_a_known_problem_is_created_and_edited_in_the_form(logged_in: Any) -> None:
    form = {
        "title": "Zertifikat fehlt",
        "title_en": "Certificate missing",
        "category": "content",
        "phrasings": "Wo ist mein Zertifikat?\nMy certificate is missing\n\n",
        "articles": "https://hilfe.example.de/zertifikat | Zertifikat herunterladen",
        "active": "on",
    }
    response = logged_in.post("/knowledge/new/", form)
    problem = KnownProblem.objects.get()
    assert response["Location"] == problem.get_absolute_url()
    assert problem.articles == [
        {"url": "https://hilfe.example.de/zertifikat", "title": "Zertifikat herunterladen"}
    ]
    assert [p.text for p in problem.phrasings.all()] == [
        "Wo ist mein Zertifikat?",
        "My certificate is missing",
    ]
    edit = logged_in.get(f"/knowledge/{problem.pk}/edit/").content.decode()
    assert "My certificate is missing" in edit
    logged_in.post(f"/knowledge/{problem.pk}/edit/", {**form, "phrasings": "Wo ist mein Zertifikat?"})
    assert [p.text for p in problem.phrasings.all()] == ["Wo ist mein Zertifikat?"]


def test_the_form_shows_errors_and_saves_nothing(logged_in: Any) -> None:
    response = logged_in.post("/knowledge/new/", {"title": "", "category": "content"})
    assert response.status_code == 200
    assert not KnownProblem.objects.exists()


def test_import_and_export_in_the_ui(starter_kb: Any, logged_in: Any) -> None:
    exported = logged_in.get("/knowledge/export/", {"format": "json"})
    assert exported["Content-Disposition"].endswith('known_problems.json"')
    KnownProblem.objects.all().delete()
    upload = SimpleUploadedFile("kb.json", exported.content, content_type="application/json")
    response = logged_in.post("/knowledge/import/", {"file": upload})
    assert response.status_code == 302
    assert KnownProblem.objects.count() >= 12
    bad = SimpleUploadedFile("kb.yaml", b"known_problems: [{category: login}]")
    page = logged_in.post("/knowledge/import/", {"file": bad}, follow=True).content.decode()
    assert "known_problems.0.title" in page


def test_only_leads_delete_known_problems(starter_kb: Any, logged_in: Any, client: Any, lead: Any) -> None:
    problem = KnownProblem.objects.first()
    assert problem is not None
    logged_in.post(f"/knowledge/{problem.pk}/delete/")
    assert KnownProblem.objects.filter(pk=problem.pk).exists()
    client.force_login(lead)
    client.post(f"/knowledge/{problem.pk}/delete/")
    assert not KnownProblem.objects.filter(pk=problem.pk).exists()
