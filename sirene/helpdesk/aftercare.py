"""★ "Hat der Fix gehalten?": the customers' answers after an incident's resolution reply, sorted.

A customer who answers on the ticket after the resolution reply went out (Groove webhook
`customer_replied`, `inbound._on_customer_replied`) gets one `AfterAnswer` row per helpdesk message:

* ``fixed`` – "funktioniert wieder", "works again", "behoben" (not negated), …
* ``still_broken`` – "immer noch", "geht nicht", "still not working", an error code, … or, without
  any cue, an answer that reads like the incident's own reports (the symptom told again);
* ``thanks`` – only thanks and greetings ("Danke!", "Thanks a lot");
* ``other`` – anything else (another topic, a question).

Cue words decide first (negation-aware: "geht wieder nicht" is still broken); the similarity to the
incident's reports (the stored sentence vectors, cosine of the mean of the best three) only decides
when no cue does. The quoted resolution reply under an answer is cut first ("ist behoben" in the
quote is no confirmation). Measured on the labelled set in `tests/test_aftercare.py`.

Two or more "still broken" answers within 48 h of the resolution raise one `AfterAlert`: the worker
sends one quiet line to the lead who resolved (Slack DM; the internal status channel when they have
no Slack id), and the incident page offers "Störung wieder öffnen" (`flows.incidents.reopen`).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.db import IntegrityError, transaction

from sirene.cases.models import Case
from sirene.core import clock
from sirene.helpdesk.models import AfterAlert, AfterAnswer, CustomerReply, ReplyKind, ReplyStatus
from sirene.incidents.models import Incident, IncidentStatus
from sirene.integrations.base import Message

log = logging.getLogger(__name__)

ALERT_HOURS = 48.0
ALERT_STILL_BROKEN = 2
# An answer without cue words whose mean best-3 cosine to the incident's reports reaches this tells
# the symptom again (chosen on the labelled set: the reports' own paraphrases score 0.5-0.8,
# unrelated questions below 0.35).
SIMILAR = 0.45

VERDICTS = ("fixed", "still_broken", "other", "thanks")

_QUOTE = [
    re.compile(r"^\s*(am|on)\s.{3,200}\s(schrieb|wrote)\b.*$", re.I),
    re.compile(r"^\s*-{2,}\s*(original message|ursprüngliche nachricht|originalnachricht)", re.I),
    re.compile(r"^\s*(von|from)\s*:", re.I),
    re.compile(r"^\s*_{10,}\s*$"),
]

_NEG = r"(?:nicht|nich|kein|keine|keinen|not|n't|no|nie|never)"
# "still broken" cues; matched on the normalised text (lower case, umlauts kept, ß kept).
_BROKEN = [
    r"\b(immer noch|noch immer|nach wie vor|weiterhin|wieder (?:das|der|die|den) (?:gleiche|selbe)|schon wieder)\b",
    r"\b(geht|funktioniert|klappt|läuft|lädt|laedt|komme|kann)\b[^.!?\n]{0,40}?\b(nicht|nich|kein)\b",
    r"\b(nicht|nie)\b[^.!?\n]{0,20}\b(behoben|gelöst|geloest|repariert|möglich)\b",
    r"\b(still|again)\b[^.!?\n]{0,40}(\bnot\b|n't\b|\bcannot\b|\b(broken|failing|fails|error|same|down|issue|problem)\b)",
    r"(\bnot\b|n't\b|\bnever\b|\bcannot\b)[^.!?\n]{0,20}\b(work|working|works|fixed|solved|resolved|load|loading)\b",
    r"\b(wieder|again|noch|still)\b[^.!?\n]{0,10}\b\d{3}\b",
    r"\b(still|same) (error|problem|issue|message)\b",
    r"\b(kaputt|broken|fehlermeldung|error message|gleiche fehler|gleichen fehler|selbe fehler|selben fehler)\b",
    r"\b(fehler|error|code)\s*[:#]?\s*[a-z]{0,5}-?\d{3,6}\b",
    r"\bleider\b[^.!?\n]{0,40}\b(nicht|kein|immer|wieder|noch)\b",
    r"\bunfortunately\b",
]
_FIXED = [
    r"\b(geht|funktioniert|klappt|läuft|laeuft|lädt|laedt|komme|kann)\b[^.!?\n]{0,30}\b(wieder|jetzt|nun|endlich)\b",
    r"\b(wieder|jetzt)\b[^.!?\n]{0,15}\b(geht|funktioniert|klappt|läuft|möglich|einloggen|rein|drin)\b",
    r"\b(behoben|gelöst|geloest|alles gut|alles bestens|alles wieder gut|passt wieder|passt jetzt|bestätigt|problem erledigt)\b",
    r"\b(works|working|work|fine|ok|okay)\b[^.!?\n]{0,20}\b(again|now)\b",
    r"\b(it|everything|all)\b[^.!?\n]{0,10}\b(works|working|good|fine)\b",
    r"\b(fixed|solved|resolved|sorted|confirmed)\b",
    r"\b(can|could) (log in|login|sign in|access|see|watch|open)\b[^.!?\n]{0,30}\b(again|now)\b",
    r"\b(einloggen|login|anmeldung|anmelden|es|das|seite|alles)\s+(funktioniert|klappt|geht|läuft)\b",
    r"\b(funktioniert|klappt|geht|läuft)\s+(es|das|alles)\b",
]
# Fixed cues that carry their own negation ("keine Probleme mehr", "no more errors").
_FIXED_NEGATED = [
    r"\b(keine (probleme|fehler|fehlermeldung|störung)(en)? mehr|kein (problem|fehler) mehr)\b",
    r"\bno (more |longer any )?(problems|issues|errors)( anymore)?\b",
]
_THANKS = re.compile(
    r"\b(danke(schön|sehr)?|vielen dank|herzlichen dank|besten dank|dankeschön|thank(s| you)?|thx|merci|cheers)\b"
)
# Words a thank-you note is made of besides the thanks (greetings, names are short, closings).
_FILLER = frozenset(
    """hallo hi hey liebe lieber liebes sehr geehrte geehrter team support guten tag morgen abend viele vielen
    grüße gruesse gruß gruss lg vg mfg beste besten herzliche freundlichen freundliche mit und für fuer die
    das den info information infos rückmeldung rueckmeldung nachricht antwort bescheid schnelle schnell super
    toll prima klasse perfekt wunderbar top ihr euer eure ihre ihnen euch dir dich dein so much a lot for the
    your you quick reply update message info kind regards best many great awesome very much and lot have nice
    day schönen wochenende letting know bescheid""".split()
)
_WORD = re.compile(r"[a-zäöüß0-9'-]+")


def _norm(text: str) -> str:
    return unicodedata.normalize("NFC", text or "").lower().replace("’", "'")


def own_words(body: str) -> str:
    """The customer's own lines: the quoted conversation below (the resolution reply) is cut."""
    out = []
    for line in (body or "").splitlines():
        if line.lstrip().startswith(">"):
            continue
        if any(r.match(line) for r in _QUOTE):
            break
        if "<!-- sirene:" in line or "<!--sirene" in line:
            break
        out.append(line)
    return "\n".join(out).strip()


@dataclass(frozen=True)
class Verdict:
    verdict: str
    cues: tuple[str, ...]
    similarity: float | None = None


def _hits(patterns: list[str], text: str) -> list[str]:
    return [m.group(0) for p in patterns for m in re.finditer(p, text)]


def _fixed_hits(text: str) -> list[str]:
    """Fixed cues that are not negated in their clause ("geht wieder nicht", "not fixed")."""
    out = []
    for p in _FIXED:
        for m in re.finditer(p, text):
            clause_end = re.search(r"[.!?\n]", text[m.end() :])
            tail = text[m.end() : m.end() + (clause_end.start() if clause_end else 30)][:30]
            head = text[max(0, m.start() - 15) : m.start()]
            if re.search(rf"\b{_NEG}\b", m.group(0) + " " + tail) or re.search(rf"\b{_NEG}\s*$", head):
                continue
            out.append(m.group(0))
    return out + _hits(_FIXED_NEGATED, text)


def classify(body: str, similarity: float | None = None) -> Verdict:
    """Sort one answer; `similarity`: its mean best-3 cosine to the incident's reports (None: unknown)."""
    text = _norm(own_words(body))
    if not text.strip():
        return Verdict("other", ())
    broken = _hits(_BROKEN, text)
    fixed = _fixed_hits(text)
    if broken and len(broken) >= len(fixed):
        return Verdict("still_broken", tuple(broken[:4]), similarity)
    if fixed:
        return Verdict("fixed", tuple(fixed[:4]), similarity)
    thanks = _THANKS.findall(text)
    words = [w for w in _WORD.findall(text) if not _THANKS.fullmatch(w)]
    rest = [w for w in words if w not in _FILLER and len(w) > 2]
    if thanks and len(rest) <= 2:
        return Verdict("thanks", ("danke",), similarity)
    if similarity is not None and similarity >= SIMILAR:
        return Verdict("still_broken", ("similar",), similarity)
    return Verdict("other", (), similarity)


def similarity_among(vectors: list[np.ndarray], body: str) -> float | None:
    """Mean of the best three cosines of the answer (its own words) to these report vectors."""
    from sirene.cases.embedding import embed

    text = own_words(body)
    vecs = [v for v in vectors if len(v)]
    if not text or not vecs:
        return None
    _clean, vector = embed("", text)
    mat = np.stack(vecs)
    if mat.shape[1] != len(vector):
        return None
    norms = np.linalg.norm(mat, axis=1) * max(float(np.linalg.norm(vector)), 1e-9)
    cos = (mat @ vector) / np.maximum(norms, 1e-9)
    k = min(3, len(cos))
    return float(np.sort(cos)[-k:].mean())


def similarity_to(incident: Incident, body: str) -> float | None:
    """`similarity_among` the incident's reports (their stored vectors)."""
    vectors = []
    for raw in incident.cases.exclude(embedding__isnull=True).values_list("embedding", flat=True):
        if raw is not None:
            vectors.append(np.frombuffer(bytes(raw), dtype=np.float32))
    return similarity_among(vectors, body)


# -- the Groove path -----------------------------------------------------------------------------


def _resolution_reply(case: Case) -> CustomerReply | None:
    """The sent resolution reply of a resolved incident on this case's ticket (the newest)."""
    return (
        CustomerReply.objects.filter(
            case=case,
            kind=ReplyKind.RESOLUTION,
            status=ReplyStatus.SENT,
            incident__status=IncidentStatus.RESOLVED,
        )
        .select_related("incident")
        .order_by("-sent_at")
        .first()
    )


def record(case: Case, message: Message) -> AfterAnswer | None:
    """A customer's message on a case's ticket: sorted and stored once when it answers a sent
    resolution reply (else None). Duplicate deliveries change nothing (one row per message id)."""
    if message.note or message.from_agent or not message.body.strip():
        return None
    reply = _resolution_reply(case)
    if reply is None or reply.sent_at is None or reply.incident is None:
        return None
    arrived = message.created_at or clock.now()
    if arrived < reply.sent_at:
        return None
    incident = reply.incident
    existing = AfterAnswer.objects.filter(incident=incident, message_id=message.id).first()
    if existing is not None:
        return existing
    try:
        similarity = similarity_to(incident, message.body)
    except Exception:  # the encoder failing must not lose the answer: cues alone then
        log.exception("after-resolution similarity failed for incident %s", incident.pk)
        similarity = None
    verdict = classify(message.body, similarity)
    try:
        with transaction.atomic():
            answer = AfterAnswer.objects.create(
                incident=incident,
                case=case,
                message_id=message.id[:100],
                verdict=verdict.verdict,
                cues=list(verdict.cues),
                similarity=verdict.similarity,
                received_at=arrived,
            )
    except IntegrityError:
        return AfterAnswer.objects.filter(incident=incident, message_id=message.id).first()
    if verdict.verdict == "still_broken":
        raise_alert_if_due(incident)
    return answer


def raise_alert_if_due(incident: Incident) -> AfterAlert | None:
    """≥ 2 customers "still broken" within 48 h of the resolution: one alert per resolution."""
    if incident.resolved_at is None:
        return None
    until = incident.resolved_at + timedelta(hours=ALERT_HOURS)
    broken = (
        AfterAnswer.objects.filter(
            incident=incident, verdict="still_broken", received_at__gte=incident.resolved_at, received_at__lte=until
        )
        .values("case__customer_id")
        .distinct()
        .count()
    )
    if broken < ALERT_STILL_BROKEN:
        return None
    try:
        with transaction.atomic():
            alert, _created = AfterAlert.objects.get_or_create(
                incident=incident, resolved_at=incident.resolved_at, defaults={"still_broken": broken}
            )
    except IntegrityError:
        return AfterAlert.objects.filter(incident=incident, resolved_at=incident.resolved_at).first()
    return alert


def summary(incident: Incident) -> dict[str, Any]:
    """{fixed, still_broken, other, thanks, no_answer, answered_to}: per customer who got the
    resolution reply, the verdict of their latest answer (no answer yet: no_answer)."""
    reached = set(
        CustomerReply.objects.filter(incident=incident, kind=ReplyKind.RESOLUTION, status=ReplyStatus.SENT)
        .values_list("case__customer_id", flat=True)
    )
    latest: dict[int, str] = {}
    for customer_id, verdict in AfterAnswer.objects.filter(incident=incident).order_by(
        "received_at", "id"
    ).values_list("case__customer_id", "verdict"):
        latest[customer_id] = verdict
    counts = Counter(latest.values())
    out: dict[str, Any] = {v: counts.get(v, 0) for v in VERDICTS}
    out["no_answer"] = len(reached - set(latest))
    out["answered_to"] = len(reached | set(latest))
    alert = AfterAlert.objects.filter(incident=incident).order_by("-raised_at").first()
    out["alert"] = alert is not None and incident.status == IncidentStatus.RESOLVED
    return out


def quiet_line(alert: AfterAlert) -> str:
    """The one line the lead gets (German, no mentions, nobody paged)."""
    incident = alert.incident
    return (
        f"Hat der Fix gehalten? {alert.still_broken} Kundinnen/Kunden melden nach der Lösung von "
        f"INC-{incident.pk} „{incident.title}“: noch kaputt. Störung wieder öffnen: "
        f"{settings.PUBLIC_URL}{incident.get_absolute_url()}"
    )


def post_pending_alerts(limit: int = 20) -> int:
    """Worker step: each alert's quiet line once (claimed before sending; a failed send is retried)."""
    from sirene.integrations.registry import chat_transport

    done = 0
    for alert in AfterAlert.objects.filter(posted_at__isnull=True).select_related(
        "incident", "incident__resolved_by"
    )[:limit]:
        if not AfterAlert.objects.filter(pk=alert.pk, posted_at__isnull=True).update(posted_at=clock.now()):
            continue
        lead = alert.incident.resolved_by
        try:
            if lead is not None and lead.slack_user_id:
                chat_transport().send_dm(lead.slack_user_id, quiet_line(alert))
            else:
                from sirene.preferences import services as preferences

                chat_transport().post_message(preferences.get("slack_status_channel"), quiet_line(alert))
        except Exception:
            log.exception("after-resolution alert %s: posting failed; retried by the next tick", alert.pk)
            AfterAlert.objects.filter(pk=alert.pk).update(posted_at=None)
            continue
        done += 1
    return done


def still_broken_since(incident: Incident, since: datetime) -> int:
    return AfterAnswer.objects.filter(incident=incident, verdict="still_broken", received_at__gte=since).count()

