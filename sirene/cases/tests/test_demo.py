from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command

from sirene.accounts.models import User
from sirene.cases.models import Case
from sirene.incidents.models import Incident

pytestmark = pytest.mark.django_db


def test_the_demo_loads_a_living_list_opens_the_502_incident_and_is_idempotent(settings: Any) -> None:
    call_command("demo", stdout=io.StringIO())
    cases = Case.objects.count()
    assert cases >= 20
    assert Case.objects.filter(analysed_at__isnull=True).count() == 0
    assert len(set(Case.objects.values_list("category", flat=True))) >= 5
    burst = Incident.objects.filter(origin="auto", status="open")
    assert burst.count() == 1
    assert burst.get().cases.count() == 7
    assert User.objects.get(username="demo").check_password("sirene-demo")
    call_command("demo", stdout=io.StringIO())
    assert Case.objects.count() == cases
    assert Incident.objects.filter(origin="auto", status="open").count() == 1
