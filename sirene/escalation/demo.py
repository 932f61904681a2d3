"""`sirene demo`: the four responders (placeholder Slack ids and numbers) and the default policy."""

from __future__ import annotations

from typing import Any

from sirene.escalation import services
from sirene.escalation.models import Person


def load(stdout: Any) -> None:
    people = {}
    for data in services.demo_people():
        person = Person.objects.filter(name=data["name"]).first()
        if person is None:
            person = services.save_person(
                name=data["name"], slack_user_id=data["slack_user_id"], phone=data["phone"], role=data["role"]
            )
        people[data["key"]] = person
    policy = services.ensure_default_policy(people)
    stdout.write(f"escalation: {len(people)} responders, policy {policy.name!r}\n")
