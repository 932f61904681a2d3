"""How sirene addresses customers: "Sie" (the default) or "du", from the lead's setting
(Einstellungen), else SIRENE_CUSTOMER_VOICE.

Every customer text (holding reply, delay notice, resolution, the single-case ready reply, the
Facebook group reply) picks its sentence through `say`, so one setting switches them all.
"""

from __future__ import annotations

from sirene.preferences import services as preferences

SIGNATURE_SIE = "Viele Grüße\nIhr Support-Team"
SIGNATURE_DU = "Viele Grüße\ndein Support-Team"


def voice() -> str:
    """"sie" or "du"."""
    return "du" if preferences.get("customer_voice") == "du" else "sie"


def say(sie: str, du: str) -> str:
    """The sentence in the configured voice."""
    return du if voice() == "du" else sie


def signature() -> str:
    return say(SIGNATURE_SIE, SIGNATURE_DU)
