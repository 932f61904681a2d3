"""Tests of the pure similarity library (no Django, no database)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from sirene.similarity.cleaning import clean_report, clean_text
from sirene.similarity.encoders import CenteredEncoder, Encoder, HashingEncoder, default_encoder
from sirene.similarity.grouping import GroupSnapshot, OnlineGrouper, choose_group, updated_centroid
from sirene.similarity.index import ExactIndex
from sirene.similarity.matching import ProblemMatcher
from sirene.similarity.params import GroupingParams, MatchingParams

GERMAN_MAIL = """Hallo Frau Meier,

seit heute Morgen bekomme ich beim Login in das Kundenportal immer den Fehler 502 (Bad Gateway).
Meine Kundennummer ist 4001234567, die Bestellung 2024-889901 hängt deshalb fest.
Screenshot: https://portal.example-shop.de/login?session=abc123
Bitte melden Sie sich unter max.mustermann@musterfirma.de oder +49 171 1234567.

Mit freundlichen Grüßen
Max Mustermann
Musterfirma GmbH | Hauptstraße 1 | 12345 Berlin
Geschäftsführer: Erika Mustermann, Amtsgericht Berlin HRB 12345

Gesendet von meinem iPhone

Am Mo., 3. März 2025 um 10:12 Uhr schrieb Support Team <support@example-shop.de>:
> Sehr geehrter Herr Mustermann,
> vielen Dank für Ihre Nachricht. Wir haben Ihr Ticket erhalten.
"""

ENGLISH_MAIL = """Hi team,

The mobile app crashes with error 404 every time I open the invoices page.
It started after the update to version 3.2 yesterday.

Best regards,
Jane Doe
Head of Accounting, ACME Ltd.
--
This e-mail and any attachments are confidential. If you are not the intended recipient, delete it.

On Tue, Mar 4, 2025 at 9:00 AM Support <support@example.com> wrote:
> Hello Jane, thanks for reaching out.
"""

OUTLOOK_MAIL = """Sehr geehrte Damen und Herren,

die SEPA-Lastschrift wurde zweimal abgebucht.

Viele Grüße
Anna Schmidt

-----Original Message-----
From: Billing <billing@example.com>
Sent: Monday, March 3, 2025 8:00 AM
Subject: Ihre Rechnung
"""

HTML_MAIL = """<html><head><style>p {color: red}</style></head><body>
<p>Hallo zusammen,</p><p>der Drucker im 2. OG zeigt <b>Fehler 500</b> beim Scannen.</p>
<p>Viele Grüße<br>Tom</p>
<div class="gmail_quote">Am 1. März schrieb IT:<blockquote>Alte Nachricht über Passwort</blockquote></div>
</body></html>"""


class TestCleaning:
    def test_german_mail_keeps_problem_and_error_code(self) -> None:
        out = clean_text(GERMAN_MAIL)
        assert "Fehler 502" in out and "Login" in out and "Kundenportal" in out
        for gone in (
            "Hallo",
            "Mustermann",
            "Grüßen",
            "iPhone",
            "schrieb",
            "Ticket erhalten",
            "Geschäftsführer",
        ):
            assert gone not in out, gone
        assert "[NUM]" in out and "4001234567" not in out and "2024-889901" not in out
        assert "[URL]" in out and "example-shop" not in out
        assert "[EMAIL]" in out and "@" not in out

    def test_english_mail(self) -> None:
        out = clean_text(ENGLISH_MAIL)
        assert "error 404" in out and "version 3.2" in out
        for gone in ("Hi team", "Jane", "regards", "confidential", "wrote", "reaching out"):
            assert gone not in out, gone

    def test_outlook_quote_and_greeting(self) -> None:
        out = clean_text(OUTLOOK_MAIL)
        assert out == "die SEPA-Lastschrift wurde zweimal abgebucht."

    def test_html_mail(self) -> None:
        out = clean_text(HTML_MAIL)
        assert "Drucker" in out and "Fehler 500" in out
        assert "Passwort" not in out and "color" not in out and "Tom" not in out and "<" not in out

    def test_greeting_sharing_line_with_content(self) -> None:
        assert (
            clean_text("Hi, the app crashes when I upload a file.") == "the app crashes when I upload a file."
        )

    @pytest.mark.parametrize(
        "raw",
        [
            "",
            "   \n\n ",
            None,
            "-- \nMax Mustermann\nTel. 030 1234567",
            "Mit freundlichen Grüßen\nMax Mustermann\nMusterfirma GmbH",
            "Am 3. März 2025 um 10:12 schrieb Support <s@example.de>:\n> alte Nachricht\n> noch mehr",
            "> only quoted\n> lines here",
            "Gesendet von meinem iPhone",
            bytes(range(256)) * 40,
            os.urandom(5000),
        ],
    )
    def test_bad_input_returns_empty(self, raw: str | bytes | None) -> None:
        assert clean_text(raw) == ""

    def test_bytes_with_invalid_utf8(self) -> None:
        out = clean_text("Fehler 404 beim Öffnen der Rechnung".encode() + b"\xff\xfe")
        assert out.startswith("Fehler 404 beim Öffnen der Rechnung")

    def test_huge_input_is_truncated(self) -> None:
        out = clean_text("Der Export bricht mit Timeout ab. " * 40_000)  # ~1.3 MB
        assert 0 < len(out) <= 4000 and out.startswith("Der Export bricht")

    def test_idempotent(self) -> None:
        for mail in (GERMAN_MAIL, ENGLISH_MAIL, OUTLOOK_MAIL, HTML_MAIL):
            once = clean_text(mail)
            assert clean_text(once) == once

    @pytest.mark.parametrize(
        ("subject", "body", "kept", "gone"),
        [
            # The greeting of the BODY goes (the subject leads the report, so it is not "first").
            (
                "App stürzt ab",
                "Hallo Support,\nDie App schmiert beim Öffnen ab.\n\nGruß Wolf",
                "schmiert",
                ["Hallo", "Wolf", "Gruß"],
            ),
            (
                "Absturz",
                "Sali,\nApp geht auf und sofort wieder zu.\nMerci und Gruss Urs",
                "sofort wieder zu",
                ["Sali", "Urs"],
            ),
            (
                "",
                "Hoi zäme,\nBenachrichtigung angetippt -> falsche Lektion.\nGesendet von Android Mail",
                "falsche Lektion",
                ["Hoi", "Android Mail"],
            ),
            (
                "Help",
                "Hallo, die App startet nicht mehr.\nDanke euch! Florian\nGesendet mit der GMX Mail App",
                "startet nicht",
                ["Help", "Florian", "GMX"],
            ),
            (
                "Bitte um Hilfe",
                "Ein Mitglied schreibt mir ständig.\n\nMonika Becker\nBecker Coaching & Beratung\nMobil: 0171 2345678",
                "ständig",
                ["Hilfe", "Becker", "Mobil"],
            ),
            (
                "Nochmal: Login-Code",
                "der Code kommt nicht an. Danke & baba, Daniel",
                "Code kommt nicht an",
                ["Nochmal", "baba", "Daniel"],
            ),
            (
                "Fehler",
                "Grüezi, das Quiz speichert nicht.\nVon meinem Samsung Galaxy Smartphone gesendet.",
                "Quiz speichert nicht",
                ["Fehler", "Grüezi", "Samsung"],
            ),
        ],
    )
    def test_clean_report_keeps_the_problem_and_drops_the_letter_around_it(
        self, subject: str, body: str, kept: str, gone: list[str]
    ) -> None:
        out = clean_report(subject, body)
        assert kept in out
        for word in gone:
            assert word not in out, (word, out)

    def test_a_greeting_that_is_also_a_goodbye_opens_the_mail(self) -> None:
        # "Servus" greets and says goodbye: as the first line it is a greeting, not the closing.
        assert clean_report("", "Servus,\nDas Video lädt nicht.\nServus, Toni") == "Das Video lädt nicht."

    def test_a_short_last_line_that_is_the_problem_stays(self) -> None:
        # Only a paragraph of bare capitalised words is a name; a one-paragraph mail keeps its end.
        assert clean_report("", "Seit heute\nKein Ton") == "Seit heute Kein Ton"

    def test_clean_report_strips_reply_prefix(self) -> None:
        out = clean_report("AW: WG: Fehler 502 beim Login", "Hallo,\nes geht immer noch nicht.\nLG")
        assert out == "Fehler 502 beim Login. es geht immer noch nicht."


@pytest.fixture(scope="session")
def use() -> Encoder:
    return default_encoder()


class TestEncoders:
    def test_hashing_shape_norm_and_empty(self) -> None:
        enc = HashingEncoder(dim=256)
        v = enc.encode(["Fehler 502 beim Login", "", "login error 502"])
        assert v.shape == (3, 256) and v.dtype == np.float32
        assert np.allclose(np.linalg.norm(v[[0, 2]], axis=1), 1.0, atol=1e-5)
        assert not v[1].any()
        assert np.array_equal(
            v, HashingEncoder(dim=256).encode(["Fehler 502 beim Login", "", "login error 502"])
        )

    def test_encode_rejects_bare_string(self) -> None:
        with pytest.raises(TypeError):
            HashingEncoder().encode("abc")

    def test_use_shape_norm_and_semantics(self, use: Encoder) -> None:
        v = use.encode(
            [
                "Meine Karte ist noch nicht angekommen",
                "",
                "My card has not arrived yet",
                "Wie wird das Wetter morgen?",
            ]
        )
        assert v.shape == (4, 512) and v.dtype == np.float32
        assert np.allclose(np.linalg.norm(v[[0, 2, 3]], axis=1), 1.0, atol=1e-4)
        assert not v[1].any()
        assert v[0] @ v[2] > v[0] @ v[3] + 0.2  # cross-lingual paraphrase beats unrelated German
        assert isinstance(use, CenteredEncoder) and use is default_encoder()


class TestGrouping:
    def test_choose_group_threshold_and_margin(self) -> None:
        params = GroupingParams(threshold=0.5, member_weight=0.0)
        a = np.array([1.0, 0.0, 0.0], dtype=np.float32)
        b = np.array([0.0, 1.0, 0.0], dtype=np.float32)
        groups = [GroupSnapshot(7, a, 3), GroupSnapshot(9, b, 1)]
        gid, score = choose_group(np.array([0.8, 0.6, 0.0], dtype=np.float32), groups, params)
        assert gid == 7 and score == pytest.approx(0.8)
        gid, score = choose_group(np.array([0.0, 0.0, 1.0], dtype=np.float32), groups, params)
        assert gid is None and score == pytest.approx(0.0)
        assert choose_group(np.zeros(3, dtype=np.float32), groups, params) == (None, 0.0)
        assert choose_group(a, [], params) == (None, 0.0)
        assert choose_group(a, GroupSnapshot(1, a, 1), params)[0] == 1

    def test_member_term_uses_nearest_member(self) -> None:
        params = GroupingParams(threshold=0.75, member_weight=1.0)
        centroid = np.array([1.0, 1.0, 0.0], dtype=np.float32) / 2
        members = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=np.float32)
        vec = np.array([1.0, 0.0, 0.0], dtype=np.float32)
        assert choose_group(vec, [GroupSnapshot(1, centroid, 2, members)], params)[0] == 1
        assert (
            choose_group(vec, [GroupSnapshot(1, centroid, 2)], params)[0] is None
        )  # cos 0.707 vs centroid only

    def test_updated_centroid_is_running_mean(self) -> None:
        c = updated_centroid(
            np.array([1.0, 0.0], dtype=np.float32), 3, np.array([0.0, 1.0], dtype=np.float32)
        )
        assert np.allclose(c, [0.75, 0.25]) and c.dtype == np.float32

    def test_online_grouper_groups_paraphrases(self) -> None:
        g = OnlineGrouper(HashingEncoder(), GroupingParams(threshold=0.5))
        texts = [
            "Drucker druckt nicht",
            "Der Drucker druckt nicht mehr",
            "Passwort vergessen",
            "",
            "Ich habe mein Passwort vergessen",
        ]
        ids = [g.add(t) for t in texts]
        assert ids[0] == ids[1] and ids[2] == ids[4] and ids[0] != ids[2]
        assert ids[3] not in (ids[0], ids[2])  # empty text never joins a group
        assert g.counts()[ids[0]] == 2

    def test_deterministic_for_same_order(self) -> None:
        rng = np.random.default_rng(1)
        base = rng.standard_normal((5, 32)).astype(np.float32)
        vecs = np.repeat(base, 20, axis=0) + 0.6 * rng.standard_normal((100, 32)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        order = rng.permutation(100)

        def run(v: np.ndarray) -> list[int]:
            g = OnlineGrouper(
                HashingEncoder(dim=32), GroupingParams(threshold=0.5, member_weight=0.3, shortlist=3)
            )
            return [g.add_vector(x) for x in v]

        assert run(vecs[order]) == run(vecs[order])
        assert run(vecs) == run(vecs.copy())

    def test_grouper_decisions_match_pure_function(self) -> None:
        """The DB-backed grouping calls choose_group on snapshots; OnlineGrouper must agree with it."""
        enc = HashingEncoder(dim=128)
        params = GroupingParams(threshold=0.4, member_weight=0.5, shortlist=50)
        texts = [f"Fehler {c} beim {w}" for c in (404, 500, 502) for w in ("Login", "Export", "Drucken")]
        g = OnlineGrouper(enc, params, clean=False)
        for vec in enc.encode(texts):
            snaps = [g.snapshot(i) for i in range(g.n_groups)]
            expected, _ = choose_group(vec, snaps, params)
            got = g.add_vector(vec)
            assert got == (g.n_groups - 1 if expected is None else expected)


class TestIndex:
    def test_matches_brute_force_and_remove(self) -> None:
        rng = np.random.default_rng(0)
        vecs = rng.standard_normal((300, 16)).astype(np.float32)
        idx = ExactIndex(16, capacity=4)
        idx.add([f"c{i}" for i in range(300)], vecs)
        q = rng.standard_normal(16).astype(np.float32)
        unit = vecs / np.linalg.norm(vecs, axis=1, keepdims=True)
        brute = np.argsort(-(unit @ (q / np.linalg.norm(q))))[:5]
        res = idx.search(q, 5)
        assert [r[0] for r in res] == [f"c{i}" for i in brute]
        assert res[0][1] >= res[-1][1]
        assert idx.remove([res[0][0], "unknown"]) == 1
        assert idx.search(q, 1)[0][0] == f"c{brute[1]}" and len(idx) == 299
        assert [r[0] for r in idx.search_many(q[None, :], 4)[0]] == [f"c{i}" for i in brute[1:5]]
        assert idx.search(np.zeros(16, dtype=np.float32), 3) == []


class TestMatcher:
    EXAMPLES = [
        ("login_502", "Fehler 502 beim Login"),
        ("login_502", "Bad Gateway wenn ich mich anmelde"),
        ("invoice_missing", "Ich habe keine Rechnung erhalten"),
        ("invoice_missing", "Wo finde ich meine Rechnung?"),
        ("printer", "Der Drucker druckt nicht"),
        ("printer", "Drucker zeigt Papierstau"),
    ]

    def test_rank_and_learning(self) -> None:
        m = ProblemMatcher(HashingEncoder(), MatchingParams(knn_weight=0.5)).fit(self.EXAMPLES)
        ranked = m.rank("Beim Login kommt Fehler 502", k=3)
        assert ranked[0][0] == "login_502" and len(ranked) == 3
        assert all(0.0 <= c <= 1.0 for _, c in ranked) and ranked[0][1] >= ranked[1][1]
        query = "Scanner meldet Zeitüberschreitung beim Hochladen"
        before = m.rank(query, k=1)[0][0]
        assert before != "scanner_timeout"
        m.add_example("scanner_timeout", "Scanner meldet Zeitüberschreitung")
        assert m.rank(query, k=1)[0][0] == "scanner_timeout"
        assert m.rank("", k=3) == [] and m.rank("> nur Zitat", k=3) == []

    def test_real_model_matches_paraphrase(self, use: Encoder) -> None:
        m = ProblemMatcher(use).fit(self.EXAMPLES)
        assert m.rank("Ich kann mich nicht einloggen, Server antwortet mit 502", k=1)[0][0] == "login_502"


BENCH_DATA = Path(__file__).parent / "data"  # small German support texts of our own: a clone has no ../shared


def test_bench_smoke(capsys: pytest.CaptureFixture[str], use: Encoder) -> None:
    from sirene.bench import grouping, kb

    train, test = str(BENCH_DATA / "support_train.csv"), str(BENCH_DATA / "support_test.csv")
    assert grouping.run(["--quick", "--json", "--data", test, "--no-sts"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("nmi", "ari", "bcubed_f1", "texts_per_s", "baselines", "peak_rss_mib"):
        assert key in out, key
    assert 0.0 <= out["nmi"] <= 1.0 and "use-naive" in out["baselines"]
    assert kb.run(["--quick", "--json", "--train", train, "--test", test, "--shots", "5"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"top1", "top3", "baselines"} <= set(out) and 0.0 <= out["top1"] <= out["top3"] <= 1.0
    assert out["top3"] >= 0.6  # five shots of five plain problems: the real encoder finds most of them

