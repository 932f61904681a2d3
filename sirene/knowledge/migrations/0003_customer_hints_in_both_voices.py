"""Known problems' customer hints carry both forms of address ("[Sie-Form|du-Form]"), so the single-case
reply renders them in the customer's voice (they were written with "du" only and mixed with a "Sie" reply).

Only a starter hint nobody edited is rewritten; a team's own text stays as it is (the knowledge form asks
for the markup the next time it is saved)."""

from django.db import migrations

STARTER = {
    "login-password-reset": [
        "Bitte nutze \"Passwort vergessen?\" auf der Login-Seite und gib die E-Mail-Adresse ein, mit der du gekauft hast.\nDer Link in der E-Mail ist 24 Stunden gültig und funktioniert nur einmal – fordere bei Bedarf einen neuen an.\nAchte beim Passwort auf Groß- und Kleinschreibung und kopiere es nicht mit Leerzeichen am Ende.",
        "Bitte [nutzen Sie|nutze] \"Passwort vergessen?\" auf der Login-Seite und [geben Sie|gib] die E-Mail-Adresse ein, mit der [Sie|du] gekauft [haben|hast].\nDer Link in der E-Mail ist 24 Stunden gültig und funktioniert nur einmal – [fordern Sie|fordere] bei Bedarf einen neuen an.\n[Achten Sie|Achte] beim Passwort auf Groß- und Kleinschreibung und [kopieren Sie|kopiere] es nicht mit Leerzeichen am Ende."
    ],
    "account-locked": [
        "Aus Sicherheitsgründen wird dein Konto nach mehreren falschen Passworteingaben für 30 Minuten gesperrt.\nWarte bitte kurz und setze dann über \"Passwort vergessen?\" ein neues Passwort.",
        "Aus Sicherheitsgründen wird [Ihr|dein] Konto nach mehreren falschen Passworteingaben für 30 Minuten gesperrt.\n[Warten Sie|Warte] bitte kurz und [setzen Sie|setze] dann über \"Passwort vergessen?\" ein neues Passwort."
    ],
    "two-factor-code": [
        "Codes sind nur wenige Minuten gültig – bitte immer den zuletzt angeforderten Code verwenden.\nStelle sicher, dass Datum und Uhrzeit auf deinem Handy automatisch eingestellt sind.",
        "Codes sind nur wenige Minuten gültig – bitte immer den zuletzt angeforderten Code verwenden.\n[Stellen Sie|Stelle] sicher, dass Datum und Uhrzeit auf [Ihrem|deinem] Handy automatisch eingestellt sind."
    ],
    "email-not-received": [
        "Bitte schau im Spam- bzw. Werbung-Ordner nach und füge unsere Absenderadresse zu deinen Kontakten hinzu.\nPrüfe auch, ob du beim Kauf eventuell eine andere E-Mail-Adresse verwendet hast.",
        "Bitte [schauen Sie|schau] im Spam- bzw. Werbung-Ordner nach und [fügen Sie|füge] unsere Absenderadresse zu [Ihren|deinen] Kontakten hinzu.\n[Prüfen Sie|Prüfe] auch, ob [Sie|du] beim Kauf eventuell eine andere E-Mail-Adresse verwendet [haben|hast]."
    ],
    "app-progress-not-syncing": [
        "Bitte melde dich in der App einmal ab und wieder an und achte darauf, dass du überall dieselbe E-Mail-Adresse nutzt.\nDer Fortschritt wird nur mit Internetverbindung übertragen – öffne die App kurz im WLAN.",
        "Bitte [melden Sie sich|melde dich] in der App einmal ab und wieder an und [achten Sie|achte] darauf, dass [Sie|du] überall dieselbe E-Mail-Adresse [nutzen|nutzt].\nDer Fortschritt wird nur mit Internetverbindung übertragen – [öffnen Sie|öffne] die App kurz im WLAN."
    ],
    "video-not-loading": [
        "Bitte lade die Seite neu, teste einen anderen Browser (z. B. Chrome oder Firefox) oder ein anderes WLAN.\nDeaktiviere testweise Werbeblocker oder VPN – diese blockieren manchmal den Videoplayer.",
        "Bitte [laden Sie|lade] die Seite neu, [testen Sie|teste] einen anderen Browser (z. B. Chrome oder Firefox) oder ein anderes WLAN.\n[Deaktivieren Sie|Deaktiviere] testweise Werbeblocker oder VPN – diese blockieren manchmal den Videoplayer."
    ],
    "pdf-download-wont-open": [
        "Auf dem Handy landet die Datei meist im Ordner \"Downloads\" bzw. in der App \"Dateien\".\nÖffne PDFs bitte mit einem PDF-Programm (z. B. Adobe Acrobat Reader) statt in der Vorschau des Browsers.",
        "Auf dem Handy landet die Datei meist im Ordner \"Downloads\" bzw. in der App \"Dateien\".\n[Öffnen Sie|Öffne] PDFs bitte mit einem PDF-Programm (z. B. Adobe Acrobat Reader) statt in der Vorschau des Browsers."
    ],
    "browser-cache": [
        "Bitte leere den Cache deines Browsers und lösche die Cookies für unsere Seite, dann lade die Seite neu.\nEin kurzer Test im privaten/Inkognito-Fenster zeigt, ob gespeicherte Daten die Ursache sind.",
        "Bitte [leeren Sie|leere] den Cache [Ihres|deines] Browsers und [löschen Sie|lösche] die Cookies für unsere Seite, dann [laden Sie|lade] die Seite neu.\nEin kurzer Test im privaten/Inkognito-Fenster zeigt, ob gespeicherte Daten die Ursache sind."
    ],
    "app-outdated": [
        "Bitte aktualisiere die App im App Store bzw. Google Play Store oder installiere sie neu.\nFalls dein Gerät kein Update mehr bekommt, kannst du alle Inhalte auch im Browser nutzen.",
        "Bitte [aktualisieren Sie|aktualisiere] die App im App Store bzw. Google Play Store oder [installieren Sie|installiere] sie neu.\nFalls [Ihr|dein] Gerät kein Update mehr bekommt, [können Sie|kannst du] alle Inhalte auch im Browser nutzen."
    ],
    "bad-gateway-502": [
        "Das ist eine Störung auf unserer Seite, nicht bei dir – unser Technik-Team ist informiert.\nBitte versuche es in etwa 30 Minuten erneut; wir melden uns, sobald alles wieder läuft.",
        "Das ist eine Störung auf unserer Seite, nicht bei [Ihnen|dir] – unser Technik-Team ist informiert.\nBitte [versuchen Sie|versuche] es in etwa 30 Minuten erneut; wir melden uns, sobald alles wieder läuft."
    ],
    "payment-failed": [
        "Bitte prüfe, ob deine Bank die Zahlung in der Banking-App (3-D Secure) freigegeben hat.\nAlternativ kannst du eine andere Zahlungsart wählen; doppelte Abbuchungen erstatten wir selbstverständlich.",
        "Bitte [prüfen Sie|prüfe], ob [Ihre|deine] Bank die Zahlung in der Banking-App (3-D Secure) freigegeben hat.\nAlternativ [können Sie|kannst du] eine andere Zahlungsart wählen; doppelte Abbuchungen erstatten wir selbstverständlich."
    ],
    "club-access-missing": [
        "Bitte melde dich mit der E-Mail-Adresse an, die du beim Kauf angegeben hast (siehe Bestellbestätigung).\nMelde dich einmal ab und wieder an, damit neue Inhalte geladen werden.",
        "Bitte [melden Sie sich|melde dich] mit der E-Mail-Adresse an, die [Sie|du] beim Kauf angegeben [haben|hast] (siehe Bestellbestätigung).\n[Melden Sie sich|Melde dich] einmal ab und wieder an, damit neue Inhalte geladen werden."
    ],
    "app-crashes": [
        "Bitte schließe die App vollständig, starte dein Gerät neu und öffne die App erneut.\nHilft das nicht, deinstalliere die App und installiere sie neu – dein Fortschritt bleibt in deinem Konto gespeichert.",
        "Bitte [schließen Sie|schließe] die App vollständig, [starten Sie|starte] [Ihr|dein] Gerät neu und [öffnen Sie|öffne] die App erneut.\nHilft das nicht, [deinstallieren Sie|deinstalliere] die App und [installieren Sie|installiere] sie neu – [Ihr|dein] Fortschritt bleibt in [Ihrem|deinem] Konto gespeichert."
    ],
    "voucher-code-rejected": [
        "Bitte gib den Code ohne Leerzeichen ein und prüfe, ob er für das gewählte Produkt und noch gültig ist.\nFalls der Rabatt nicht abgezogen wurde, melde dich gern mit deiner Bestellnummer – wir gleichen das aus.",
        "Bitte [geben Sie|gib] den Code ohne Leerzeichen ein und [prüfen Sie|prüfe], ob er für das gewählte Produkt und noch gültig ist.\nFalls der Rabatt nicht abgezogen wurde, [melden Sie sich|melde dich] gern mit [Ihrer|deiner] Bestellnummer – wir gleichen das aus."
    ]
}


def forwards(apps, schema_editor):
    KnownProblem = apps.get_model("knowledge", "KnownProblem")
    for key, (old, new) in STARTER.items():
        KnownProblem.objects.filter(key=key, customer_hints=old).update(customer_hints=new)


def backwards(apps, schema_editor):
    KnownProblem = apps.get_model("knowledge", "KnownProblem")
    for key, (old, new) in STARTER.items():
        KnownProblem.objects.filter(key=key, customer_hints=new).update(customer_hints=old)


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0002_german_admin_names")]
    operations = [migrations.RunPython(forwards, backwards)]
