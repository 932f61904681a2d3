"""Language checks in `make test`: the German catalogues are complete, and a crawl of every kind of page
as the demo lead finds no English or internal words in German and no German in the English UI chrome."""

from __future__ import annotations

from typing import Any

import pytest

from sirene.web import catalogues
from sirene.web.crawl import crawl

START = [
    "/", "/cases/", "/incidents/", "/knowledge/", "/escalation/", "/helpdesk/outbox/", "/helpdesk/templates/",
    "/metrics/", "/settings/", "/troubleshooting/my-cases/", "/troubleshooting/open-questions/",
    "/troubleshooting/overdue/", "/escalation/policies/1/?absent=Tara&no_answer=Piwi&ack_at=30",
]
# Demo data that happens to be spelt like a German UI word (the policy is called "Standard").
DATA = {"Standard"}


def test_every_german_catalogue_is_complete_and_compiled() -> None:
    paths = catalogues.german_catalogues()
    assert len(paths) >= 7
    problems = [p for path in paths for p in catalogues.problems(path)]
    assert problems == []


def test_the_catalogue_check_sees_fuzzy_untranslated_and_stale_entries(tmp_path: Any) -> None:
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        '#, fuzzy\nmsgid "Open"\nmsgstr "Offen"\n\nmsgid "Closed"\nmsgstr ""\n\nmsgid "New"\nmsgstr "Neu"\n',
        encoding="utf-8",
    )
    found = catalogues.problems(po)
    assert any("fuzzy: 'Open'" in p for p in found) and any("untranslated: 'Closed'" in p for p in found)
    assert any("missing" in p for p in found)


@pytest.mark.django_db
def test_a_crawl_as_the_demo_lead_finds_no_wrong_language(client: Any) -> None:
    from django.core.management import call_command

    from sirene.accounts.models import User
    from sirene.worker.loop import STEPS

    call_command("demo", verbosity=0)
    for _name, step in STEPS:  # one worker pass (the escalation's first steps: Slack post, timeline)
        step()
    lead = User.objects.get(username="demo")
    assert lead.is_lead
    client.force_login(lead)
    german = crawl(client, START, "de")
    assert len(german.pages) >= 35
    assert {text: sorted(pages) for text, pages in german.findings.items()} == {}
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    english = crawl(client, START, "en")
    assert len(english.pages) >= 35
    leftovers = {text: sorted(pages) for text, pages in english.findings.items() if text not in DATA}
    assert leftovers == {}
