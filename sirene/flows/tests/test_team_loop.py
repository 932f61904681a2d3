"""The team in the loop (issue 18): "Gleiches Problem wie …?" yes/no, the near miss's one-click
split, "Störung eröffnen" by hand, and the count. Real intake API, real encoder, real detector;
German examples written for these tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sirene.cases.models import Case
from sirene.escalation.messages import siren_text
from sirene.escalation.models import Run as EscalationRun
from sirene.flows import team_loop as flows
from sirene.incidents import services, team_loop
from sirene.incidents.models import GroupMembership, Incident, IncidentEvent, ProblemGroup, SameProblemAnswer

# One problem: meditations do not play in the app any more, five customers, similar words.
BURST = [
    ("Meditationen spielen nicht ab", "Seit dem Update kann ich in der App keine Meditation mehr abspielen, der Kreis dreht sich nur."),
    ("Audio lädt nicht", "Die Meditationen in der App laden nicht mehr, es kommt Wiedergabe nicht möglich."),
    ("Meditation startet nicht", "Ich tippe auf Play bei der Meditation und nichts passiert, die Wiedergabe startet nicht."),
    ("Wiedergabe-Fehler", "Keine Meditation lässt sich in der App mehr abspielen, Fehler bei der Wiedergabe."),
    ("Play geht nicht", "Meditationen spielen in der App nicht mehr ab, der Play-Knopf dreht sich endlos."),
]
# The same problem in other words: no "Meditation", no "Wiedergabe" (the late 6th customer).
SIXTH = ("Sessions stumm", "Die geführten Sessions sind stumm, der Fortschrittsbalken bewegt sich nicht.")
ELSEWHERE = ("Rechnung", "Ich brauche bitte eine Rechnung für meine letzte Zahlung.")


@pytest.fixture
def send(api: Any) -> Callable[..., int]:
    counter = {"n": 0}

    def post(subject: str, body: str, email: str) -> int:
        counter["n"] += 1
        payload = {
            "source": "test",
            "external_id": f"loop-{counter['n']}",
            "subject": subject,
            "body": body,
            "customer": {"email": email},
            "tags": ["technik"],
        }
        response = api.post("/api/v1/cases", payload)
        assert response.status_code in (200, 201), response.content
        return int(response.json()["id"])

    return post


def _five(send: Callable[..., int]) -> list[int]:
    ids = [send(s, b, f"kundin{i}@gmx.de") for i, (s, b) in enumerate(BURST)]
    assert Incident.objects.count() == 0, "five customers are not an incident"
    return ids


def test_an_agents_yes_counts_the_sixth_customer(send: Callable[..., int], agent: Any) -> None:
    ids = _five(send)
    sixth = send(*SIXTH, "sechste@web.de")
    assert Incident.objects.count() == 0, "worded differently, the detector does not count the 6th"
    case = Case.objects.get(pk=sixth)
    likely = team_loop.likely_problem(case)
    assert likely is not None and likely.group is not None and likely.incident is None
    assert likely.nearest in ids and likely.customers == 5

    answer = flows.answer_same_problem(case, same=True, group=likely.group, user=agent)

    incident = Incident.objects.get()
    assert sorted(incident.cases.values_list("pk", flat=True)) == sorted([*ids, sixth])
    assert incident.customers_affected == 6
    assert EscalationRun.objects.filter(incident=incident).count() == 1, "the incident pages like any other"
    assert answer.answer == "yes" and answer.user == agent and answer.incident == incident
    assert sorted(answer.case_ids) == sorted(ids)
    assert team_loop.answer_counts(incident).confirmed == 1
    # Detection now links the reports whatever their wording: they are one agent-made group.
    hows = set(GroupMembership.objects.filter(case_id__in=[*ids, sixth]).values_list("how", flat=True))
    assert hows <= {"moved", "merged", "detected"}
    # The same yes again (a double click) changes and counts nothing.
    assert flows.answer_same_problem(case, same=True, group=likely.group, user=agent) == answer
    assert SameProblemAnswer.objects.count() == 1 and Incident.objects.count() == 1
    # Asked again, the case has no question left (it is in the live incident).
    assert team_loop.likely_problem(Case.objects.get(pk=sixth)) is None


def test_without_the_yes_nothing_opens(send: Callable[..., int], agent: Any) -> None:
    _five(send)
    sixth = send(*SIXTH, "sechste@web.de")
    case = Case.objects.get(pk=sixth)
    likely = team_loop.likely_problem(case)
    assert likely is not None and likely.group is not None
    flows.answer_same_problem(case, same=False, group=likely.group, user=agent)
    assert Incident.objects.count() == 0
    answer = SameProblemAnswer.objects.get()
    assert answer.answer == "no" and answer.case_id == sixth
    # The report and the problem are now two agent-made groups: the window never links them.
    mine = GroupMembership.objects.get(case_id=sixth)
    theirs = GroupMembership.objects.filter(group=likely.group)
    assert mine.group_id != likely.group.pk and mine.how == "split"
    assert set(theirs.values_list("how", flat=True)) <= {"moved", "merged", "split"}
    # The question is answered: not asked again for that problem.
    assert team_loop.likely_problem(Case.objects.get(pk=sixth)) is None
    # (two agent-made groups: the window's pair score is -inf, see similarity.window.pair_score; the
    # behaviour with a 7th customer is the next test)


def test_a_new_report_still_joins_a_problem_the_team_separated_from(send: Callable[..., int], agent: Any) -> None:
    _five(send)
    sixth = send(*SIXTH, "sechste@web.de")
    case = Case.objects.get(pk=sixth)
    likely = team_loop.likely_problem(case)
    assert likely is not None and likely.group is not None
    flows.answer_same_problem(case, same=False, group=likely.group, user=agent)
    # A seventh customer worded like the burst still opens the incident, without the separated report.
    seventh = send("Meditation geht nicht", "Die Meditationen spielen in der App nicht mehr ab.", "sieben@web.de")
    incident = Incident.objects.get()
    assert seventh in set(incident.cases.values_list("pk", flat=True))
    assert sixth not in set(incident.cases.values_list("pk", flat=True))


def test_a_yes_to_a_live_incident_links_the_report(send: Callable[..., int], agent: Any) -> None:
    ids = [send(s, b, f"k{i}@gmx.de") for i, (s, b) in enumerate([*BURST, BURST[0]])]
    incident = Incident.objects.get()
    late = send(*SIXTH, "spaet@web.de")
    assert late not in set(incident.cases.values_list("pk", flat=True))
    likely = team_loop.likely_problem(Case.objects.get(pk=late))
    assert likely is not None and likely.incident == incident
    flows.answer_same_problem(Case.objects.get(pk=late), same=True, incident=incident, user=agent)
    incident.refresh_from_db()
    assert late in set(incident.cases.values_list("pk", flat=True))
    assert incident.customers_affected == len(ids) + 1
    assert Incident.objects.count() == 1
    assert team_loop.answer_counts(incident).confirmed == 1
    event = IncidentEvent.objects.get(incident=incident, kind="team_answer")
    assert event.data["answer"] == "yes" and event.data["case_id"] == late and event.actor == agent


def test_an_unrelated_report_has_no_question(send: Callable[..., int]) -> None:
    _five(send)
    other = send(*ELSEWHERE, "rechnung@web.de")
    assert team_loop.likely_problem(Case.objects.get(pk=other)) is None


def test_the_answer_refuses_a_missing_problem(send: Callable[..., int]) -> None:
    case = Case.objects.get(pk=send(*SIXTH, "x@web.de"))
    with pytest.raises(services.IncidentError) as exc:
        flows.answer_same_problem(case, same=True)
    assert exc.value.field == "group"
    assert SameProblemAnswer.objects.count() == 0


# --- "möglicherweise zwei Probleme" --------------------------------------------------------------


def _incident_of_two(send: Callable[..., int]) -> tuple[Incident, list[int], list[int]]:
    heart = [
        ("Herzfrequenz zeigt 0", "Die Uhr zeigt beim Training immer Herzfrequenz 0 an."),
        ("Puls fehlt", "Mein Puls wird in der App nur als 0 angezeigt."),
        ("Herzfrequenz", "Herzfrequenz bleibt bei 0 stehen, seit dem Update."),
        ("Pulsmessung kaputt", "Die Pulsmessung zeigt nur noch 0 Schläge."),
    ]
    sync = [
        ("Workouts fehlen", "Meine Workouts werden nicht in die App übertragen."),
        ("Keine Übertragung", "Trainings von der Uhr kommen nicht in der App an."),
        ("Sync geht nicht", "Die Workouts synchronisieren nicht mehr, Herzfrequenz geht aber."),
    ]
    a = [send(s, b, f"herz{i}@gmx.de") for i, (s, b) in enumerate(heart)]
    b = [send(s, b, f"sync{i}@gmx.de") for i, (s, b) in enumerate(sync)]
    cases = list(Case.objects.filter(pk__in=a + b))
    for c in cases:
        c.incidents.clear()
    group = ProblemGroup.objects.create(title="Uhr", category="app_error")
    GroupMembership.objects.filter(case__in=cases).update(group=group, how="detected")
    Incident.objects.all().delete()
    incident = services.open_incident(title="Uhr", category="app_error", origin="auto", cases=cases, group=group)
    return incident, a, b


def test_note_possible_split_stores_ids_and_renders_quotes(send: Callable[..., int]) -> None:
    incident, a, b = _incident_of_two(send)
    services.note_possible_split(incident, b, a)  # the smaller part first: stored larger first
    incident.refresh_from_db()
    assert incident.brief["possible_split"] == [{"case_ids": sorted(a)}, {"case_ids": sorted(b)}]
    parts = team_loop.split_parts(incident)
    assert [p.customers for p in parts] == [4, 3]
    assert all(0 < len(p.quote) <= team_loop.QUOTE_CHARS for p in parts)
    post = siren_text(incident, [])
    line = next(line for line in post.splitlines() if line.startswith("– möglicherweise zwei Probleme: „"))
    assert f"„{parts[0].quote}“ (4) / „{parts[1].quote}“ (3)" in line
    # The brief is rebuilt as cases arrive: the near miss stays with it.
    services.refresh_brief(incident)
    incident.refresh_from_db()
    assert incident.brief_data.possible_split[0].case_ids == sorted(a)
    # Once more with the same parts: nothing new in the timeline.
    services.note_possible_split(incident, a, b)
    assert IncidentEvent.objects.filter(incident=incident, kind="possible_split").count() == 1


def test_note_possible_split_refuses_bad_parts(send: Callable[..., int]) -> None:
    incident, a, b = _incident_of_two(send)
    stranger = send(*ELSEWHERE, "fremd@web.de")
    for part_a, part_b, field in (([], b, "part_a"), (a, [], "part_b"), (a, [a[0]], "part_b"), (a, [stranger], "part_b")):
        with pytest.raises(services.IncidentError) as exc:
            services.note_possible_split(incident, part_a, part_b)
        assert exc.value.field == field
    incident.refresh_from_db()
    assert "possible_split" not in incident.brief


def test_one_click_split_takes_the_smaller_part_out(send: Callable[..., int], agent: Any) -> None:
    incident, a, b = _incident_of_two(send)
    services.note_possible_split(incident, a, b)
    new = flows.split_near_miss(incident, user=agent)
    incident.refresh_from_db()
    assert sorted(incident.cases.values_list("pk", flat=True)) == sorted(a)
    assert sorted(new.memberships.values_list("case_id", flat=True)) == sorted(b)
    assert set(new.memberships.values_list("how", flat=True)) == {"split"}
    assert set(incident.group.memberships.values_list("how", flat=True)) <= {"merged", "moved", "split"}  # type: ignore[union-attr]
    assert team_loop.split_parts(incident) == [], "answered: the hint is gone"
    answer = SameProblemAnswer.objects.get()
    assert (answer.answer, answer.user, answer.incident) == ("split", agent, incident)
    assert team_loop.answer_counts(incident).separated == 1
    with pytest.raises(services.IncidentError):
        flows.split_near_miss(incident, user=agent)


def test_keeping_a_near_miss_as_one_problem_is_counted(send: Callable[..., int], agent: Any) -> None:
    incident, a, b = _incident_of_two(send)
    services.note_possible_split(incident, a, b)
    flows.keep_near_miss(incident, user=agent)
    assert team_loop.split_parts(incident) == []
    assert sorted(incident.cases.values_list("pk", flat=True)) == sorted(a + b)
    assert team_loop.answer_counts(incident).confirmed == 1


# --- "Störung eröffnen" -------------------------------------------------------------------------


def test_open_by_hand_for_a_group_and_for_cases(send: Callable[..., int], agent: Any) -> None:
    ids = _five(send)
    group = ProblemGroup.objects.get(pk=GroupMembership.objects.get(case_id=ids[0]).group_id)
    incident = flows.open_for_group(group, user=agent)
    assert incident.origin == "manual" and incident.opened_by == agent and incident.group == group
    assert set(incident.cases.values_list("pk", flat=True)) >= {ids[0]}
    assert EscalationRun.objects.filter(incident=incident).count() == 1
    with pytest.raises(services.IncidentError) as exc:
        flows.open_for_group(group, user=agent)
    assert exc.value.field == "group" and f"INC-{incident.pk}" in str(exc.value)
    other = Case.objects.get(pk=send(*ELSEWHERE, "r@web.de"))
    second = flows.open_for_cases([other], user=agent)
    assert list(second.cases.all()) == [other] and second.title
    with pytest.raises(services.IncidentError):
        flows.open_for_cases([], user=agent)


def test_the_api_takes_the_answer_and_names_a_bad_field(send: Callable[..., int], api: Any) -> None:
    ids = _five(send)
    sixth = send(*SIXTH, "sechste@web.de")
    group_id = GroupMembership.objects.get(case_id=ids[0]).group_id
    bad = api.post(f"/api/v1/incidents/cases/{sixth}/same-problem", {"same": True, "group_id": 999999})
    assert bad.status_code == 422 and "group_id" in bad.content.decode()
    none = api.post(f"/api/v1/incidents/cases/{sixth}/same-problem", {"same": True})
    assert none.status_code == 422 and "group_id" in none.content.decode()
    assert SameProblemAnswer.objects.count() == 0
    ok = api.post(f"/api/v1/incidents/cases/{sixth}/same-problem", {"same": True, "group_id": group_id})
    assert ok.status_code == 200, ok.content
    body = ok.json()
    incident = Incident.objects.get()
    assert body["answer"] == "yes" and body["incident_id"] == incident.pk and sorted(body["case_ids"]) == sorted(ids)
    assert SameProblemAnswer.objects.get().source == "api"
