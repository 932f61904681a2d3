"""German demo data: customers and tech cases across categories, so a new user sees a living list.

Idempotent: cases are keyed by (source "demo", external id), so running `sirene demo` twice changes nothing.
Includes a burst of 502 reports from seven customers in the last hours, which the incident rule turns into
a critical incident, and a spread of single cases over the last two weeks.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sirene.accounts.models import Role, User
from sirene.cases import services
from sirene.cases.models import Case, Status
from sirene.core import clock
from sirene.flows import cases as case_flows
from sirene.flows import intake as intake_flow

TEAM = [
    ("lea", "Lea", Role.AGENT),
    ("luca", "Luca", Role.AGENT),
    ("tara", "Tara", Role.LEAD),
    ("piwi", "Piwi", Role.LEAD),
]

FIRST = [
    "Maria",
    "Thomas",
    "Sabine",
    "Jürgen",
    "Petra",
    "Andreas",
    "Claudia",
    "Stefan",
    "Monika",
    "Michael",
    "Birgit",
    "Frank",
    "Heike",
    "Uwe",
    "Anja",
    "Markus",
    "Karin",
    "Ralf",
    "Nicole",
    "Jens",
    "Susanne",
    "Dirk",
]
LAST = [
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
]
DOMAINS = [
    "gmx.de",
    "web.de",
    "t-online.de",
    "gmail.com",
    "outlook.de",
    "yahoo.de",
    "posteo.de",
    "icloud.com",
]

SINGLE_CASES: list[tuple[str, str, str | None, dict[str, Any]]] = [
    (
        "Passwort zurücksetzen funktioniert nicht",
        "Hallo, ich habe dreimal auf 'Passwort vergessen' geklickt, aber keine E-Mail bekommen. Auch nicht im Spam.",
        "login",
        {"platform": "desktop", "browser": "Firefox"},
    ),
    (
        "Fortschritt in der App nicht gespeichert",
        "Ich habe gestern in der App Lektion 4 abgeschlossen, im Mitgliederbereich steht sie aber noch als offen.",
        "sync",
        {"platform": "mobile", "os": "iOS", "app_version": "3.4.1"},
    ),
    (
        "Video startet nicht",
        "Das Video in Modul 2, Lektion 3 lädt endlos. Andere Videos gehen. Ich nutze Safari auf dem Mac.",
        "content",
        {"platform": "desktop", "browser": "Safari"},
    ),
    (
        "Zahlung mit PayPal abgebrochen",
        "Beim Checkout bekomme ich nach PayPal eine Fehlermeldung und der Kurs ist nicht freigeschaltet.",
        "checkout",
        {"plan": "Jahresabo"},
    ),
    (
        "Clubzugang fehlt nach Kauf",
        "Ich habe gestern die Club-Mitgliedschaft gekauft, sehe aber keine Club-Inhalte.",
        "checkout",
        {"club_member": True},
    ),
    (
        "App stürzt beim Öffnen ab",
        "Seit dem Update stürzt die App auf meinem Android-Handy sofort ab.",
        "app_error",
        {"platform": "mobile", "os": "Android", "app_version": "3.4.0"},
    ),
    (
        "PDF lässt sich nicht öffnen",
        "Das Arbeitsblatt zu Lektion 7 öffnet sich nicht, es kommt eine leere Seite.",
        "content",
        {},
    ),
    (
        "Ständig ausgeloggt",
        "Ich werde im Mitgliederbereich alle paar Minuten ausgeloggt und muss mich neu anmelden.",
        "login",
        {"browser": "Chrome"},
    ),
    (
        "Rechnung fehlt",
        "Für meine letzte Zahlung habe ich keine Rechnung erhalten. Können Sie mir die schicken?",
        "checkout",
        {},
    ),
    (
        "Untertitel fehlen",
        "Bei den neuen Videos gibt es keine Untertitel mehr, vorher waren sie da.",
        "content",
        {},
    ),
    (
        "Lesezeichen weg",
        "Meine Lesezeichen in der App sind nach dem Update verschwunden.",
        "sync",
        {"platform": "mobile", "os": "iOS", "app_version": "3.4.1"},
    ),
    (
        "Zwei-Faktor-Code kommt nicht an",
        "Der Bestätigungscode per SMS kommt nicht an, ich komme nicht in mein Konto.",
        "login",
        {},
    ),
    (
        "Kurs wird doppelt angezeigt",
        "Im Dashboard sehe ich meinen Kurs zweimal, einer davon ist leer.",
        "app_error",
        {},
    ),
    (
        "Download der Audiodateien bricht ab",
        "Der Download der Meditationen bricht bei 80 % ab.",
        "content",
        {"platform": "mobile"},
    ),
    (
        "Kreditkarte abgelehnt",
        "Meine Kreditkarte wird im Checkout abgelehnt, obwohl sie überall sonst funktioniert.",
        "checkout",
        {},
    ),
    (
        "Weiße Seite nach Login",
        "Nach dem Einloggen sehe ich nur eine weiße Seite. Cache habe ich schon geleert.",
        "app_error",
        {"browser": "Edge"},
    ),
    (
        "Quiz-Ergebnis nicht übernommen",
        "Ich habe das Quiz in der App bestanden, im Browser steht aber 'nicht bestanden'.",
        "sync",
        {},
    ),
    (
        "Zertifikat lässt sich nicht herunterladen",
        "Beim Klick auf 'Zertifikat herunterladen' passiert nichts.",
        "app_error",
        {},
    ),
]

BURST = [
    (
        "Fehler 502 im Mitgliederbereich",
        "Hallo, wenn ich mich einlogge, kommt nur 'Fehler 502 Bad Gateway'. Gesendet von meinem iPhone",
    ),
    (
        "Mitgliederbereich geht nicht",
        "Seit heute Mittag zeigt der Mitgliederbereich eine Fehlerseite mit 502. Auf dem Handy und am PC.",
    ),
    ("Bad Gateway", "Ich bekomme beim Aufrufen meiner Kurse 502 Bad Gateway. Bitte um Hilfe!"),
    ("Seite lädt nicht – 502", "Guten Tag, die Kursseite lädt nicht, es erscheint Fehler 502. Liebe Grüße"),
    (
        "Kurse nicht erreichbar",
        "Meine Kurse sind nicht erreichbar, Fehlermeldung 502 Bad Gateway nach dem Login.",
    ),
    (
        "Fehlerseite statt Lektion",
        "Statt der Lektion kommt eine Fehlerseite: 502 Bad Gateway. Mit Chrome und Safari probiert.",
    ),
    (
        "502 Fehler",
        "Hallo Team, bei mir kommt seit ca. einer Stunde nur noch der Fehler 502 im Mitgliederbereich.",
    ),
]


def ensure_demo_users(username: str, password: str) -> User:
    user, _ = User.objects.get_or_create(
        username=username, defaults={"first_name": "Demo", "role": Role.LEAD}
    )
    user.role = Role.LEAD
    user.is_staff = True
    user.set_password(password)
    user.save()
    for name, first, role in TEAM:
        member, created = User.objects.get_or_create(
            username=name, defaults={"first_name": first, "role": role}
        )
        if created:
            member.set_unusable_password()
            member.save()
    return user


def _customer(rng: random.Random, i: int, attributes: dict[str, Any]) -> services.CustomerData:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    email = (
        f"{first.lower()}.{last.lower()}{i}@{rng.choice(DOMAINS)}".replace("ü", "ue")
        .replace("ö", "oe")
        .replace("ä", "ae")
    )
    return services.CustomerData(email=email, name=f"{first} {last}", attributes=attributes)


def load(stdout: Any) -> None:
    if Case.objects.filter(source="demo").exists():
        stdout.write("cases demo: already loaded")
        return
    rng = random.Random(20261122)
    now = clock.now()
    team = {u.username: u for u in User.objects.filter(username__in=[t[0] for t in TEAM])}
    created = 0
    for i, (subject, body, category, attributes) in enumerate(SINGLE_CASES):
        age = dt.timedelta(hours=rng.uniform(6, 14 * 24))
        result = intake_flow.report_case(
            services.IntakeData(
                source="demo",
                external_id=f"single-{i}",
                subject=subject,
                body=body,
                customer=_customer(rng, i, dict(attributes)),
                tags=["technik"],
                category=category,
                received_at=now - age,
            ),
            actor_label="demo",
        )
        created += int(result.created)
        case = result.case
        if case is None:
            continue
        roll = rng.random()
        owner = team.get(rng.choice(["lea", "luca", "tara"]))
        if roll < 0.25:
            continue
        services.assign(case, owner, actor=owner)
        if roll < 0.45:
            case_flows.change_status(case, Status.WAITING, actor=owner, note="Rückfrage an Kundin gestellt.")
        elif roll < 0.6:
            case_flows.change_status(
                case, Status.OPEN_QUESTION, actor=owner, note="An Technik weitergegeben."
            )
        elif roll < 0.9:
            case_flows.change_status(
                case,
                Status.SOLVED,
                actor=owner,
                note="Browser-Cache geleert und neu eingeloggt, danach ging es wieder.",
            )
    for j, (subject, body) in enumerate(BURST):
        result = intake_flow.report_case(
            services.IntakeData(
                source="demo",
                external_id=f"burst-{j}",
                subject=subject,
                body=body,
                customer=_customer(rng, 100 + j, {"platform": rng.choice(["mobile", "desktop"])}),
                tags=["technik"],
                received_at=now - dt.timedelta(minutes=110 - j * 15),
            ),
            actor_label="demo",
        )
        created += int(result.created)
    stdout.write(f"cases demo: {created} cases loaded")
