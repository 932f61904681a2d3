"""The keyed pseudonym an erased customer keeps, and the forms in which an address is looked for.

The pseudonym is HMAC-SHA256 over the normalised address (or `ext:<helpdesk id>` for a customer without
one), keyed with `SIRENE_PSEUDONYM_KEY` (falling back to `SIRENE_SECRET_KEY`). Deterministic, so one
customer stays one customer in every count after erasure (and erasing twice finds the same row);
keyed, so nobody without the key can test a guessed address against it. Rotating the key only means
that a customer erased before cannot be recognised by address any more (their rows stay pseudonymous).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re

from django.conf import settings

from sirene.core.validation import normalise_email_address

PREFIX = "gelöscht-"
ERASED = "[gelöscht]"


def key() -> bytes:
    secret = getattr(settings, "PSEUDONYM_KEY", "") or settings.SECRET_KEY
    return str(secret).encode("utf-8")


def digest(identity: str) -> str:
    return hmac.new(key(), identity.encode("utf-8"), hashlib.sha256).hexdigest()


def label(identity: str) -> str:
    """What the customer is called after erasure (`Customer.external_id`): "gelöscht-" + 16 hex digits
    (64 bits of the HMAC: no collision among the customers of one sirene)."""
    return PREFIX + digest(identity)[:16]


def normalise(email: str) -> str:
    """Lower-cased, NFC, domain in Unicode (as intake stores it); ValueError when it is no address."""
    return normalise_email_address(email)


def address_forms(email: str) -> list[str]:
    """Every spelling of one address sirene may have stored: as normalised, with the domain in
    punycode (IDN), and each as JSON writes it (\\u escapes), lower-cased."""
    forms = {email.lower()}
    local, _, domain = email.rpartition("@")
    try:
        forms.add(f"{local}@{domain.encode('idna').decode('ascii')}".lower())
    except UnicodeError:
        pass
    for form in list(forms):
        forms.add(json.dumps(form)[1:-1].lower())
    return sorted(forms, key=len, reverse=True)


def name_pattern(name: str) -> re.Pattern[str] | None:
    """The customer's full name as a whole phrase (any case, any run of spaces), or None for no name."""
    words = name.split()
    if not words or len(" ".join(words)) < 3:
        return None
    return re.compile(r"(?<!\w)" + r"\s+".join(re.escape(w) for w in words) + r"(?!\w)", re.IGNORECASE)
