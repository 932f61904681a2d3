from __future__ import annotations

from sirene.accounts.models import ApiToken, User, hash_token
from sirene.core import clock


def authenticate_token(raw: str) -> User | None:
    """Return the active user owning this API token, or None."""
    if not raw:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=hash_token(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=clock.now())
    return token.user


def revoke_token(token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        token.save(update_fields=["revoked_at"])
