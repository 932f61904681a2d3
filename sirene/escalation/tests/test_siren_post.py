"""The siren post is the brief (issue 12): real slack_sdk against the local fake Slack, clock moved,
an incident opened by sirene itself from customers' reports."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db import transaction

from sirene.core import clock
from sirene.escalation.models import Absence, Task, TaskKind
from sirene.escalation.tests.helpers import run_until, work
from sirene.flows import incidents as incident_flows
from sirene.flows import intake as intake_flow
from sirene.incidents import services as incidents
from sirene.incidents.models import Incident
from sirene.incidents.tests.conftest import make_case

pytestmark = pytest.mark.django_db

PUBLIC = "https://sirene.example.com"
NOTES = "https://wiki.example.com/testkonto"
MENTIONS = ("U0000LEA01", "U0000TARA1", "U0000LUCA1", "U0000PIWI1")
TEXT = (
    "Hallo liebes Team, seit heute Morgen zeigt der Mitgliederbereich im Club nur noch die Fehlermeldung 502. "
    "Ich komme gar nicht mehr an meine Kurse. Viele Grüße"
)


@pytest.fixture
def configured(settings: Any, fake_slack: Any, team: Any) -> Any:
    settings.PUBLIC_URL = PUBLIC
    settings.FACEBOOK_PERSON = "Lea"
    settings.FACEBOOK_DEPUTY = "Piwi"
    settings.TEST_ACCOUNT_NOTES_URL = NOTES
    return fake_slack


def report(email: str, text: str = TEXT, *, at: dt.datetime | None = None, subject: str = "") -> Any:
    with transaction.atomic():
        case = make_case(email, text, category="app_error", at=at)
        if subject:
            case.subject = subject
            case.save(update_fields=["subject"])
        intake_flow.group_and_escalate(case)
    return case


def open_automatic_incident(n: int = 6, *, subject: str = "") -> Incident:
    """n customers report over the last two hours (Berlin: from 01:00); the 6th opens the incident."""
    now = clock.now()
    for i in range(n):
        report(f"kundin{i}@example.de", at=now - dt.timedelta(minutes=120 - 10 * i), subject=subject)
    return Incident.objects.get()


def siren(fake: Any) -> dict[str, Any]:
    [message] = [m for m in fake.posted_to("#customer-success") if not m.get("thread_ts")]
    post: dict[str, Any] = message
    return post


def thread(fake: Any, parent: dict[str, Any]) -> list[str]:
    return [m["text"] for m in fake.messages if m.get("thread_ts") == parent["ts"]]


def test_the_siren_post_carries_the_brief_item_by_item(configured: Any, start: Any) -> None:
    incident = open_automatic_incident()
    assert incident.origin == "auto"
    work()
    text = siren(configured)["text"]
    lines = text.split("\n")
    # siren + the configured mentions, in the team's own shape
    assert lines[0].startswith(":rotating_light: Hey ")
    for uid in MENTIONS:
        assert f"<@{uid}>" in lines[0]
    # since when, in words and Berlin time (the first report came 00:00 UTC = 01:00 in Berlin)
    assert "die Kund:innen melden seit 2 Stunden (01:00 Uhr) ein technisches Problem" in lines[0]
    assert "Kann sich bitte jemand darum kümmern?" in lines[0]
    # what: a real title, the error code, one representative sentence without the greeting
    assert lines[1] == f"*INC-{incident.pk}: Fehler 502 im Mitgliederbereich (Club)*"
    what = next(line for line in lines if line.startswith("– Was:"))
    assert "Fehlercode 502" in what
    assert "„Seit heute Morgen zeigt der Mitgliederbereich im Club nur noch die Fehlermeldung 502.“" in what
    assert "Hallo" not in what
    # how many distinct customers so far
    assert "– bisher 6 Kund:innen (6 Meldungen), zuletzt 01:50 Uhr" in lines
    # at least three example customers' e-mail addresses
    cases_line = next(line for line in lines if line.startswith("– Fälle:"))
    assert len(re.findall(r"kundin\d@example\.de", cases_line)) >= 3
    # the common thread (none here: no other reporters to compare with)
    assert "– Roter Faden: kein roter Faden erkennbar" in lines
    # absolute links: the incident page and the tracking list filtered to the incident
    assert f"<{PUBLIC}/incidents/{incident.pk}/|Störung INC-{incident.pk} öffnen>" in text
    assert f"<{PUBLIC}/cases/?incident={incident.pk}|Fälle in der Trackingliste>" in text
    assert "UTC" not in text and "customers in the window" not in text
    # Slack's limits: one section of at most 3000 characters, plus the button
    blocks = siren(configured)["blocks"]
    assert blocks[0]["type"] == "section" and len(blocks[0]["text"]["text"]) <= 3000
    assert blocks[1]["elements"][0]["action_id"] == "sirene_ack"


def test_the_post_is_updated_in_place_when_the_9th_customer_joins(configured: Any, start: Any) -> None:
    open_automatic_incident()
    work()
    posted = siren(configured)
    assert "bisher 6 Kund:innen" in posted["text"]
    clock.advance(minutes=5)
    report("kundin7@example.de")
    report("kundin8@example.de")
    report("kundin9@example.de")
    work()
    updates = [u for u in configured.updates if u["ts"] == posted["ts"]]
    assert updates, "chat.update on the siren post"
    assert "bisher 9 Kund:innen" in updates[-1]["text"]
    assert "und 4 weitere" in updates[-1]["text"]
    # the same message, no new post (so nobody is pinged again)
    assert len([m for m in configured.posted_to("#customer-success") if not m.get("thread_ts")]) == 1
    assert siren(configured)["text"] == updates[-1]["text"]
    # nothing changes, nothing is sent
    calls = len(configured.calls)
    work()
    assert len(configured.calls) == calls


def test_acknowledge_resolve_and_status_updates_go_to_the_thread_in_local_time(
    configured: Any, start: Any, lead: Any
) -> None:
    incident = open_automatic_incident()
    work()
    posted = siren(configured)
    clock.set_now(dt.datetime(2024, 3, 5, 8, 17, tzinfo=dt.UTC))  # 09:17 in Berlin
    incident_flows.acknowledge(incident, user=lead, via="web")
    work()
    replies = thread(configured, posted)
    assert any("*Übernommen* von Tara um 09:17 Uhr (in sirene)" in r for r in replies), replies
    assert all("UTC" not in r for r in replies)
    top = siren(configured)
    assert top["text"].startswith(":eyes: *Übernommen* von Tara um 09:17 Uhr")
    assert all(b["type"] != "actions" for b in top["blocks"]), "no ack button once taken"
    from sirene.escalation import services as escalation

    escalation.post_status_update(incident, "Fix ist ausgerollt, wir beobachten.", user=lead)
    work()
    assert any("Fix ist ausgerollt" in r and "09:17 Uhr" in r for r in thread(configured, posted))
    assert any("Fix ist ausgerollt" in m["text"] for m in configured.posted_to("#customer-success-intern"))


def test_customer_text_is_escaped_in_every_slack_message(configured: Any, start: Any, settings: Any) -> None:
    evil = "<!channel> Fehler 502 <@U123> <https://evil.example/login|hier bestätigen> & mehr"
    now = clock.now()
    for i in range(6):
        with transaction.atomic():
            case = make_case(
                f"k{i}@example.de", evil + " " + TEXT, category="app_error", at=now - dt.timedelta(minutes=30 - i)
            )
            case.subject = evil
            case.save(update_fields=["subject"])
            intake_flow.group_and_escalate(case)
    incident = Incident.objects.get()
    # the lead keeps a customer's words as the title: still text, never markup
    incidents.rename(incident, title=evil, customer_title=evil)
    incidents.refresh_brief(incident)
    work()
    clock.advance(minutes=31)
    work()  # the Facebook reminder
    settings.DELAY_NOTICE_HOURS = 0
    from sirene.helpdesk import services as helpdesk

    incident.refresh_from_db()
    incident.acknowledged_by = None
    from sirene.accounts.models import User

    owner = User.objects.create_user("lea", "lea@example.com", "x-pass-123", slack_user_id="U0000LEA01")
    Incident.objects.filter(pk=incident.pk).update(opened_by=owner)
    import os

    os.environ["SIRENE_DELAY_NOTICE_HOURS"] = "0.001"
    try:
        helpdesk.remind_delays()
    finally:
        del os.environ["SIRENE_DELAY_NOTICE_HOURS"]
    texts = [m["text"] for m in configured.messages]
    assert len(texts) >= 4, texts  # siren, Facebook DM, test-account task, reminder, delay reminder
    for text in texts:
        assert "<!channel>" not in text
        assert "<@U123>" not in text
        assert "<https://evil" not in text
    assert any("&lt;!channel&gt;" in t and "&lt;@U123&gt;" in t for t in texts)
    assert any("&lt;https://evil.example/login|hier bestätigen&gt;" in t for t in texts)
    dms = [m["text"] for m in configured.messages if m["channel"] == "U0000LEA01"]
    assert any("ungelöst" in t for t in dms), "the delay reminder was sent, escaped"


def test_the_facebook_and_test_account_tasks_go_out_when_the_incident_opens(configured: Any, start: Any) -> None:
    incident = open_automatic_incident()
    work()
    [dm] = [m for m in configured.messages if m["channel"] == "U0000LEA01"]
    assert "Facebook" in dm["text"]
    assert "Unser Technik-Team weiß Bescheid und arbeitet mit Hochdruck an einer Lösung" in dm["text"]
    posted = siren(configured)
    [test_task] = [t for t in thread(configured, posted) if "Im Testkonto nachstellen" in t]
    assert f"<{NOTES}|Testkonto-Notizen>" in test_task
    tasks = {t.kind: t for t in Task.objects.filter(run__incident=incident)}
    person = tasks[TaskKind.FACEBOOK].person
    assert person is not None and person.name == "Lea"
    assert tasks[TaskKind.TEST_ACCOUNT].link == NOTES
    # acknowledging at once does not take the Facebook task back (it is part of every incident)
    incident_flows.acknowledge(incident, label="Tara", via="web")
    work()
    assert len([m for m in configured.messages if m["channel"] == "U0000LEA01"]) == 1


def test_the_deputy_gets_the_facebook_task_when_the_facebook_person_is_absent(
    configured: Any, start: Any, team: Any
) -> None:
    Absence.objects.create(
        person=team["lea"], starts_at=start - dt.timedelta(days=1), ends_at=start + dt.timedelta(days=3)
    )
    open_automatic_incident()
    work()
    assert [m for m in configured.messages if m["channel"] == "U0000LEA01"] == []
    [dm] = [m for m in configured.messages if m["channel"] == "U0000PIWI1"]
    assert "Facebook" in dm["text"] and "Vertretung für Lea (abwesend)" in dm["text"]


def test_an_open_facebook_task_is_reminded_once_after_30_minutes(configured: Any, start: Any) -> None:
    incident = open_automatic_incident()
    incident_flows.acknowledge(incident, label="Tara", via="web")
    run_until(29)
    assert len([m for m in configured.messages if m["channel"] == "U0000LEA01"]) == 1
    run_until(2)
    dms = [m["text"] for m in configured.messages if m["channel"] == "U0000LEA01"]
    assert len(dms) == 2 and dms[1].startswith(":bell: *Erinnerung*") and "Facebook" in dms[1]
    run_until(60)
    assert len([m for m in configured.messages if m["channel"] == "U0000LEA01"]) == 2


def test_a_done_facebook_task_is_not_reminded(configured: Any, start: Any, lead: Any) -> None:
    from sirene.escalation import services as escalation

    incident = open_automatic_incident()
    work()
    task = Task.objects.get(run__incident=incident, kind=TaskKind.FACEBOOK)
    assert escalation.complete_task(task, user=lead, not_needed=True)
    assert not escalation.complete_task(task, user=lead)
    run_until(40)
    assert len([m for m in configured.messages if m["channel"] == "U0000LEA01"]) == 1
    task.refresh_from_db()
    assert task.not_needed and task.done_by == lead


def test_a_huge_incident_stays_within_slacks_block_limits(configured: Any, start: Any) -> None:
    now = clock.now()
    long_text = TEXT + " " + "Sehr lange Beschreibung " * 200
    for i in range(40):
        report(f"eine.sehr.lange.adresse.nummer{i:02d}.{'x' * 60}@example.de", long_text,
               at=now - dt.timedelta(minutes=40 - i))
    incident = Incident.objects.get()
    incidents.rename(incident, title="T" * 300, customer_title="Störung")
    work()
    message = siren(configured)
    section = message["blocks"][0]["text"]["text"]
    assert len(section) <= 3000
    assert "und 35 weitere" in section, "the list is cut between addresses, with how many are left"
    assert section.rstrip().endswith("Fälle in der Trackingliste>")
