"""German demo data: customers and tech cases across categories, so a new user sees a living list."""

from __future__ import annotations

from typing import Any

from sirene.accounts.models import Role, User


def ensure_demo_users(username: str, password: str) -> User:
    user, _ = User.objects.get_or_create(username=username, defaults={"first_name": "Demo", "role": Role.LEAD})
    user.role = Role.LEAD
    user.is_staff = True
    user.set_password(password)
    user.save()
    for name, first, role in [("lea", "Lea", Role.AGENT), ("luca", "Luca", Role.AGENT), ("tara", "Tara", Role.LEAD), ("piwi", "Piwi", Role.LEAD)]:
        agent, created = User.objects.get_or_create(username=name, defaults={"first_name": first, "role": role})
        if created:
            agent.set_unusable_password()
            agent.save()
    return user


def load(stdout: Any) -> None:
    stdout.write("cases demo: nothing yet")
