"""Incident titles from the reports (incidents/title.py): short, German, never a subject cut mid-word."""

from __future__ import annotations

from sirene.incidents import title


def test_an_error_code_and_the_area_make_the_title_and_customers_get_no_code() -> None:
    texts = [
        "Hallo, seit heute Morgen zeigt der Mitgliederbereich nur noch Fehler 502 im Club.",
        "Im Club-Bereich kommt 502 Bad Gateway",
        "Mitgliederbereich: Fehlermeldung 502",
    ]
    built = title.build(texts, category="app_error")
    assert built.title == "Fehler 502 im Mitgliederbereich (Club)"
    assert built.customer_title == "Störung im Mitgliederbereich" and "502" not in built.customer_title


def test_the_known_problem_title_wins() -> None:
    built = title.build(["Fehler 500"], known_problem_title="Zahlung fehlgeschlagen im Checkout")
    assert built.title == built.customer_title == "Zahlung fehlgeschlagen im Checkout"
    assert built.source == "known_problem"


def test_without_a_code_the_area_and_the_symptom() -> None:
    texts = ["Der Login-Code kommt bei GMX nicht an", "Anmeldecode kommt nicht an", "Kein Code beim Login"]
    assert title.build(texts, category="login").title == "Login: kommt nicht an"


def test_nothing_in_common_falls_back_to_the_category_and_long_text_is_cut_at_a_word() -> None:
    assert title.build(["abc", "xyz"], category="checkout").title == "Häufung: Checkout"
    cut = title._cut("Wort " * 60)
    assert len(cut) <= title.MAX_TITLE and cut.endswith("Wort…")


def test_the_representative_sentence_drops_greeting_and_sign_off() -> None:
    text = "Guten Tag, die Kursseite lädt nicht, es erscheint Fehler 502. Liebe Grüße Anna"
    assert title.representative_sentence(text) == "Die Kursseite lädt nicht, es erscheint Fehler 502."


def test_a_vague_area_title_gives_way_to_the_customers_words_and_what_sets_them_apart() -> None:
    """The walkthrough's INC-3 was titled "Probleme in der App" while the reports said what broke."""
    subjects = [
        "Meditationen spielen nicht mehr ab",
        "Audio lädt nicht",
        "Kein Ton bei den Übungen",
        "App Version 3.5.0 – Wiedergabe-Fehler",
        "Meditation startet nicht",
        "Hör-Lektionen gehen nicht",
    ]
    bodies = [
        "Seit dem Update kann ich in der App keine einzige Meditation mehr anhören.",
        "Die Audios im Kurs laden nicht mehr in der App.",
        "Der Player bleibt bei 0:00 stehen, in der App.",
        "In der App kommt Wiedergabe nicht möglich.",
        "Der Play-Knopf dreht sich endlos, die Meditation startet nicht in der App.",
        "Neu installieren der App hat nicht geholfen.",
    ]
    built = title.build(
        [f"{s}\n{b}" for s, b in zip(subjects, bodies, strict=True)],
        category="content",
        subjects=subjects,
        details=title.distinguishing(
            [
                {"attribute": "app_version", "value": "3.5.0", "customers": 6, "known": 6},
                {"attribute": "platform", "value": "android", "customers": 6, "known": 6},
                {"attribute": "os", "value": "android", "customers": 6, "known": 6},
                {"attribute": "client", "value": "app", "customers": 6, "known": 6},
            ]
        ),
    )
    assert built.title == "Meditationen spielen nicht mehr ab (App 3.5.0, Android)", built
    assert built.customer_title == "Meditationen spielen nicht mehr ab"
    assert "Probleme" not in built.title and "Störung in der App" != built.customer_title
