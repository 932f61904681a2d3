"""Everyday questions never join a live incident without a yes (issue 18, point 5).

Tiny reports with hand-made vectors (no encoder): a watch's pulse display fails for six customers
(six wordings, each only moderately like the others), and a question asked every day in the days
before ("Kann ich die Uhr mit dem Tablet verbinden?") arrives worded a little like one of them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from django.db import transaction

from sirene.core import clock
from sirene.detection import proposals
from sirene.detection.models import Proposal
from sirene.flows import intake as intake_flow
from sirene.incidents.models import Incident
from sirene.incidents.tests.conftest import make_case

pytestmark = pytest.mark.django_db

DIM = 16
PULSE = [
    "Pulsanzeige bleibt leer",
    "Herzfrequenz fehlt komplett",
    "Puls wird nicht gemessen",
    "Herzschlag erscheint nirgends",
    "Pulswerte verschwunden",
    "Herzdaten leer seit heute",
    "Anzeige vom Puls ist weg",
]
TABLET = "Kann ich die Uhr mit dem Tablet verbinden?"


def _unit(v: np.ndarray) -> np.ndarray:
    out: np.ndarray = (v / np.linalg.norm(v)).astype(np.float32)
    return out


def _axis(i: int) -> np.ndarray:
    v = np.zeros(DIM, dtype=np.float32)
    v[i] = 1.0
    return v


def _pulse(i: int) -> np.ndarray:
    """Shared direction 1 plus a wording of its own: two of them have cosine 0.56."""
    return _unit(0.75 * _axis(1) + 0.66 * _axis(2 + i))


def _decide(email: str, text: str, vector: np.ndarray, at: Any = None) -> Any:
    case = make_case(email, text, vector=vector, at=at)
    with transaction.atomic():
        intake_flow.group_and_escalate(case)
    return case


def _incident_with_six_customers() -> Incident:
    now = clock.now()
    for day in (3, 2):  # the everyday question, asked by other customers in the days before
        for n in range(2):
            make_case(f"frage{day}{n}@example.org", TABLET, vector=_axis(0), at=now - timedelta(days=day))
    for i in range(6):
        _decide(f"puls{i}@example.org", PULSE[i], _pulse(i))
    return Incident.objects.get()


def test_an_everyday_question_is_proposed_not_linked_and_a_yes_links_it(agent: Any) -> None:
    incident = _incident_with_six_customers()
    # Nearer to its old look-alikes (0.75) than to the pulse report it resembles most (0.66).
    question = _decide("neu@example.org", TABLET, _unit(0.75 * _axis(0) + 0.66 * _pulse(0)))
    assert not incident.cases.filter(pk=question.pk).exists()
    [proposal] = proposals.proposals_for(question)
    assert proposal.incident == incident and proposal.answer == Proposal.Answer.OPEN
    # The next report of the same kind does not ask twice.
    assert proposals.propose(question, incident) == proposal

    proposals.answer(proposal, same=True, user=agent)
    assert incident.cases.filter(pk=question.pk).exists()
    assert proposals.proposals_for(question) == []
    proposal.refresh_from_db()
    assert proposal.answer == Proposal.Answer.YES and proposal.answered_by == agent


def test_a_no_keeps_it_out_and_a_new_report_of_the_problem_still_joins_by_itself() -> None:
    incident = _incident_with_six_customers()
    question = _decide("neu@example.org", TABLET, _unit(0.75 * _axis(0) + 0.66 * _pulse(0)))
    [proposal] = proposals.proposals_for(question)
    proposals.answer(proposal, same=False)
    assert not incident.cases.filter(pk=question.pk).exists()
    assert Proposal.objects.get().answer == Proposal.Answer.NO
    # The 7th customer of the pulse problem has no look-alikes before the window: joins at once.
    seventh = _decide("puls6@example.org", PULSE[6], _pulse(6))
    assert incident.cases.filter(pk=seventh.pk).exists()
    assert Proposal.objects.count() == 1


def test_a_report_proposed_to_a_resolved_incident_does_not_count_again() -> None:
    from sirene.detection.decide import decide
    from sirene.incidents import services as incidents

    incident = _incident_with_six_customers()
    question = _decide("neu@example.org", TABLET, _unit(0.75 * _axis(0) + 0.66 * _pulse(0)))
    assert proposals.proposals_for(question)
    incidents.resolve(incident, resolution="Pulsmessung repariert")
    again = make_case("wieder@example.org", TABLET, vector=_unit(0.75 * _axis(0) + 0.66 * _pulse(0)))
    decision = decide(again)
    assert question.pk in decision.members  # the same problem as the proposed report …
    assert decision.counted == (again.pk,)  # … but only the new report counts
