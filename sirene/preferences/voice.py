"""How sirene addresses customers: "Sie" or "du" — one voice per conversation, never mixed.

Which voice a customer gets (`choose`; `helpdesk.services.voice_for` reads a case's conversation):
1. the voice of the first text this conversation already got (never a change within one conversation);
2. unless the lead forces the team voice ("immer Sie"/"immer du", Einstellungen), the customer's own form
   of address when they wrote one ("Hallo, kannst du …" → du; "Können Sie …" → Sie);
3. the team setting (Einstellungen, else SIRENE_CUSTOMER_VOICE).

Texts that are stored and edited by people (knowledge-base hints) carry both forms where the voice shows:
`[Sie-Form|du-Form]`, e.g. "Bitte [prüfen Sie|prüfe], ob [Ihre|deine] Bank …"; `in_voice` picks one.
`forms_of` finds the pronouns of either voice (the test that renders every customer text in both voices,
the mirror, and the check that refuses unmarked hints use it).
"""

from __future__ import annotations

import re

from sirene.preferences import services as preferences

SIGNATURE_SIE = "Viele Grüße\nIhr Support-Team"
SIGNATURE_DU = "Viele Grüße\ndein Support-Team"

SIE, DU = "sie", "du"
# "[Sie-Form|du-Form]": no brackets or bars inside either form.
ALTERNATIVE = re.compile(r"\[([^\[\]|]*)\|([^\[\]|]*)\]")

_WORD = re.compile(r"[A-Za-zÄÖÜäöüß]+")
_SENTENCE_END = re.compile(r"[.!?:;\n\"„“–-]\s*$")
_DU_WORDS = frozenset(
    {"du", "dich", "dir", "dein", "deine", "deinen", "deinem", "deiner", "deines", "euch", "euer", "eure",
     "euren", "eurem", "eurer", "eures"}
)
_SIE_WORDS = frozenset({"Sie", "Ihnen", "Ihr", "Ihre", "Ihren", "Ihrem", "Ihrer", "Ihres"})
# "Ihnen" is always the polite form; the others can open a sentence in the third person ("Sie lädt nicht").
_SIE_ALWAYS = frozenset({"Ihnen"})


def forms_of(text: str) -> dict[str, list[str]]:
    """The words of the Sie voice and of the du voice in `text` ({"sie": [...], "du": [...]})."""
    found: dict[str, list[str]] = {SIE: [], DU: []}
    for match in _WORD.finditer(text):
        word = match.group(0)
        if word.lower() in _DU_WORDS:
            found[DU].append(word)
            continue
        if word in _SIE_WORDS:
            before = text[: match.start()]
            sentence_start = not before.strip() or bool(_SENTENCE_END.search(before))
            if word in _SIE_ALWAYS or not sentence_start:
                found[SIE].append(word)
    return found


def customer_form(text: str) -> str | None:
    """The customer's own form of address in what they wrote, or None when they used none."""
    found = forms_of(text)
    sie, du = len(found[SIE]), len(found[DU])
    if sie == du:
        return None
    return SIE if sie > du else DU


def team_voice() -> str:
    """The team setting: "sie" or "du"."""
    value = preferences.get("customer_voice")
    return DU if value in (DU, "du_always") else SIE


def forced() -> bool:
    """The lead set "immer Sie" / "immer du": the customer's own form is not mirrored."""
    return preferences.get("customer_voice") in ("sie_always", "du_always")


def voice() -> str:
    """The team's voice (for texts with no single customer: previews, the Facebook groups)."""
    return team_voice()


def choose(customer_text: str, earlier: str | None) -> str:
    """The voice of one conversation: `earlier` (the voice its first text had, if any) wins, then the
    customer's own form in `customer_text` (unless the lead forces the team voice), then the team's."""
    if earlier in (SIE, DU):
        return str(earlier)
    if not forced():
        mirrored = customer_form(customer_text)
        if mirrored is not None:
            return mirrored
    return team_voice()


def in_voice(text: str, which: str | None = None) -> str:
    """`text` with every "[Sie-Form|du-Form]" replaced by the form of `which` (default: the team voice)."""
    which = which or voice()
    return ALTERNATIVE.sub(lambda m: m.group(1) if which == SIE else m.group(2), text)


def unmarked_forms(text: str) -> list[str]:
    """Forms of address written outside a "[Sie-Form|du-Form]" alternative (a stored customer text that
    would read wrong in the other voice)."""
    rest = ALTERNATIVE.sub(" ", text)
    found = forms_of(rest)
    return found[SIE] + found[DU]


def say(sie: str, du: str, which: str | None = None) -> str:
    """The sentence in `which` voice (default: the team voice)."""
    return du if (which or voice()) == DU else sie


def signature(which: str | None = None) -> str:
    return say(SIGNATURE_SIE, SIGNATURE_DU, which)
