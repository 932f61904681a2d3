"""A small labelled set of customers' answers to "ist behoben" (German and English), written for
issue 21 for an incident "Login in den Mitgliederbereich zeigt Fehler 502". Used by
`test_aftercare.py` to measure `helpdesk.aftercare.classify` (accuracy and confusion).

DEVELOPMENT: written first; the cue words were adjusted while looking at it.
HELD_OUT: written after the cue words were frozen, not used to tune them.
"""

from __future__ import annotations

DEVELOPMENT: list[tuple[str, str]] = [
    # fixed
    ("Hallo, jetzt funktioniert es wieder. Danke!", "fixed"),
    ("Login geht wieder, vielen Dank für die schnelle Hilfe.", "fixed"),
    ("Super, ich komme wieder in den Mitgliederbereich.", "fixed"),
    ("Bestätige: alles wieder gut.", "fixed"),
    ("Klappt wieder einwandfrei.", "fixed"),
    ("Ja, das Problem ist behoben, danke.", "fixed"),
    ("It works again, thanks a lot!", "fixed"),
    ("Confirmed, I can log in again.", "fixed"),
    ("All good now, the error is gone.", "fixed"),
    ("Fixed on my side, thank you.", "fixed"),
    ("Danke, kann mich jetzt wieder einloggen.", "fixed"),
    ("Läuft wieder!", "fixed"),
    ("Perfekt, funktioniert jetzt.", "fixed"),
    ("Works fine now.", "fixed"),
    ("Keine Probleme mehr, danke.", "fixed"),
    ("Habe es gerade getestet: Einloggen funktioniert.", "fixed"),
    ("Nach dem Neuladen klappt es.", "fixed"),
    # still broken
    ("Bei mir geht es immer noch nicht.", "still_broken"),
    ("Leider kommt weiterhin der Fehler 502.", "still_broken"),
    ("Ich kann mich nach wie vor nicht einloggen.", "still_broken"),
    ("Das ist nicht behoben, gleiche Fehlermeldung wie gestern.", "still_broken"),
    ("Still not working for me.", "still_broken"),
    ("I still get error 502 when I log in.", "still_broken"),
    ("Unfortunately the login still fails.", "still_broken"),
    ("Nope, same problem as before.", "still_broken"),
    ("Geht wieder nicht.", "still_broken"),
    ("Beim Anmelden im Mitgliederbereich erscheint nur Fehler 502.", "still_broken"),
    ("Es funktioniert leider nicht.", "still_broken"),
    ("Login zeigt weiterhin eine Fehlerseite.", "still_broken"),
    ("It's not fixed, I see the 502 page again.", "still_broken"),
    ("Ich komme immer noch nicht in den Mitgliederbereich, danke trotzdem.", "still_broken"),
    ("Seite lädt und dann kommt wieder die Fehlermeldung.", "still_broken"),
    ("Heute früh ging es, jetzt wieder 502.", "still_broken"),
    ("The page loads but I still can't see my courses.", "still_broken"),
    # only thanks
    ("Vielen Dank!", "thanks"),
    ("Danke für die Info.", "thanks"),
    ("Thanks!", "thanks"),
    ("Thank you for letting me know.", "thanks"),
    ("Herzlichen Dank für die Rückmeldung und viele Grüße", "thanks"),
    ("Danke schön, liebe Grüße Anna", "thanks"),
    ("Many thanks, have a nice day.", "thanks"),
    ("Merci beaucoup!", "thanks"),
    # another topic
    ("Wie kann ich meine Rechnung herunterladen?", "other"),
    ("Können Sie mir sagen, wann der nächste Kurs startet?", "other"),
    ("Ich möchte meine E-Mail-Adresse ändern.", "other"),
    ("How do I cancel my subscription?", "other"),
    ("Can you send me the invoice for November?", "other"),
    ("Danke, übrigens: wo finde ich die Aufzeichnung vom Webinar?", "other"),
    ("Thanks. Another question: is there a discount for students?", "other"),
    ("Ich habe eine neue Kreditkarte, wie ändere ich die Zahlungsdaten?", "other"),
    ("Wann kommt das neue Modul raus?", "other"),
    ("Please delete my account.", "other"),
    ("Kann ich den Kurs auch auf dem Tablet ansehen?", "other"),
    # with the quoted resolution reply below (the quote must not count)
    ("Danke, geht wieder.\n\nAm 20.11.2026 um 12:00 schrieb Support <support@example.de>:\n> Der Login ist wieder behoben.", "fixed"),
    ("Immer noch kaputt.\n\nOn Fri, Nov 20, 2026 at 12:00 PM Support wrote:\n> The login works again.", "still_broken"),
    ("Danke!\n\n-----Ursprüngliche Nachricht-----\nVon: Support\nDer Fehler ist behoben, es funktioniert wieder.", "thanks"),
]

HELD_OUT: list[tuple[str, str]] = [
    ("Jetzt ist alles wieder da, vielen Dank euch!", "fixed"),
    ("Hat funktioniert, ich bin wieder drin.", "fixed"),
    ("Yes, login is working again.", "fixed"),
    ("Great, the members area loads again.", "fixed"),
    ("Kann bestätigen, dass es wieder läuft.", "fixed"),
    ("Seit heute Mittag ist der Fehler weg.", "fixed"),
    ("Bei mir kommt immer noch Fehler 502.", "still_broken"),
    ("No, it's still broken on my iPad.", "still_broken"),
    ("Ich bekomme leider noch dieselbe Fehlermeldung.", "still_broken"),
    ("Der Login klappt bei mir noch nicht.", "still_broken"),
    ("I can no longer log in, same as before.", "still_broken"),
    ("Mitgliederbereich lädt nicht, 502 Bad Gateway.", "still_broken"),
    ("Danke für die Nachricht!", "thanks"),
    ("Thanks for the update, much appreciated.", "thanks"),
    ("Danke euch, schönes Wochenende!", "thanks"),
    ("Wo kann ich meine Adresse ändern?", "other"),
    ("Is there a recording of yesterday's live session?", "other"),
    ("Ich würde gern auf das Jahresabo wechseln.", "other"),
    ("Danke. Können Sie mir noch die Rechnung schicken?", "other"),
    ("Warum wurde mein Beitrag im Forum gelöscht?", "other"),
]
