"""The siren post says „möglicherweise zwei Probleme“ (issue 18): real slack_sdk against the local
fake Slack; the line is in the first post when the detector noted the near miss at opening, it is
added in place when noted later, and it leaves in place when the team answered."""

from __future__ import annotations

from typing import Any

import pytest

from sirene.escalation.tests.helpers import work
from sirene.escalation.tests.test_siren_post import configured, open_automatic_incident, siren  # noqa: F401
from sirene.flows import team_loop
from sirene.incidents import team_loop as loop

pytestmark = pytest.mark.django_db


def _parts(incident: Any) -> tuple[list[int], list[int]]:
    ids = list(incident.cases.order_by("received_at", "id").values_list("pk", flat=True))
    return ids[:4], ids[4:]


def _line(text: str) -> str:
    return next((line for line in text.split("\n") if line.startswith("– möglicherweise zwei Probleme")), "")


def test_noted_at_opening_the_post_carries_the_near_miss(configured: Any, start: Any, agent: Any) -> None:  # noqa: F811
    incident = open_automatic_incident()
    a, b = _parts(incident)
    team_loop.note_possible_split(incident, a, b)
    work()
    parts = loop.split_parts(incident.__class__.objects.get(pk=incident.pk))
    line = _line(siren(configured)["text"])
    assert line == (
        f"– möglicherweise zwei Probleme: „{parts[0].quote}“ (4) / „{parts[1].quote}“ (2)"
        " – aufteilen auf der Störungsseite"
    )
    # "Ein Problem": the post is rewritten in place without the line, nobody is pinged again.
    team_loop.keep_near_miss(incident, user=agent)
    work()
    posted = siren(configured)
    updates = [u for u in configured.updates if u["ts"] == posted["ts"]]
    assert updates and _line(updates[-1]["text"]) == ""
    assert len([m for m in configured.posted_to("#customer-success") if not m.get("thread_ts")]) == 1


def test_noted_after_the_post_it_is_added_in_place(configured: Any, start: Any) -> None:  # noqa: F811
    incident = open_automatic_incident()
    work()
    posted = siren(configured)
    assert _line(posted["text"]) == ""
    a, b = _parts(incident)
    team_loop.note_possible_split(incident, a, b)
    work()
    updates = [u for u in configured.updates if u["ts"] == posted["ts"]]
    assert updates and "(4) / „" in _line(updates[-1]["text"])
