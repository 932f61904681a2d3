"""Reading and changing lead settings; every change is written to the audit trail in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction

from sirene.accounts.models import User
from sirene.core import clock
from sirene.core.memo import per_page
from sirene.preferences.models import Preference, SettingChange


@dataclass(frozen=True)
class Spec:
    key: str
    env: str  # the Django setting holding the environment default
    fallback: str


SPECS = {
    s.key: s
    for s in (
        Spec("customer_voice", "CUSTOMER_VOICE", "sie"),
        Spec("facebook_person", "FACEBOOK_PERSON", ""),
        Spec("test_account_url", "TEST_ACCOUNT_NOTES_URL", ""),
        Spec("slack_channel", "SLACK_CHANNEL", "#customer-success"),
        Spec("slack_status_channel", "SLACK_STATUS_CHANNEL", "#customer-success-intern"),
        Spec("slack_customer_addresses", "SLACK_CUSTOMER_ADDRESSES", "show"),
    )
}


def env_default(key: str) -> str:
    spec = SPECS[key]
    return str(getattr(settings, spec.env, spec.fallback) or spec.fallback)


@per_page
def get(key: str) -> str:
    """The lead's value if one is set, else the environment's (read once per `page_scope`)."""
    row = Preference.objects.filter(key=key).first()
    return row.value if row is not None else env_default(key)


def overridden() -> set[str]:
    return set(Preference.objects.values_list("key", flat=True))


def audit(user: User | None, area: str, subject: str, field: str, old: Any, new: Any) -> None:
    SettingChange.objects.create(
        at=clock.now(),
        user=user,
        area=area,
        subject=str(subject)[:200],
        field=field[:50],
        old_value="" if old is None else str(old),
        new_value="" if new is None else str(new),
    )


@transaction.atomic
def save(values: dict[str, str], *, user: User | None) -> list[str]:
    """Store the values that differ from what is in effect; a value equal to the environment default
    removes the override. Returns the changed keys."""
    changed = []
    for key, value in values.items():
        if key not in SPECS:
            raise KeyError(key)
        current = get(key)
        if value == current:
            continue
        if value == env_default(key):
            Preference.objects.filter(key=key).delete()
        else:
            Preference.objects.update_or_create(
                key=key, defaults={"value": value, "updated_at": clock.now(), "updated_by": user}
            )
        audit(user, "preference", key, key, current, value)
        changed.append(key)
    return changed


def recent_changes(limit: int = 50) -> list[SettingChange]:
    return list(SettingChange.objects.select_related("user")[:limit])
