"""Detection decides "the same problem" among the window's own reports (real intake API, real
encoder, small German examples written for these tests). One test per failure pattern of issue 11."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from sirene.cases.categorize import guess_category
from sirene.core import clock
from sirene.incidents import detection, services, tasks
from sirene.incidents.models import EarlyWarning, Incident, IncidentRule
from sirene.integrations import posts
from sirene.integrations.models import OutboxMessage

# One problem, many wordings: the confirmation code for the sign-in does not arrive by e-mail.
CODE_MAIL = [
    "Der Anmeldecode per E-Mail kommt bei mir nicht an, auch nicht im Spam.",
    "Ich warte seit einer Stunde auf den Bestätigungscode für die Anmeldung, keine Mail.",
    "Login-Code wird nicht zugeschickt, ich kann mich deshalb nicht anmelden.",
    "Hallo, der Sicherheitscode zum Einloggen kommt nicht per Mail. Was tun?",
    "Bekomme keinen Code per E-Mail für die Anmeldung, mehrmals angefordert.",
    "Die E-Mail mit dem Anmeldecode erreicht mich nicht, Spam-Ordner ist leer.",
    "Der Code für die Anmeldung kommt einfach nicht per Mail an.",
    "Seit heute Mittag kommt kein Anmeldecode mehr per E-Mail.",
]
# An everyday question in the same area, asked every day.
PASSWORD = [
    "Ich habe mein Passwort vergessen, wie kann ich es zurücksetzen?",
    "Wo kann ich ein neues Passwort anfordern? Ich weiß meins nicht mehr.",
    "Passwort vergessen – bitte um Hilfe beim Zurücksetzen.",
    "Wie setze ich mein Kennwort zurück? Ich habe es vergessen.",
]
NO_SOUND = [
    "Bei den Videos im Kurs ist kein Ton, das Bild läuft aber.",
    "Die Lektionsvideos haben keinen Ton mehr, Lautstärke ist voll aufgedreht.",
    "Video spielt ab, aber man hört nichts, kein Ton.",
    "Seit gestern kein Ton in den Kursvideos, Bild ist ok.",
    "Ton fehlt bei allen Videos, nur Bild ohne Sound.",
]
NO_SUBTITLES = [
    "Ton ist da, aber keine Untertitel bei den Videos, obwohl eingeschaltet.",
    "Die Untertitel werden in den Kursvideos nicht mehr angezeigt, Ton geht.",
    "Untertitel fehlen bei allen Lektionen, der Ton ist in Ordnung.",
    "Keine Untertitel mehr in den Videos, Ton und Bild laufen.",
]


@pytest.fixture
def send(api: Any) -> Callable[..., int]:
    counter = {"n": 0}

    def post(body: str, email: str, tags: list[str] | None = None, subject: str = "") -> int:
        counter["n"] += 1
        payload = {
            "source": "test",
            "external_id": f"w-{counter['n']}",
            "subject": subject,
            "body": body,
            "customer": {"email": email},
            "tags": tags if tags is not None else ["technik"],
        }
        response = api.post("/api/v1/cases", payload)
        assert response.status_code in (200, 201), response.content
        return int(response.json().get("id", 0))  # 0: not tracked (tagged, but not #technik)

    return post


def test_a_burst_is_not_absorbed_by_an_old_everyday_group(send: Any) -> None:
    start = clock.now()
    # Two weeks of the everyday question: a big, long-lived group in the same area.
    for day in range(14, 0, -1):
        clock.set_now(start - timedelta(days=day))
        for i, text in enumerate(PASSWORD[:2]):
            send(text, f"pw{day}-{i}@example.org", ["technik", "login"])
    clock.set_now(start)
    ids = []
    for i, text in enumerate(CODE_MAIL[:6]):
        clock.set_now(start + timedelta(minutes=10 * i))
        ids.append(send(text, f"kundin{i}@gmx.de", ["technik", "login"]))
        if i < 5:
            assert Incident.objects.count() == 0
    incident = Incident.objects.get()
    assert sorted(incident.cases.values_list("id", flat=True)) == sorted(ids)  # at the 6th, only the burst
    assert incident.customers_affected == 6


def test_history_never_raises_the_floor(send: Any) -> None:
    start = clock.now()
    # The same problem three days ago (an earlier burst, resolved): it is not "usual" now.
    clock.set_now(start - timedelta(days=3))
    for i, text in enumerate(CODE_MAIL[:6]):
        send(text, f"frueher{i}@web.de", ["technik", "login"])
    services.resolve(Incident.objects.get(), resolution="Mailserver neu gestartet")
    clock.set_now(start)
    for i, text in enumerate(CODE_MAIL[2:8]):
        send(text, f"heute{i}@gmx.net", ["technik", "login"])
    latest = Incident.objects.order_by("-id").first()
    assert Incident.objects.count() == 2 and latest is not None
    assert latest.customers_affected == 6
    rule = latest.brief["rate"]["rule"]
    assert "ab der 6. Kundin / dem 6. Kunden innerhalb von 24 h" in rule


def test_a_burst_in_many_wordings_opens_one_incident_at_the_sixth(send: Any) -> None:
    ids = [send(text, f"k{i}@t-online.de", ["technik"]) for i, text in enumerate(CODE_MAIL[:5])]
    assert Incident.objects.count() == 0, "five customers are not an incident"
    ids.append(send(CODE_MAIL[5], "k5@t-online.de", ["technik"]))
    incident = Incident.objects.get()
    assert sorted(incident.cases.values_list("id", flat=True)) == sorted(ids)
    assert incident.brief["customers_affected"] == 6
    assert len({e["email"] for e in incident.brief["examples"]}) == len(incident.brief["examples"])


def test_a_near_miss_pair_stays_two_problems(send: Any) -> None:
    # 5 + 4 customers, interleaved: merged they would be 9, but neither problem has 6.
    for i in range(5):
        send(NO_SOUND[i], f"ton{i}@web.de", ["technik", "video"])
        if i < 4:
            send(NO_SUBTITLES[i], f"schrift{i}@web.de", ["technik", "video"])
    assert Incident.objects.count() == 0


def test_the_categoriser_matches_words_not_letters_inside_them() -> None:
    assert guess_category("Ich habe den Code dreimal angefordert, er kommt nicht") != "checkout"
    assert guess_category("Das Display bleibt schwarz") == "other"
    assert guess_category("Kartenzahlung wird abgelehnt") == "checkout"
    assert guess_category("Serverfehler beim Öffnen") == "app_error"
    assert guess_category("Meine Bestellung ist nicht angekommen") == "checkout"


def test_later_reports_join_the_live_incident_never_a_second_one(send: Any) -> None:
    for i, text in enumerate(CODE_MAIL[:6]):
        send(text, f"k{i}@gmx.de", ["technik", "login"])
    incident = Incident.objects.get()
    later = [send(text, f"spaet{i}@gmx.de", ["technik", "login"]) for i, text in enumerate(CODE_MAIL[6:8])]
    later.append(send(CODE_MAIL[0], "K0@GMX.de", ["technik", "login"]))  # the same customer, re-cased
    assert Incident.objects.count() == 1
    incident.refresh_from_db()
    assert set(later) <= set(incident.cases.values_list("id", flat=True))
    assert incident.customers_affected == 8
    # The problem has its own group now: agents move, merge and split there.
    assert incident.group is not None
    assert incident.group.memberships.count() == 9


def test_a_new_problem_that_accelerates_gets_one_quiet_early_warning(send: Any) -> None:
    start = clock.now()
    for i, text in enumerate(CODE_MAIL[:3]):
        clock.set_now(start + timedelta(minutes=15 * i))
        send(text, f"frueh{i}@web.de", ["technik", "login"])
    warning = EarlyWarning.objects.get()
    assert warning.customers == 3 and warning.incident is None
    assert detection.live_warnings() == [warning]
    tasks.tick()
    posts.tick()  # the chat lane posts the queued Vorwarnung (issue 22: on core/jobs)
    line = OutboxMessage.objects.get(kind="post")
    assert "Vorwarnung" in line.body and "<@" not in line.body  # nobody is mentioned or paged
    tasks.tick()
    posts.tick()
    assert OutboxMessage.objects.filter(kind="post").count() == 1  # posted once
    for i, text in enumerate(CODE_MAIL[3:6]):
        clock.set_now(start + timedelta(minutes=60 + 20 * i))
        send(text, f"spaeter{i}@web.de", ["technik", "login"])
    incident = Incident.objects.get()
    warning.refresh_from_db()
    assert warning.incident == incident
    assert warning.lead_minutes == pytest.approx(70.0)
    assert EarlyWarning.objects.count() == 1


def test_a_leads_rule_for_a_category_applies_and_is_named(send: Any) -> None:
    IncidentRule.objects.create(category="login", threshold=7, window_hours=24)
    for i, text in enumerate(CODE_MAIL[:7]):
        send(text, f"k{i}@gmx.de", ["technik", "login"])
    assert Incident.objects.count() == 0  # the lead said: more than 7
    send(CODE_MAIL[7], "k7@gmx.de", ["technik", "login"])
    incident = Incident.objects.get()
    assert "ab der 8. Kundin / dem 8. Kunden innerhalb von 24 h" in incident.brief["rate"]["rule"]
    assert "Kategorie" in incident.brief["rate"]["rule"]


def test_never_page_for_a_known_problem(send: Any) -> None:
    IncidentRule.objects.create(category="login", threshold=5, window_hours=24, pages=False)
    for i, text in enumerate(CODE_MAIL[:7]):
        send(text, f"k{i}@gmx.de", ["technik", "login"])
    assert Incident.objects.count() == 0


def test_questions_without_the_tech_tag_do_not_count(send: Any) -> None:
    for i, text in enumerate(CODE_MAIL[:7]):
        assert send(text, f"k{i}@gmx.de", ["rechnung"]) == 0  # not a tech case: never in the window
    assert Incident.objects.count() == 0
