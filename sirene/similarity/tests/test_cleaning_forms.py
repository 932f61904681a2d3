"""The mail forms a helpdesk really delivers: each keeps the customer's own words and drops the rest.

Pure tests of `similarity.cleaning` (no Django, no database). The examples are written for these tests.
"""

from __future__ import annotations

from sirene.similarity.cleaning import clean_report, clean_text, common_lines, line_key, report_keys

CHAT_WITH_ROLES = """Chat-Transkript vom 11.02.2025
Gestartet: 11.02.2025 20:14
Seite: https://www.tanzschule-online.de/meine-kurse
Browser: Firefox 134 / Windows 11

[20:14] Tanzwelt-Bot: Hallo! Wobei können wir dir helfen?
[20:14] Besucher: die Musik in der Salsa-Lektion 4 ist komplett stumm
[20:15] Tanzwelt-Bot: Danke! Ich verbinde dich mit einer Kollegin.
[20:17] Miriam (Support): Hallo, welches Gerät nutzt du denn?
[20:18] Besucher: Laptop, im Handy-Browser genauso
[20:19] Miriam (Support): Danke dir, ich gebe das an die Technik weiter!
"""

CHAT_WITH_NAMES = """Chatverlauf

Tanzwelt: Hallo! Wobei können wir dir helfen?
Ralf Obermeier: Nach dem Bezahlen mit PayPal lande ich wieder im Warenkorb,
der Kurs taucht nicht in meinem Konto auf.
Tanzwelt: Danke für deine Nachricht, gleich meldet sich jemand.
Svenja ist dem Chat beigetreten
Svenja: Hallo Ralf, wann hast du bezahlt?
Ralf Obermeier: vor zehn Minuten
"""

COLLEAGUE_FORWARD = """Hallo Technik,

könnt ihr euch das bitte anschauen? Die Kundin hat schon zweimal angerufen.

LG Jonas

---------- Weitergeleitete Nachricht ---------
Von: Renate Vogt <renate.vogt@posteo.de>
Datum: Mi., 12. Feb. 2025 um 07:40
Betreff: Zertifikat
An: <jonas@tanzwelt.de>

Guten Morgen,

beim Herunterladen meines Teilnahmezertifikats kommt nur eine leere Seite mit "Fehler 500".

Schöne Grüße
Renate Vogt
"""

OUTLOOK_FORWARD = """Bitte übernehmen, danke.
Gruß Mehmet

________________________________
Von: Klaus Pietsch <k.pietsch@pietsch-elektro.de>
Gesendet: Mittwoch, 12. Februar 2025 10:05
An: mehmet@tanzwelt.de
Betreff: Kalender-Export

Guten Tag,
der Export der Kurstermine in Outlook erzeugt eine leere ICS-Datei.
Mit freundlichen Grüßen
Klaus Pietsch
"""

OLD_THREAD_REPLY = """Hallo,

seit gestern Abend friert die App bei jedem Video nach wenigen Sekunden ein.

Danke
Tobias

Am Fr., 6. Dez. 2024 um 09:30 schrieb Tanzwelt <bestellung@tanzwelt.de>:
> Hallo Tobias,
>
> vielen Dank für deine Bestellung bei Tanzwelt! Deine Kurse findest du ab sofort im Mitgliederbereich.
>
> Dein Tanzwelt-Team
"""

FORM_MAIL = """Kontaktformular
Name: Gisela Hartmann
E-Mail: gisela.hartmann@t-online.de
Telefon: 0151 98765432
Nachricht: Der Bestätigungscode per SMS kommt nicht an,
obwohl ich die Nummer zweimal geprüft habe.
---
Diese E-Mail wurde über das Kontaktformular auf tanzwelt.de gesendet.
"""


class TestChatTranscript:
    def test_keeps_the_customers_turns_and_drops_bot_agent_and_header(self) -> None:
        out = clean_report("Chat-Transkript", CHAT_WITH_ROLES)
        assert out == "die Musik in der Salsa-Lektion 4 ist komplett stumm Laptop, im Handy-Browser genauso"

    def test_named_speakers_the_widget_greets_first_and_who_joins_is_staff(self) -> None:
        out = clean_report("Neue Chat-Anfrage", CHAT_WITH_NAMES)
        assert "Bezahlen mit PayPal" in out and "nicht in meinem Konto auf" in out and "zehn Minuten" in out
        for gone in ("Wobei können wir", "gleich meldet sich", "wann hast du bezahlt", "beigetreten", "Chat"):
            assert gone not in out, gone

    def test_a_transcript_on_one_line(self) -> None:
        line = "[10:01] Bot: Hallo! Wie können wir helfen? [10:01] Besucher: Der Kalender lädt nicht [10:02] Bot: Danke!"
        assert clean_text(line) == "Der Kalender lädt nicht"

    def test_a_mail_with_label_lines_is_no_transcript(self) -> None:
        # Repeated "Label: value" lines without a conversation (no alternating speakers) stay as they are.
        mail = "Das Video bleibt schwarz.\nBrowser: Chrome\nBrowser: Edge\nGerät: Laptop\nGerät: Tablet"
        assert clean_text(mail) == "Das Video bleibt schwarz. Browser: Chrome Browser: Edge Gerät: Laptop Gerät: Tablet"


class TestForward:
    def test_a_colleagues_forward_yields_the_customers_text_not_the_note(self) -> None:
        out = clean_report("WG: Zertifikat", COLLEAGUE_FORWARD)
        assert out == 'Zertifikat. beim Herunterladen meines Teilnahmezertifikats kommt nur eine leere Seite mit "Fehler 500".'

    def test_outlook_forward_is_recognised_by_the_subject(self) -> None:
        out = clean_report("WG: Kalender-Export", OUTLOOK_FORWARD)
        assert out == "Kalender-Export. der Export der Kurstermine in Outlook erzeugt eine leere ICS-Datei."
        # the same block in a reply is quoted history: the new text above it is the report
        assert clean_report("AW: Kalender-Export", OUTLOOK_FORWARD) == "Kalender-Export. Bitte übernehmen, danke."

    def test_a_forward_quoted_with_marks_below_a_reply_header(self) -> None:
        mail = (
            "Zur Info, siehe unten.\n\nAm 12.02.2025 um 07:40 schrieb Renate Vogt <renate.vogt@posteo.de>:\n"
            "> Hallo,\n> die Kursvideos bleiben seit heute schwarz.\n> Gruß Renate"
        )
        assert clean_report("Fwd: Videos", mail) == "Videos. die Kursvideos bleiben seit heute schwarz."

    def test_a_forward_of_the_companys_own_mail_keeps_the_note(self) -> None:
        mail = (
            "Laut dieser Mail ist das Paket zugestellt, bei mir ist aber nichts angekommen.\n\n"
            "---------- Forwarded message ---------\nFrom: Tanzwelt <versand@tanzwelt.de>\n"
            "Subject: Deine Bestellung ist unterwegs\n\nHallo Petra, dein Paket ist auf dem Weg zu dir!"
        )
        out = clean_report("Fwd: Deine Bestellung ist unterwegs", mail)
        assert out == "Laut dieser Mail ist das Paket zugestellt, bei mir ist aber nichts angekommen."

    def test_an_empty_forward_falls_back_to_the_note(self) -> None:
        mail = "Die Rechnung fehlt im Anhang.\n\n-----Weitergeleitete Nachricht-----\nVon: x@example.de\n\n"
        assert clean_text(mail) == "Die Rechnung fehlt im Anhang."


class TestReplyInAnOldThread:
    def test_old_subject_and_quoted_history_go(self) -> None:
        out = clean_report("AW: Deine Bestellung bei Tanzwelt", OLD_THREAD_REPLY)
        assert out == "seit gestern Abend friert die App bei jedem Video nach wenigen Sekunden ein."

    def test_a_reply_to_the_customers_own_ticket_keeps_its_subject(self) -> None:
        out = clean_report("AW: Zertifikat lädt nicht", "Immer noch dasselbe.\n\nAm 3. März schrieb Support <s@x.de>:\n> Hallo")
        assert out == "Zertifikat lädt nicht. Immer noch dasselbe."


class TestHtmlAndEntities:
    def test_outlook_html_with_nbsp(self) -> None:
        html = (
            '<html><body><p class="MsoNormal">Guten Tag,<o:p></o:p></p><p class="MsoNormal"><o:p>&nbsp;</o:p></p>'
            '<p class="MsoNormal">die&nbsp;Untertitel im Player sind&nbsp;verrutscht.<o:p></o:p></p>'
            '<p class="MsoNormal">Viele Grüße<br>Heinz</p></body></html>'
        )
        assert clean_text(html) == "die Untertitel im Player sind verrutscht."

    def test_entities_in_a_plain_text_body(self) -> None:
        out = clean_text("Hallo,&nbsp;der Ton &amp; das Bild laufen auseinander &#8211; seit heute.")
        assert out == "der Ton & das Bild laufen auseinander – seit heute."


class TestFormMail:
    def test_the_message_field_is_the_report(self) -> None:
        out = clean_report("Neue Nachricht über das Kontaktformular", FORM_MAIL)
        assert out == "Der Bestätigungscode per SMS kommt nicht an, obwohl ich die Nummer zweimal geprüft habe."

    def test_a_form_on_one_line(self) -> None:
        body = "Kontaktformular: Name: Gisela Hartmann E-Mail: g.h@t-online.de Nachricht: Der Code kommt nicht an."
        assert clean_report("Kontaktformular", body) == "Der Code kommt nicht an."

    def test_a_mail_with_a_question_field_below_its_text_is_no_form(self) -> None:
        mail = "Ich habe den Tango-Kurs gekauft.\nDie Videos laden aber nicht.\nFrage: Liegt das an mir?\nKundennummer: 4711"
        assert clean_text(mail).startswith("Ich habe den Tango-Kurs gekauft. Die Videos laden aber nicht.")


    def test_a_phone_number_inside_a_sentence_is_no_form(self) -> None:
        out = clean_text("Bitte rufen Sie mich an, Telefon: 0171 2345678, der Kalender lädt nicht.")
        assert out == "Bitte rufen Sie mich an, Telefon: [NUM], der Kalender lädt nicht."


class TestFootersAndSignOffs:
    def test_mobile_footers_go(self) -> None:
        for footer in (
            "Holen Sie sich Outlook für Android",
            "Outlook für iOS beziehen",
            "Von Yahoo Mail auf Android gesendet",
            "Sent from Yahoo Mail for iPhone",
        ):
            assert clean_text(f"Die Suche findet keine Kurse mehr.\n\n{footer}") == "Die Suche findet keine Kurse mehr."

    def test_well_wishes_close_the_mail(self) -> None:
        for closing in ("Bleibt gesund!", "Bleiben Sie gesund", "Schönes Wochenende!", "Besten Dank"):
            out = clean_text(f"Die Suche findet keine Kurse mehr.\n\n{closing}\nUrsula")
            assert out == "Die Suche findet keine Kurse mehr.", closing


def _recent(*reports: tuple[str, str, str]) -> frozenset[str]:
    return common_lines((who, report_keys(subject, body)) for who, subject, body in reports)


class TestBoilerplate:
    SIGNATURE = "Wir sind Ihr Partner für Tanz und Bewegung – seit 1998."

    def test_a_line_three_customers_sent_is_dropped(self) -> None:
        common = _recent(
            ("a@x.de", "Rechnung", f"Wo finde ich die Rechnung?\n{self.SIGNATURE}"),
            ("b@y.de", "Termin", f"Kann ich den Termin verschieben?\n{self.SIGNATURE}"),
            ("c@z.de", "Login", f"Das Login klappt nicht.\n{self.SIGNATURE}"),
        )
        assert line_key(self.SIGNATURE) in common
        out = clean_report("Video", f"Das Video startet nicht.\n{self.SIGNATURE}", common=common)
        assert out == "Video. Das Video startet nicht."

    def test_two_customers_or_one_customer_three_times_is_no_boilerplate(self) -> None:
        two = _recent(("a@x.de", "", self.SIGNATURE), ("b@y.de", "", self.SIGNATURE))
        same = _recent(*[("a@x.de", "", self.SIGNATURE)] * 3)
        assert line_key(self.SIGNATURE) not in two and line_key(self.SIGNATURE) not in same

    def test_a_common_line_that_is_the_whole_report_stays(self) -> None:
        common = _recent(*[(f"{n}@x.de", "", "Login geht nicht.") for n in "abc"])
        assert clean_report("", "Login geht nicht.", common=common) == "Login geht nicht."

    def test_a_reply_subject_many_customers_answered_goes_a_fresh_one_stays(self) -> None:
        common = _recent(*[(f"{n}@x.de", "Passwort vergessen", "Hilfe") for n in "abc"])
        assert clean_report("AW: Passwort vergessen", "Der Link ist abgelaufen.", common=common) == (
            "Der Link ist abgelaufen."
        )
        assert clean_report("Passwort vergessen", "Der Link ist abgelaufen.", common=common) == (
            "Passwort vergessen. Der Link ist abgelaufen."
        )
