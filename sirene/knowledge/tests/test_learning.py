"""Suggestions at intake and the knowledge base learning from confirmations."""

from __future__ import annotations

from typing import Any

import pytest

from sirene.cases.models import Case, CaseEvent
from sirene.knowledge import matching, services
from sirene.knowledge.models import (
    CaseMatch,
    KnownProblem,
    MatchOutcome,
    Phrasing,
    Suggestion,
    SuggestionState,
)
from sirene.knowledge.tests.conftest import report
from sirene.similarity import clean_text

pytestmark = pytest.mark.django_db


def _confidence_for(text: str, problem: KnownProblem) -> float:
    ranking = matching.rank(clean_text(text), k=20)
    return next((conf for pk, conf, _sim in ranking.items if pk == problem.pk), 0.0)


def test_a_new_case_gets_the_matching_known_problem_first_with_a_confidence(starter_kb: Any) -> None:
    case = report(
        "1", "Passwort vergessen", "Ich komme nicht mehr in mein Konto, das Passwort wird nicht akzeptiert."
    )
    suggestions = services.suggestions_for(case)
    assert suggestions, services.match_reason(case)
    first = suggestions[0]
    assert KnownProblem.objects.get(pk=first["known_problem_id"]).key == "login-password-reset"
    assert 0.5 < first["confidence"] <= 1.0
    assert len(suggestions) <= 3
    assert [s["confidence"] for s in suggestions] == sorted(
        (s["confidence"] for s in suggestions), reverse=True
    )


def test_an_english_report_matches_the_german_known_problem(starter_kb: Any) -> None:
    case = report("1", "Error", "When I open my course I only get a 502 Bad Gateway error page.")
    first = services.suggestions_for(case)[0]
    assert KnownProblem.objects.get(pk=first["known_problem_id"]).key == "bad-gateway-502"


def test_an_unrelated_text_gets_no_suggestion_and_says_why(starter_kb: Any) -> None:
    case = report("1", "Frage", "Hallo, wie wird das Wetter am Wochenende in Hamburg?")
    assert services.suggestions_for(case) == []
    reason = services.match_reason(case)
    assert reason["outcome"] == MatchOutcome.NOT_CLOSE_ENOUGH
    assert reason["reason"]


def test_confirming_teaches_the_kb_so_the_next_similar_case_ranks_it_higher(
    starter_kb: Any, agent: Any
) -> None:
    video = KnownProblem.objects.get(key="video-not-loading")
    follow_up = "Untertitel fehlen bei den Videos"
    before = _confidence_for(follow_up, video)

    first = report("1", "", "Die Untertitel werden bei den Lektionen nicht angezeigt")
    suggestion = Suggestion.objects.get(case=first, known_problem=video)
    services.confirm_suggestion(suggestion, actor=agent)

    learnt = Phrasing.objects.get(known_problem=video, source=Phrasing.Source.CONFIRMED)
    assert learnt.case == first
    assert learnt.text == first.clean_text
    second = report("2", "", follow_up, email="zweite@example.de")
    top = services.suggestions_for(second)[0]
    assert top["known_problem_id"] == video.pk
    assert top["confidence"] > before + 0.2


def test_confirming_sets_the_category_of_an_uncategorised_case_and_records_it(
    starter_kb: Any, agent: Any
) -> None:
    case = report("1", "", "Die Untertitel werden bei den Lektionen nicht angezeigt", category="other")
    assert case.category == "other"
    suggestion = Suggestion.objects.get(case=case, known_problem__key="video-not-loading")
    services.confirm_suggestion(suggestion, actor=agent)
    case.refresh_from_db()
    assert case.category == "content"
    assert case.events.filter(kind=CaseEvent.Kind.SYSTEM, message__contains="confirmed").exists()


def test_confirming_twice_learns_once(starter_kb: Any, agent: Any) -> None:
    case = report("1", "Login", "Ich kann mich seit heute nicht mehr anmelden, Passwort falsch")
    suggestion = Suggestion.objects.filter(case=case).first()
    assert suggestion is not None
    services.confirm_suggestion(suggestion, actor=agent)
    services.confirm_suggestion(suggestion, actor=agent)
    assert Phrasing.objects.filter(case=case).count() == 1


def test_rejecting_after_a_confirmation_takes_the_learnt_phrasing_back(starter_kb: Any, agent: Any) -> None:
    case = report("1", "Login", "Ich kann mich seit heute nicht mehr anmelden, Passwort falsch")
    suggestion = Suggestion.objects.filter(case=case).first()
    assert suggestion is not None
    token = matching.current_token()
    services.confirm_suggestion(suggestion, actor=agent)
    assert matching.current_token() != token
    services.reject_suggestion(suggestion, actor=agent)
    suggestion.refresh_from_db()
    assert suggestion.state == SuggestionState.REJECTED
    assert not Phrasing.objects.filter(case=case).exists()
    assert matching.current_token() == token


def test_recomputing_keeps_decisions_and_picks_up_a_new_known_problem(starter_kb: Any, agent: Any) -> None:
    case = report("1", "Hörbuch", "Das Hörbuch-Kapitel lässt sich in der App nicht abspielen, es knackt nur")
    for s in Suggestion.objects.filter(case=case):
        services.reject_suggestion(s, actor=agent)
    rejected = set(Suggestion.objects.filter(case=case).values_list("pk", flat=True))
    problem = services.create_known_problem(
        services.ProblemData(
            title="Hörbuch spielt nicht ab",
            category="content",
            phrasings=[
                "Das Hörbuch spielt nicht ab",
                "Audio knackt im Hörbuch",
                "Audiobook chapter won't play",
            ],
        )
    )
    assert services.match_reason(case)["stale"] is True
    services.compute_suggestions(case)
    rows = Suggestion.objects.filter(case=case)
    assert rows.filter(known_problem=problem, state=SuggestionState.SUGGESTED).exists()
    assert all(r.state == SuggestionState.REJECTED for r in rows if r.pk in rejected)
    assert services.match_reason(case)["stale"] is False


def test_an_empty_knowledge_base_gives_no_suggestion_with_that_reason(db: Any) -> None:
    case = report("1", "Login", "Ich kann mich nicht einloggen")
    assert services.suggestions_for(case) == []
    assert services.match_reason(case)["outcome"] == MatchOutcome.NO_KNOWN_PROBLEMS


def test_an_inactive_known_problem_is_never_suggested(starter_kb: Any) -> None:
    problem = KnownProblem.objects.get(key="bad-gateway-502")
    data = services.ProblemData(
        title=problem.title,
        category=problem.category,
        phrasings=[p.text for p in problem.phrasings.all()],
        active=False,
    )
    services.update_known_problem(problem, data)
    case = report("1", "502", "Members area shows 502 Bad Gateway")
    assert problem.pk not in [s["known_problem_id"] for s in services.suggestions_for(case)]


def test_a_documented_case_becomes_a_known_problem_that_matches_the_next_report(
    starter_kb: Any, agent: Any
) -> None:
    problem = services.create_from_documentation(
        title="Kalender-Export schlägt fehl",
        category="app_error",
        symptoms="Export in den Kalender bricht ab",
        solution_steps="1. App aktualisieren\n2. Kalenderzugriff erlauben",
        example_phrasing="Hallo,\n\nder Export meiner Kurstermine in den Kalender bricht immer ab.\n\nViele Grüße\nAnna",
        created_by=agent,
    )
    assert problem.created_by == agent
    assert problem.phrasings.get().text == "der Export meiner Kurstermine in den Kalender bricht immer ab."
    case = report("1", "Kalender", "Kurstermine lassen sich nicht in meinen Kalender exportieren")
    assert services.suggestions_for(case)[0]["known_problem_id"] == problem.pk
    assert Case.objects.count() == 1


def test_a_known_problem_added_by_an_agent_is_matched_by_the_very_next_report(db: Any) -> None:
    """The fitted matcher is cached per process: the KB's change token makes the next match refit."""
    first = report("1", "Hörbuch", "Das Hörbuch-Kapitel lässt sich in der App nicht abspielen")
    assert services.match_reason(first)["outcome"] == MatchOutcome.NO_KNOWN_PROBLEMS
    problem = services.create_known_problem(
        services.ProblemData(
            title="Hörbuch spielt nicht ab",
            category="content",
            phrasings=["Das Hörbuch spielt nicht ab", "Hörbuch-Kapitel lässt sich nicht abspielen"],
        )
    )
    second = report("2", "Hörbuch", "Das Hörbuch-Kapitel lässt sich in der App nicht abspielen")
    assert [s["known_problem_id"] for s in services.suggestions_for(second)][:1] == [problem.pk]


def test_the_intake_steers_grouping_by_the_suggestions_it_just_stored(starter_kb: Any, agent: Any) -> None:
    """`match` derives the confident key from the rows it wrote; it is what a fresh read says."""
    case = report("1", "Passwort vergessen", "Ich komme nicht mehr in mein Konto, das Passwort geht nicht.")
    assert services.match(case).confident_key == services.confident_known_problem(case)
    suggestion = Suggestion.objects.filter(case=case).order_by("rank").last()
    assert suggestion is not None
    services.confirm_suggestion(suggestion, actor=agent)
    matched = services.match(case)  # recomputed: the agent's confirmation is kept and steers
    assert matched.confident_key == services.confident_known_problem(case) == str(suggestion.known_problem_id)
    assert CaseMatch.objects.filter(case=case).count() == 1  # upserted, not added


def test_an_unrelated_knowledge_edit_does_not_mark_every_case_changed(starter_kb: Any, agent: Any) -> None:
    """The walkthrough saw "Die Wissensdatenbank hat sich … geändert" on every case after any KB edit."""
    case = report("1", "Login", "Ich kann mich nicht einloggen, es heißt immer Passwort falsch.")
    before = list(Suggestion.objects.filter(case=case).order_by("rank").values_list("known_problem_id", flat=True))
    services.create_known_problem(
        services.ProblemData(
            title="Gutschein-PDF ist leer",
            category="checkout",
            phrasings=["Der Gutschein als PDF ist leer", "Gift voucher PDF is blank", "Gutschein-PDF ohne Inhalt"],
        )
    )
    assert services.match_reason(case)["stale"] is False
    assert list(
        Suggestion.objects.filter(case=case).order_by("rank").values_list("known_problem_id", flat=True)
    ) == before
