"""What sirene says in Slack and on the phone. Internal team texts, written in German directly.

The siren post IS the brief, in the shape of the message the team used to write by hand:

    🚨 Hey @lea @tara @luca @piwi die Kund:innen melden seit 2 Stunden (07:12 Uhr) ein
    technisches Problem. Kann sich bitte jemand darum kümmern?
    *INC-7: Fehler 502 im Mitgliederbereich (Club)*
    – Was: Fehlercode 502 – „Seit heute Morgen zeigt der Mitgliederbereich nur noch Fehler 502.“
    – bisher 14 Kund:innen (16 Meldungen), zuletzt 09:05 Uhr
    – Fälle: a@…, b@…, c@… und 11 weitere
    – Roter Faden: App-Version 3.5.0 (6 von 6), nur Android / kein roter Faden erkennbar
    – Störung öffnen · Fälle in der Trackingliste   (absolute links from SIRENE_PUBLIC_URL)

Every customer-derived text (titles built from reports, subjects, e-mail addresses, names, thread
values) goes through `escape`, so `<!channel>`, `<@U…>` or `<https://evil|hier klicken>` in a report
arrive as plain text; only sirene's own mentions and links are markup. All times are local
(SIRENE_TIME_ZONE, Europe/Berlin by default). Slack's limits are kept: a section block holds at most
3000 characters, so lists are cut between items ("und 11 weitere"), never mid-address.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

from sirene.core import clock
from sirene.incidents import team_loop
from sirene.incidents.models import Incident, IncidentStatus
from sirene.incidents.title import incident_sentence
from sirene.integrations.slack import escape

ACK_ACTION_ID = "sirene_ack"
ESCALATE_ACTION_ID = "sirene_escalate"
SECTION_LIMIT = 3000  # Slack: text of a section block
EXAMPLES_SHOWN = 5  # at least 3 example customers, as the process asks
FIELD_LIMIT = 300  # one line of the post (title, sentence, thread)

ATTRIBUTE_WORDS = {
    "platform": "Gerätetyp",
    "device": "Gerät",
    "os": "Betriebssystem",
    "browser": "Browser",
    "app_version": "App-Version",
    "client": "App oder Web",
    "email_domain": "E-Mail-Domain",
    "email_provider": "E-Mail-Anbieter",
    "club_member": "Club-Mitgliedschaft",
    "plan": "Tarif",
    "country": "Land",
    "language": "Sprache",
}
VALUE_WORDS = {
    ("platform", "mobile"): "Handy/Tablet",
    ("platform", "desktop"): "Computer",
    ("client", "app"): "App",
    ("client", "web"): "Browser",
    ("club_member", "yes"): "ja",
    ("club_member", "no"): "nein",
}
# Facets that read as "nur Android" when every affected customer shares them.
_ONLY = {"os", "platform", "device", "browser", "browser_family", "client", "email_provider"}
VIA_WORDS = {
    "web": "in sirene",
    "api": "über die API",
    "phone": "per Telefon (Taste 1)",
    "slack button": "per Slack-Knopf",
    "slack reaction": "per Reaktion in Slack",
    "slack reply": "per Antwort im Thread",
    "resolve": "beim Lösen",
}
# --- time -------------------------------------------------------------------------------------


def local(at: dt.datetime) -> dt.datetime:
    return at.astimezone(ZoneInfo(settings.TIME_ZONE))


def clock_time(at: dt.datetime, now: dt.datetime | None = None) -> str:
    """"09:17 Uhr" today, "30.11. 18:40 Uhr" another day, always local time."""
    now = now or clock.now()
    at_local, now_local = local(at), local(now)
    if at_local.date() == now_local.date():
        return f"{at_local:%H:%M} Uhr"
    if at_local.date() == (now_local - dt.timedelta(days=1)).date():
        return f"gestern {at_local:%H:%M} Uhr"
    return f"{at_local:%d.%m.} {at_local:%H:%M} Uhr"


def duration_words(seconds: float) -> str:
    """"5 Minuten", "einer Minute", "einer Stunde", "2 Stunden", "3 Tagen" (dative, after "seit")."""
    minutes = max(0, int(seconds // 60))
    if minutes < 1:
        return "weniger als einer Minute"
    if minutes == 1:
        return "einer Minute"
    if minutes < 60:
        return f"{minutes} Minuten"
    hours = round(minutes / 60)
    if hours <= 1:
        return "einer Stunde"
    if hours < 36:
        return f"{hours} Stunden"
    days = round(hours / 24)
    return f"{days} Tagen"


def since_words(first_seen: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """"seit 5 Minuten (22:00 Uhr)"."""
    now = now or clock.now()
    if first_seen is None:
        return "seit eben"
    return f"seit {duration_words((now - first_seen).total_seconds())} ({clock_time(first_seen, now)})"


# --- pieces of the brief ------------------------------------------------------------------------


def _cut(text: str, limit: int = FIELD_LIMIT) -> str:
    text = " ".join((text or "").split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0] + "…"


def thread_sentence(brief: dict[str, Any]) -> str:
    """The common thread in natural German, one facet per fact, or that there is none (already escaped):
    "App-Version 3.5.0 (6 von 6), nur Android"."""
    from sirene.incidents.brief import facets

    ready = brief.get("common_thread_sentence")
    if isinstance(ready, str) and ready.strip():
        return escape(_cut(ready))
    findings = facets([f for f in brief.get("common_thread") or [] if isinstance(f, dict)])
    if not findings:
        return "kein roter Faden erkennbar"
    parts: list[str] = []
    for f in findings[:3]:
        attribute = str(f.get("attribute", ""))
        value = str(f.get("value", ""))
        shown = escape(_cut(VALUE_WORDS.get((attribute, value.lower()), value), 80))
        customers, known = f.get("customers", "?"), f.get("known", "?")
        if parts and customers == known and attribute in _ONLY:
            parts.append(f"nur {shown}")  # "… (6 von 6), nur Android"
            continue
        word = ATTRIBUTE_WORDS.get(attribute, attribute)
        parts.append(f"{escape(word)} {shown} ({customers} von {known})")
    return ", ".join(parts)


def mask_address(address: str) -> str:
    """"sabine@web.de" → "s…@web.de" (a label that is no address, e.g. a pseudonym, stays as it is)."""
    local, at, domain = address.partition("@")
    if not at or not local:
        return address
    return f"{local[0]}…@{domain}"


def provider_counts(incident: Incident) -> str:
    """"6 Kund:innen: GMX 4, web.de 2": the affected customers per e-mail provider, no address."""
    from collections import Counter

    from sirene.incidents.brief import email_provider

    providers: Counter[str] = Counter()
    seen: set[int] = set()
    for case in incident.cases.select_related("customer").order_by("received_at", "id"):
        customer = case.customer
        if customer.pk in seen:
            continue
        seen.add(customer.pk)
        domain = customer.email_domain or str((customer.attributes or {}).get("email_domain") or "")
        providers[email_provider(domain) if domain else "ohne Adresse"] += 1
    total = incident.customers_affected or sum(providers.values())
    word = "Kund:in" if total == 1 else "Kund:innen"
    parts = ", ".join(f"{escape(name)} {n}" for name, n in sorted(providers.items(), key=lambda kv: (-kv[1], kv[0])))
    cases_link = f"<{settings.PUBLIC_URL}/cases/?incident={incident.pk}|in sirene>"
    return f"{total} {word}: {parts} ({cases_link})" if parts else f"{total} {word} ({cases_link})"


def _examples(incident: Incident, brief: dict[str, Any]) -> str:
    """The example customers, as the lead chose under Einstellungen ("Kundenadressen in Slack"): the
    addresses (the team's process), masked ("s…@web.de"), or only how many per provider."""
    from sirene.preferences import services as preferences

    mode = preferences.get("slack_customer_addresses")
    if mode == "count":
        return provider_counts(incident)
    emails: list[str] = []
    for ex in brief.get("examples") or []:
        label = str(ex.get("email") or ex.get("customer") or "").strip() if isinstance(ex, dict) else ""
        if label and label not in emails:
            emails.append(label)
    if len(emails) < EXAMPLES_SHOWN:
        for case in incident.cases.select_related("customer").order_by("received_at", "id")[:50]:
            label = str(case.customer)
            if label not in emails:
                emails.append(label)
            if len(emails) >= EXAMPLES_SHOWN:
                break
    if mode == "mask":
        emails = [mask_address(e) for e in emails]
    shown = [escape(_cut(e, 120)) for e in emails[:EXAMPLES_SHOWN]]
    more = max(0, incident.customers_affected - len(shown))
    text = ", ".join(shown) or "–"
    return text + (f" und {more} weitere" if more else "")


def links(incident: Incident) -> str:
    base = settings.PUBLIC_URL
    return (
        f"<{base}{incident.get_absolute_url()}|Störung INC-{incident.pk} öffnen> · "
        f"<{base}/cases/?incident={incident.pk}|Fälle in der Trackingliste>"
    )


def what_line(incident: Incident, brief: dict[str, Any]) -> str:
    what = brief.get("what") or {}
    parts = []
    codes = [escape(str(c)) for c in (what.get("error_codes") or [])[:3]]
    if codes:
        parts.append(("Fehlercode " if len(codes) == 1 else "Fehlercodes ") + ", ".join(codes))
    sentence = incident_sentence(incident)
    if sentence:
        # A quote inside the quote takes the single German marks: „… ‚Gelassen durch den Alltag‘ …“.
        inner = sentence.replace("„", "‚").replace("“", "‘").replace('"', "'")
        parts.append(f"„{escape(inner)}“")
    return " – ".join(parts) or "–"


def _status_line(incident: Incident, now: dt.datetime) -> str:
    if incident.status == IncidentStatus.RESOLVED and incident.resolved_at:
        who = incident.resolved_by.display_name() if incident.resolved_by else "sirene"
        return f":white_check_mark: *Gelöst* von {escape(who)} um {clock_time(incident.resolved_at, now)}"
    if incident.status == IncidentStatus.ACKNOWLEDGED and incident.acknowledged_at:
        who = escape(incident.acknowledged_label or "jemand")
        via = VIA_WORDS.get(incident.acknowledged_via, escape(incident.acknowledged_via))
        return f":eyes: *Übernommen* von {who} um {clock_time(incident.acknowledged_at, now)} ({via})"
    return ""


def siren_text(incident: Incident, mention_ids: list[str], now: dt.datetime | None = None) -> str:
    """The siren post: the brief in the team's own shape (mrkdwn, customer text escaped)."""
    now = now or clock.now()
    brief = incident.brief or {}
    mentions = " ".join(f"<@{uid}>" for uid in mention_ids if uid)
    first_seen = incident.first_seen or incident.opened_at
    hey = f"Hey {mentions} die" if mentions else "Die"
    lines = []
    status = _status_line(incident, now)
    if status:
        lines.append(status)
    lines.append(
        f":rotating_light: {hey} Kund:innen melden {since_words(first_seen, now)} ein technisches Problem. "
        "Kann sich bitte jemand darum kümmern?"
    )
    lines.append(f"*INC-{incident.pk}: {escape(_cut(incident.title, 150))}*")
    lines.append(f"– Was: {what_line(incident, brief)}")
    customers = incident.customers_affected
    word = "Kund:in" if customers == 1 else "Kund:innen"
    count = f"– bisher {customers} {word} ({incident.reports} Meldungen)"
    if incident.last_seen:
        count += f", zuletzt {clock_time(incident.last_seen, now)}"
    lines.append(count)
    lines.append(f"– Fälle: {_examples(incident, brief)}")
    lines.append(f"– Roter Faden: {thread_sentence(brief)}")
    near_miss = team_loop.split_parts(incident)  # the detector's borderline split (issue 18)
    if near_miss:
        parts = " / ".join(f"„{escape(p.quote)}“ ({p.customers})" for p in near_miss)
        lines.append(f"– möglicherweise zwei Probleme: {parts} – aufteilen auf der Störungsseite")
    lines.append(f"– {links(incident)}")
    return _fit("\n".join(lines))


def _fit(text: str, limit: int = SECTION_LIMIT) -> str:
    """Cut at a line (then a word) boundary so a section block never exceeds Slack's limit."""
    if len(text) <= limit:
        return text
    kept: list[str] = []
    size = 0
    for line in text.split("\n"):
        if size + len(line) + 1 > limit - 2:
            room = limit - 2 - size
            if room > 40:
                kept.append(line[:room].rsplit(" ", 1)[0] + " …")
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept)


def siren_blocks(incident: Incident, text: str, run_id: int) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": _fit(text)}}]
    if incident.status == IncidentStatus.OPEN:
        blocks.append(
            {
                "type": "actions",
                "block_id": "sirene_ack",
                "elements": [
                    {
                        "type": "button",
                        "action_id": ACK_ACTION_ID,
                        "style": "primary",
                        "text": {"type": "plain_text", "text": "Ich kümmere mich"},
                        "value": str(run_id),
                    },
                    {
                        "type": "button",
                        "action_id": ESCALATE_ACTION_ID,
                        "text": {"type": "plain_text", "text": "Jetzt eskalieren"},
                        "value": str(run_id),
                    },
                ],
            }
        )
    return blocks


# --- thread replies and other channels ----------------------------------------------------------


def acknowledged_text(incident: Incident) -> str:
    """In the siren post's thread: who took it, when (local time) and how."""
    who = escape(incident.acknowledged_label or "jemand")
    via = VIA_WORDS.get(incident.acknowledged_via, escape(incident.acknowledged_via))
    when = clock_time(incident.acknowledged_at) if incident.acknowledged_at else ""
    return f":eyes: *Übernommen* von {who} um {when} ({via}). Die Eskalation ist gestoppt."


def resolved_text(incident: Incident, replies: dict[str, Any] | None = None) -> str:
    who = incident.resolved_by.display_name() if incident.resolved_by else "sirene"
    when = clock_time(incident.resolved_at) if incident.resolved_at else ""
    text = (
        f":white_check_mark: *INC-{incident.pk} gelöst* von {escape(who)} um {when}: "
        f"{escape(_cut(incident.resolution, 1500))}"
    )
    if replies:
        text += (
            f"\nAntworten an Kund:innen: {replies.get('queued', 0)} werden gesendet, "
            f"{len(replies.get('without_ticket') or [])} ohne Ticket (nicht benachrichtigt)."
        )
    return text


def status_update_text(incident: Incident, text: str, author: str) -> str:
    return (
        f":information_source: *INC-{incident.pk}* {escape(_cut(incident.title, 150))} – "
        f"Statusmeldung von {escape(author)} um {clock_time(clock.now())}:\n{escape(text)}"
    )


def calling_text(name: str, number: int, of: int, *, on_call: bool = False) -> str:
    """In the siren's thread before a call: the channel sees who is woken up now (issue 22)."""
    duty = " (Rufbereitschaft)" if on_call else ""
    return f":telephone_receiver: Niemand hat reagiert – sirene ruft jetzt {escape(name)}{duty} an ({number} von {of})."


def escalated_text(who: str) -> str:
    return f":fast_forward: {escape(who)} hat „Jetzt eskalieren“ gewählt – sirene geht zur nächsten Stufe."


def repeat_text(round_no: int) -> str:
    return f":repeat: Niemand hat reagiert – die Eskalation beginnt von vorn (Runde {round_no})."


def nobody_reacted_dm(incident: Incident) -> str:
    url = f"{settings.PUBLIC_URL}{incident.get_absolute_url()}"
    return (
        f":rotating_light: *INC-{incident.pk}* „{escape(_cut(incident.title, 150))}“: Niemand hat reagiert, "
        f"alle Stufen der Eskalation sind durch. Bitte kümmere dich oder bestimme jemanden: <{url}|INC-{incident.pk} öffnen>"
    )


def nobody_reacted_line(incident: Incident) -> str:
    return (
        f":rotating_light: *INC-{incident.pk}* „{escape(_cut(incident.title, 150))}“ ist noch offen: niemand hat "
        "reagiert, alle Anrufe sind durch. Die Leitung ist benachrichtigt."
    )


def call_message(incident: Incident) -> str:
    return f"Hier ist sirene. Kritische Störung: {incident.title[:200]}. Im Slack hat noch niemand reagiert."


def task_text(incident: Incident, title: str, text: str) -> str:
    """A task step of the escalation policy (the policy's text is the team's own, escaped anyway)."""
    return f":clipboard: Aufgabe zu INC-{incident.pk} ({escape(incident.title)}): {escape(title)}\n\n{escape(text)}"


def facebook_task_text(incident: Incident, group_reply: str, *, note: str = "", reminder: bool = False) -> str:
    """The DM to the person who looks after the Facebook groups (must contain the word Facebook)."""
    url = f"{settings.PUBLIC_URL}{incident.get_absolute_url()}"
    head = ":bell: *Erinnerung*" if reminder else ":clipboard: *Aufgabe*"
    lines = [
        f"{head} zu INC-{incident.pk} „{escape(_cut(incident.title, 150))}“: *Facebook-Gruppen prüfen und antworten*",
    ]
    if note:
        lines.append(f"_{escape(note)}_")
    lines += [
        "Bitte schau in die Facebook-Gruppen, ob dort Kund:innen das Problem melden, und antworte mit diesem Text:",
        "> " + escape(group_reply).replace("\n", "\n> "),
        f"Danach bitte auf der Störungsseite abhaken (erledigt / nicht nötig): <{url}|INC-{incident.pk} öffnen>",
    ]
    return "\n".join(lines)


def test_account_task_text(incident: Incident, notes_url: str) -> str:
    url = f"{settings.PUBLIC_URL}{incident.get_absolute_url()}"
    notes = f" Notizen zum Testkonto: <{notes_url}|Testkonto-Notizen>." if notes_url else ""
    return (
        f":test_tube: *Aufgabe: Im Testkonto nachstellen* – bitte das Problem von INC-{incident.pk} im Testkonto "
        f"nachstellen und das Ergebnis auf der Störungsseite eintragen: <{url}|INC-{incident.pk} öffnen>.{notes}"
    )


def facebook_group_reply(incident: Incident) -> str:
    """The prepared answer for the Facebook groups, in the customer voice (a group is addressed in the plural)."""
    from sirene.preferences.voice import say

    what = incident.customer_title or "eine technische Störung"
    return say(
        f"Liebe Community, uns ist bekannt, dass es gerade Probleme gibt ({what}). Unser Technik-Team weiß "
        "Bescheid und arbeitet mit Hochdruck an einer Lösung. Wir melden uns hier, sobald alles wieder "
        "funktioniert. Vielen Dank für Ihre Geduld!",
        f"Hallo zusammen, uns ist bekannt, dass es gerade Probleme gibt ({what}). Unser Technik-Team weiß "
        "Bescheid und arbeitet mit Hochdruck an einer Lösung. Wir melden uns hier, sobald alles wieder "
        "funktioniert. Danke für eure Geduld!",
    )
