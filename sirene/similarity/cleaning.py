"""Cleaning of support e-mails before similarity: keep the customer's problem statement, drop the rest.

What is removed and why: quoted replies, signatures, greetings, closings and legal disclaimers are
shared by *unrelated* e-mails (every mail from one company ends with the same disclaimer, every
reply quotes the previous message), so left in they make different problems look alike.

What a helpdesk delivers around the customer's words is unwrapped first: a web form gives its message
field, a chat-widget transcript its customer's turns (not the bot's, the agents' or the header), a
forward the forwarded mail (the note above it is context), a reply its new text. Boilerplate that is
not on any list — a line several different customers sent verbatim in recent days — is passed in by
the caller as ``common`` (:func:`common_lines`, a pure function over the recent reports' line keys).

What is masked: e-mail addresses, URLs and long numbers (>= 6 digits: order/customer numbers,
IBANs, phone numbers) become placeholder tokens ``[EMAIL]``, ``[URL]``, ``[NUM]``. They identify a
customer or an order, not a problem, and would otherwise make two reports about the same problem
look different. Short numbers are kept on purpose: HTTP status and error codes ("502", "Fehler
500", "E-1042") are often the strongest signal of *which* problem it is.

Robustness: accepts ``str`` or ``bytes`` (decoded as UTF-8 with replacement), never raises, returns
``""`` for empty input, binary garbage, or mails that are nothing but quote/signature; callers treat
``""`` as "no suggestion". Very long input is cut before the regexes run and the result is cut to
:data:`~sirene.similarity.params.MAX_CLEAN_CHARS`. The output is idempotent:
``clean_text(clean_text(x)) == clean_text(x)``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection, Iterable
from html.parser import HTMLParser

from sirene.similarity.params import BOILERPLATE_MIN_CUSTOMERS, MAX_CLEAN_CHARS, MAX_RAW_CHARS

__all__ = [
    "clean_report",
    "clean_text",
    "common_lines",
    "html_to_text",
    "line_key",
    "looks_like_html",
    "report_keys",
]

EMAIL_TOKEN = "[EMAIL]"
URL_TOKEN = "[URL]"
NUM_TOKEN = "[NUM]"

_HTML_RE = re.compile(r"<\s*(html|body|div|p|br|table|span|blockquote|head|meta|!doctype|font|td)\b", re.I)

# -- quoted replies: everything from the first of these lines on is the previous conversation.
_QUOTE_HEADER_RES = [
    re.compile(r"^\s*Am\s.{3,200}\sschrieb\s*.{0,200}:\s*$", re.I),
    re.compile(r"^\s*On\s.{3,200}\swrote\s*:\s*$", re.I),
    re.compile(r"^\s*Le\s.{3,200}\sa écrit\s*:\s*$", re.I),
    re.compile(r"^\s*-{2,}\s*(Original Message|Ursprüngliche Nachricht|Originalnachricht)\s*-{2,}\s*$", re.I),
    re.compile(r"^\s*_{10,}\s*$"),  # Outlook's separator line above the quoted header block
]
# "Von: X" followed within a few lines by "Gesendet:"/"Sent:"/"Datum:" is an Outlook quote header.
_FROM_RE = re.compile(r"^\s*\*?(Von|From)\s*:\*?\s", re.I)
_SENT_RE = re.compile(r"^\s*\*?(Gesendet|Sent|Datum|Date)\s*:\*?\s", re.I)
_FORWARD_RE = re.compile(
    r"^\s*-{2,}\s*(Forwarded message|Weitergeleitete Nachricht|Anfang der weitergeleiteten Nachricht)"
    r"\s*:?\s*-{0,}\s*$",
    re.I,
)
_HEADER_LINE_RE = re.compile(r"^\s*\*?(Von|From|An|To|Cc|Betreff|Subject|Datum|Date|Gesendet|Sent)\s*:", re.I)

# -- signatures / closings: the rest of the mail after one of these is signature.
_CLOSING_WORDS = (
    r"(mit\s+)?(freundlichen|freundliche|freundlichem|viele|vielen|beste|besten|liebe|lieben|sch(ö|oe)ne|sch(ö|oe)nen"
    r"|herzliche|herzlichen|sonnige|sonnigen)?\s*gr(ü|ue|u)(ß|ss)(e|en)?"
    r"|gru(ß|ss)|mfg|lg|vg|glg|bg|best\s+regards|kind\s+regards|warm\s+regards|regards|best\s+wishes|best|cheers"
    r"|sincerely|yours\s+sincerely|yours\s+truly|thanks(\s+(a\s+lot|in\s+advance|so\s+much))?"
    r"|thank\s+you(\s+(in\s+advance|so\s+much))?|many\s+thanks|thx|(besten|herzlichen)\s+dank|vielen\s+dank(\s+(im\s+voraus|vorab|schon\s+mal))?"
    r"|danke(sch(ö|oe)n)?(\s+(im\s+voraus|vorab|schon\s+mal|euch|dir|ihnen))?|merci(\s+vielmal)?"
    r"|(danke|merci)\s+und\s+gru(ß|ss)|tsch(ü|ue)ss|ciao|baba|pfiat\s+di|bussi|adieu|en\s+gruess"
    # well-wishes that end a mail the way a closing does ("Bleibt gesund!", "Schönes Wochenende")
    r"|bleib(t|en\s+sie)?\s+(gesund|negativ|stark)|stay\s+(safe|healthy)|alles\s+gute"
    r"|(ein\s+|einen\s+)?sch(ö|oe)ne[ns]?\s+(tag|abend|wochenende|feierabend|sonntag|start\s+in\s+die\s+woche)(\s+noch)?"
    r"|(frohe|sch(ö|oe)ne)\s+(weihnachten|ostern|feiertage)|guten\s+rutsch|have\s+a\s+(nice|great|good)\s+(day|weekend)"
)
_CLOSING_RE = re.compile(
    rf"^\s*({_CLOSING_WORDS})\s*[,.!]*\s*$",
    re.I,
)
# A closing followed by a short name or place on the same line ("Viele Grüße, Anna Schmidt",
# "Grüße aus Hamburg Leon", "Danke schon mal, Daniel", "Merci und Gruss Urs").
_CLOSING_WITH_NAME_RE = re.compile(
    rf"^\s*({_CLOSING_WORDS})\s*[,.!]?\s+([\w.\-]+(\s+|$)){{1,5}}\s*[,.!]?\s*$",
    re.I,
)
_GOODBYE_GREETING_RE = re.compile(r"^\s*(servus|ciao|moin|hoi|salü|sali)\b[\s,!.]*([\w.\-]+\s*){0,3}$", re.I)
_SIG_DELIM_RE = re.compile(r"^\s*--\s*$|^\s*—\s*$|^\s*_{3,9}\s*$")
_MOBILE_SIG_RE = re.compile(
    r"^\s*(gesendet\s+(von|mit|über|ueber|aus)\s+(meinem|meiner|der|dem)?\s*[\w.\-]+.{0,60}|von\s+meinem\s+.{1,60}\s+gesendet\.?"
    r"|sent\s+from\s+my\s+\w+.*|sent\s+(from|with)\s+(outlook|mail|yahoo|gmail|the\s+\w+\s+app)\b.*"
    r"|get\s+outlook\s+for\s+\w+.*|holen\s+sie\s+sich\s+outlook\s+f(ü|ue)r\s+\w+.*|outlook\s+f(ü|ue)r\s+\w+\s+beziehen.*"
    r"|von\s+(yahoo|gmx|web\.de|outlook|aol|t-online)(\s+mail)?\s+(auf|f(ü|ue)r|für)\s+.{1,30}\s+gesendet\.?"
    r"|sent\s+from\s+(yahoo|aol)\s+mail\s+(on|for)\s+.{1,30}"
    r"|diese\s+nachricht\s+wurde\s+(von|mit)\s+.{1,60}\s+(gesendet|versendet|verschickt)\.?"
    r"|mit\s+.{1,40}\s+(gesendet|versendet)\.?)\s*$",
    re.I,
)
# A contact line in a business signature: the rest of the mail is signature.
_CONTACT_RE = re.compile(
    r"^\s*(tel(efon)?|phone|mobil(e)?|handy|fax|fon|e-?mail|web|www)\.?\s*[:.]?\s*[\d+(\[w]", re.I
)
_DISCLAIMER_RE = re.compile(
    r"(diese\s+e-?mail\s+(enthält|kann)\s+vertrauliche|wenn\s+sie\s+nicht\s+der\s+richtige\s+adressat"
    r"|falls\s+sie\s+nicht\s+der\s+(richtige|beabsichtigte)\s+(adressat|empfänger)"
    r"|this\s+(e-?mail|message)(\s+and\s+any\s+attachments?)?\s+(is|are|may\s+contain)\s+(strictly\s+)?confidential"
    r"|if\s+you\s+are\s+not\s+the\s+intended\s+recipient|bitte\s+denken\s+sie\s+an\s+die\s+umwelt"
    r"|please\s+consider\s+the\s+environment\s+before\s+printing|geschäftsführer\s*:|registergericht\s*:"
    r"|amtsgericht\s+\w+|handelsregister\s*:|sitz\s+der\s+gesellschaft|ust-?id(nr)?\.?\s*:)",
    re.I,
)

# -- greetings: a short first line like "Hallo Frau Meier," or "Hi team".
_GREETINGS = (
    r"hallo|hallöchen|hallihallo|hi|hey|hello|dear|moin(\s+moin)?|servus|grüß\s+gott|gruezi|grüezi|grüessech|hoi|sali|salü"
    r"|guten\s+(tag|morgen|abend)|good\s+(morning|afternoon|evening)|sehr\s+geehrte[rs]?|liebe[rs]?"
    r"|to\s+whom\s+it\s+may\s+concern"
)
_GREETING_LINE_RE = re.compile(
    rf"^\s*({_GREETINGS})\b(\s+[\w.\-]+){{0,3}}\s*[,!:]?\s*$",
    re.I,
)
# A greeting that shares its line with content: "Hallo, mein Drucker ..." -> drop "Hallo, ".
_GREETING_PREFIX_RE = re.compile(
    rf"^\s*({_GREETINGS})(\s+[\w.\-]+){{0,4}}\s*[,!]\s+",
    re.I,
)
# A closing at the end of the last sentence: "… geht nicht. Danke & baba, Daniel".
_TRAILING_CLOSING_RE = re.compile(
    rf"(?<=[.!?…])\s+({_CLOSING_WORDS})([\s,&!.+]+[\w.'\-]+){{0,4}}\s*[.!]?\s*$",
    re.I,
)
# Subjects that say nothing about the problem ("Bitte um Hilfe", "Frage", "Support request").
_GENERIC_SUBJECT_RE = re.compile(
    r"^\s*((bitte\s+um\s+)?hilfe|help|frage|question|anfrage|anliegen|problem|probleme|issue|support"
    r"|support\s+request|kundenanfrage|dringend|urgent|info|information|nachfrage|kontakt|hallo|hi|mein\s+konto"
    r"|ticket|wichtig|bitte|request|fehler|error|bug|störung|technik|technisches\s+problem)\s*[!?.:]*\s*$",
    re.I,
)
# A bare name (or company) closing the mail without a closing phrase: "Monika Becker".
_NAME_LINE_RE = re.compile(r"^\s*([A-ZÄÖÜ][\w.\-]*|&|und)(\s+([A-ZÄÖÜ][\w.\-]*|&|und|von|van|de)){0,3}\s*$")

# -- masking
_EMAIL_RE = re.compile(r"\b[\w.+\-]+@[\w\-]+(\.[\w\-]+)+\b")
_URL_RE = re.compile(r"\b((https?|ftp)://|www\.)[^\s<>\"')\]]+", re.I)
_IBAN_RE = re.compile(r"\b[A-Z]{2}\d{2}(\s?[A-Z0-9]{4}){3,7}(\s?[A-Z0-9]{1,4})?\b")
# >= 6 digits, optionally grouped by spaces, dots, dashes or slashes (phone numbers, "123 456 789").
_LONG_NUM_RE = re.compile(r"(?<![\w\[])\+?\d(?:[\d\-/.]|\s(?=\d)){4,}\d(?![\w\]])")
_PLACEHOLDER_RUN_RE = re.compile(r"(\[(?:EMAIL|URL|NUM)\])(\s*\1)+")

_ENTITY_RE = re.compile(
    r"&(nbsp|amp|lt|gt|quot|apos|auml|ouml|uuml|Auml|Ouml|Uuml|szlig|#\d{2,5}|#x[0-9a-fA-F]{2,4});"
)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd\ufeff\u200b-\u200f]")
_WS_RE = re.compile(r"[ \t\u00a0]+")
_SPACE_BEFORE_PUNCT_RE = re.compile(r"(?<=\]) ([.,;:!?])")


class _HTMLText(HTMLParser):
    """Collects visible text; skips scripts, styles and quoted-reply containers."""

    _BLOCK = {
        "p",
        "div",
        "br",
        "li",
        "tr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "table",
        "ul",
        "ol",
        "hr",
        "pre",
    }
    _SKIP = {"script", "style", "head", "title", "blockquote"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_tag: str | None = None
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skip_tag is not None:
            if tag == self._skip_tag:
                self._skip_depth += 1
            return
        cls = " ".join(v or "" for k, v in attrs if k in ("class", "id")).lower()
        # Gmail wraps the quoted conversation in div.gmail_quote, Apple Mail/Thunderbird in
        # blockquote type=cite, Outlook web in div#divRplyFwdMsg / div#appendonsend.
        if tag in self._SKIP or "gmail_quote" in cls or "divrplyfwdmsg" in cls or "moz-cite" in cls:
            self._skip_tag, self._skip_depth = tag, 1
            return
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skip_tag is None and tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self._skip_tag is not None:
            if tag == self._skip_tag:
                self._skip_depth -= 1
                if self._skip_depth <= 0:
                    self._skip_tag = None
            return
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._skip_tag is None:
            self.parts.append(data)


def looks_like_html(text: str) -> bool:
    return bool(_HTML_RE.search(text[:5000]))


def html_to_text(text: str) -> str:
    """Visible text of an HTML mail body, one block element per line; quoted replies dropped."""
    parser = _HTMLText()
    try:
        parser.feed(text)
        parser.close()
    except Exception:  # malformed markup: fall back to crude tag stripping rather than failing
        return html.unescape(re.sub(r"<[^>]{0,2000}>", " ", text))
    return "".join(parser.parts)


def _to_str(raw: str | bytes | None) -> str:
    if raw is None:
        return ""
    if isinstance(raw, bytes | bytearray | memoryview):
        return bytes(raw[: MAX_RAW_CHARS * 4]).decode("utf-8", errors="replace")
    return str(raw)


def _is_garbage(text: str) -> bool:
    """Mostly undecodable bytes or control characters: not a human-written text."""
    sample = text[:20000]
    if not sample:
        return False
    bad = len(_CONTROL_RE.findall(sample))
    return bad / len(sample) > 0.2


def _quote_starts(lines: list[str], i: int) -> bool:
    """Line ``i`` opens quoted history: "Am … schrieb …:", "-----Original Message-----", Outlook's
    "Von: … / Gesendet: …" block or its separator line."""
    line = lines[i]
    if any(r.match(line) for r in _QUOTE_HEADER_RES):
        return True
    # "Am Mo., 3. März 2025 um 10:12 Uhr schrieb Max Mustermann <max@example.de>:" is often
    # wrapped over two lines by the mail client.
    if i + 1 < len(lines) and re.match(r"^\s*(Am|On)\s", line, re.I):
        joined = f"{line.strip()} {lines[i + 1].strip()}"
        if any(r.match(joined) for r in _QUOTE_HEADER_RES[:2]):
            return True
    return bool(_FROM_RE.match(line) and any(_SENT_RE.match(nxt) for nxt in lines[i + 1 : i + 5]))


def _cut_quotes(lines: list[str]) -> list[str]:
    out: list[str] = []
    for i, line in enumerate(lines):
        if _quote_starts(lines, i):
            break
        if line.lstrip().startswith(">"):
            continue
        out.append(line)
    return out


def _split_forward(lines: list[str], forwarded: bool) -> tuple[list[str], list[str] | None, str]:
    """(the note above, the forwarded mail without its header block, the forwarded mail's subject), or
    (lines, None, "") when the mail forwards nothing. A forward marker below quoted history belongs to the history, not this mail.
    When the subject says the mail is forwarded, a reply-style header block opens the forward too
    (Outlook forwards with the same "Von:/Gesendet:" block it quotes with)."""
    for i, line in enumerate(lines):
        if line.lstrip().startswith(">"):
            continue
        marker = bool(_FORWARD_RE.match(line))
        if not marker and _quote_starts(lines, i):
            if not forwarded:
                return lines, None, ""
            marker = True
        if marker:
            j = i if _HEADER_LINE_RE.match(line) else i + 1
            while j < len(lines) and (
                not lines[j].strip() or _HEADER_LINE_RE.match(lines[j]) or re.match(r"^\s*_{10,}\s*$", lines[j])
            ):
                j += 1
            subject = next((m.group(1) for ln in lines[i:j] if (m := _FWD_SUBJECT_RE.match(ln))), "")
            fwd = lines[j:]
            if all(ln.lstrip().startswith(">") for ln in fwd if ln.strip()):
                # forwarded "inline" below "Am … schrieb …:": one level of quote marks off
                fwd = [re.sub(r"^\s*> ?", "", ln) for ln in fwd]
            return lines[:i], fwd, subject
    return lines, None, ""


_FWD_SUBJECT_RE = re.compile(r"^\s*\*?(?:Betreff|Subject)\s*:\*?\s*(.*)$", re.I)


# -- form mails: "Name: … E-Mail: … Nachricht: …" — the message field is the report.
_FORM_FIELD_RE = re.compile(r"^\s*\*?([A-Za-zÄÖÜäöüß][\w \-/.()]{0,30}?)\*?\s*:\s*(.*)$")
_FORM_MESSAGE_LABEL_RE = re.compile(
    r"^(ihre\s+|deine\s+|your\s+)?(nachricht|mitteilung|anliegen|anfrage|message|beschreibung|problembeschreibung"
    r"|frage|kommentar|comments?|problem|text|details|fehlerbeschreibung)$",
    re.I,
)
# The form's own last line: "Diese E-Mail wurde über das Kontaktformular auf … gesendet."
_FORM_FOOTER_RE = re.compile(
    r"^\W*(diese|this)\b.{0,80}\b(formular|form)\b.{0,80}\b(gesendet|versendet|übermittelt|submitted|sent)\b", re.I
)
_FORM_SUBJECT_LABEL_RE = re.compile(r"^(betreff|thema|subject|topic)$", re.I)
_FORM_END_LABELS = frozenset({"gesendet", "sent", "datum", "date", "ip", "ip-adresse", "zeitpunkt"})
_FORM_MIN_FIELDS = 2  # a message field plus at least one other field (name, e-mail …) makes a form
_FORM_MAX_PREAMBLE = 1  # above the first field a title at most ("Kontaktformular"), not a sentence


def _form_message(lines: list[str]) -> list[str] | None:
    """The value of a web form's message field (it may run over several lines until the next field
    or the form's footer), or None when the text is not a form."""
    fields = [(i, m) for i, ln in enumerate(lines) if (m := _FORM_FIELD_RE.match(ln))]
    msg = next((k for k, (_, m) in enumerate(fields) if _FORM_MESSAGE_LABEL_RE.match(m.group(1).strip())), None)
    if msg is None or len(fields) < _FORM_MIN_FIELDS:
        return None
    # A form starts with its fields (at most a title line or two above them); a mail whose text runs
    # first and ends with "Frage: …" or "Kundennummer: …" is a mail.
    preamble = [ln for ln in lines[: fields[0][0]] if ln.strip()]
    if len(preamble) > _FORM_MAX_PREAMBLE or any(re.search(r"[.?!]\s*$", ln) for ln in preamble):
        return None
    start, m = fields[msg]
    labels = {f.group(1).strip().casefold() for k, (_, f) in enumerate(fields) if k != msg}
    # the form's own subject field leads the message, as a mail's subject leads its body
    topic = next(
        (
            f.group(2).strip()
            for k, (_, f) in enumerate(fields)
            if k != msg and _FORM_SUBJECT_LABEL_RE.match(f.group(1).strip()) and f.group(2).strip()
        ),
        "",
    )
    out = [m.group(2)]
    if topic and not _GENERIC_SUBJECT_RE.match(topic):
        out.insert(0, topic if re.search(r"[.?!]$", topic) else f"{topic}.")
    for line in lines[start + 1 :]:
        f = _FORM_FIELD_RE.match(line)
        if f and f.group(1).strip().casefold() in labels | _FORM_END_LABELS:
            break
        if _FORM_FOOTER_RE.match(line) or re.match(r"^\s*-{2,}\s*$", line):
            break
        out.append(line)
    return out


# -- chat-widget transcripts: "[14:02] Lernwerft-Bot: Wobei können wir helfen?" / "Besucher: …".
_TURN_RE = re.compile(
    r"^\s*(?:[\[(]?(?P<time>\d{1,2}[:.]\d{2}(?::\d{2})?\s*(?:[AaPp][Mm]|Uhr)?)[\])]?\s*[-–|]?\s*)?"
    r"(?P<who>[^\s:\[\]()][^:\n]{0,38}?)\s*:\s+(?P<text>\S.*)$"
)
_STAFF_RE = re.compile(
    r"\b(bot|chatbot|assistent(in)?|assistant|support|team|service|kundenservice|kundendienst|agent(in)?"
    r"|mitarbeiter(in)?|helpdesk|system|berater(in)?|operator)\b",
    re.I,
)
_CUSTOMER_RE = re.compile(
    r"^(besucher(in)?|visitor|kunde|kundin|customer|gast|guest|du|sie|ich|you|me|user|nutzer(in)?)$", re.I
)
# "Jana ist dem Chat beigetreten", "*** Jana joined the chat ***": who joins is staff.
_JOINED_RE = re.compile(
    r"^\W*(?P<who>.{1,40}?)\s+(ist\s+dem\s+chat\s+beigetreten|hat\s+den\s+chat\s+(betreten|übernommen)"
    r"|joined\s+the\s+chat)",
    re.I,
)
_CHAT_HEADER_RE = re.compile(
    r"(chat[-\s]?(transkript|protokoll|verlauf|transcript|log)|chatverlauf|chat\s+started|chat\s+gestartet"
    r"|live-?chat)",
    re.I,
)
_CHAT_MIN_TURNS = 3  # a bot greeting, a customer line and one answer: fewer is no conversation


def _chat_customer_lines(lines: list[str]) -> list[str] | None:
    """The customer's turns of a chat transcript (continuation lines included), or None when the
    text is not a transcript. The bot's and agents' turns, the transcript header and system lines go."""
    found: list[tuple[int, str, bool]] = []
    for i, line in enumerate(lines):
        m = _TURN_RE.match(line)
        if m and not _HEADER_LINE_RE.match(line):
            found.append((i, m.group("who").strip().casefold(), bool(m.group("time"))))
    counts: dict[str, int] = {}
    for _, who, _timed in found:
        counts[who] = counts.get(who, 0) + 1
    turns = [
        (i, who)
        for i, who, timed in found
        if timed or counts[who] >= 2 or _STAFF_RE.search(who) or _CUSTOMER_RE.match(who)
    ]
    header = any(_CHAT_HEADER_RE.search(ln) for ln in lines[:8])
    speakers = list(dict.fromkeys(who for _, who in turns))
    if len(speakers) < 2 or len(turns) < (_CHAT_MIN_TURNS - 1 if header else _CHAT_MIN_TURNS):
        return None
    # a conversation goes back and forth; a list of "Browser: …" and "Gerät: …" lines does not
    changes = sum(1 for a, b in zip(turns, turns[1:], strict=False) if a[1] != b[1])
    if changes < (_CHAT_MIN_TURNS - 2 if header else _CHAT_MIN_TURNS - 1):
        return None
    joined = {m.group("who").strip(" *").casefold() for ln in lines if (m := _JOINED_RE.match(ln))}
    staff = {k for k in speakers if _STAFF_RE.search(k) or k in joined}
    customers = {k for k in speakers if _CUSTOMER_RE.match(k)}
    if not customers:
        rest = [k for k in speakers if k not in staff]
        if len(rest) > 1 and not staff:
            rest = rest[1:]  # an unnamed widget greets first: the first speaker is the company
        customers = set(rest)
    if not customers:
        return None
    by_line = dict(turns)
    out: list[str] = []
    current: str | None = None
    for i, line in enumerate(lines):
        if i in by_line:
            current = by_line[i]
            m = _TURN_RE.match(line)
            if current in customers and m:
                out.append(m.group("text"))
        elif not line.strip():
            out.append("")
        elif current in customers and not _JOINED_RE.match(line):
            out.append(line)  # a turn that runs over several lines
    return out


# -- boilerplate: lines that several different customers sent verbatim within recent days.
_KEY_STRIP_RE = re.compile(r"^[\W_]+|[\W_]+$")


def line_key(line: str) -> str:
    """What makes two lines "the same line": case, spacing, quote marks and the punctuation at either
    end do not count."""
    return _KEY_STRIP_RE.sub("", " ".join(line.casefold().split()))


def _drop_common(lines: list[str], common: Collection[str]) -> list[str]:
    if not common:
        return lines
    kept = [ln for ln in lines if not ln.strip() or line_key(ln) not in common]
    # a line that is the whole report stays: three customers who write only "Login geht nicht" say it
    return kept if _has_words(kept) else lines


def _cut_signature(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        if _SIG_DELIM_RE.match(line) or _CLOSING_RE.match(line) or _CLOSING_WITH_NAME_RE.match(line):
            break
        # "Servus" greets and takes leave: a closing only after the mail has begun.
        if any(ln.strip() for ln in out) and _GOODBYE_GREETING_RE.match(line):
            break
        if _DISCLAIMER_RE.search(line) or _CONTACT_RE.match(line):
            break
        if _MOBILE_SIG_RE.match(line):
            continue
        out.append(line)
    return _drop_name_block(out)


def _drop_name_block(lines: list[str]) -> list[str]:
    """A name (and company) as the mail's last paragraph, without a closing phrase before it:
    "…\n\nMonika Becker\nBecker Coaching & Beratung". A mail of one paragraph keeps it."""
    filled = [i for i, ln in enumerate(lines) if ln.strip()]
    if len(filled) < 2:
        return lines
    end = start = filled[-1]
    while start > 0 and lines[start - 1].strip():
        start -= 1
    if start <= filled[0] or end - start >= 3:
        return lines
    if all(_NAME_LINE_RE.match(line) for line in lines[start : end + 1]):
        return lines[:start]
    return lines


def _drop_greeting(lines: list[str]) -> list[str]:
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        if _GREETING_LINE_RE.match(line):
            return lines[:i] + lines[i + 1 :]
        lines = list(lines)
        lines[i] = _GREETING_PREFIX_RE.sub("", line, count=1)
        return lines
    return lines


def _mask(text: str) -> str:
    text = _EMAIL_RE.sub(f" {EMAIL_TOKEN} ", text)
    text = _URL_RE.sub(f" {URL_TOKEN} ", text)
    text = _IBAN_RE.sub(f" {NUM_TOKEN} ", text)

    def _num(m: re.Match[str]) -> str:
        digits = sum(ch.isdigit() for ch in m.group(0))
        return f" {NUM_TOKEN} " if digits >= 6 else m.group(0)

    text = _LONG_NUM_RE.sub(_num, text)
    return _PLACEHOLDER_RUN_RE.sub(r"\1", text)


def _truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    # cut at a word boundary unless that would throw away a big chunk (one huge "word")
    return cut[:space] if space > limit * 0.8 else cut


def clean_text(
    text: str | bytes | None,
    max_chars: int = MAX_CLEAN_CHARS,
    *,
    common: Collection[str] = frozenset(),
    forwarded: bool = False,
) -> str:
    """The problem statement of a support e-mail (or any report text) as one line of text.

    ``common``: line keys (:func:`line_key`) that recent reports of several different customers
    contain verbatim (:func:`common_lines`); they are boilerplate and dropped unless nothing else is
    left. ``forwarded``: the subject says the mail is forwarded (WG:/Fwd:), so an Outlook header block
    ("Von: … Gesendet: …") opens the forwarded mail rather than quoted history.

    Returns ``""`` when nothing useful is left. Never raises on str/bytes/None input.
    """
    try:
        raw = _to_str(text)[:MAX_RAW_CHARS]
        if not raw.strip() or _is_garbage(raw):
            return ""
        if looks_like_html(raw):
            raw = html_to_text(raw)
        elif _ENTITY_RE.search(raw):
            raw = html.unescape(raw)
        raw = raw.replace("\r\n", "\n").replace("\r", "\n")
        raw = _CONTROL_RE.sub(" ", raw)
        raw = "\n".join(_split_inline(line) for line in raw.split("\n"))
        lines = raw.split("\n")
        body = " ".join(ln.strip() for ln in _report_lines(lines, common, forwarded) if ln.strip())
        body = _TRAILING_CLOSING_RE.sub("", body)
        body = _mask(body)
        body = _WS_RE.sub(" ", body).strip()
        body = _SPACE_BEFORE_PUNCT_RE.sub(r"\1", body)
        if not any(
            ch.isalnum() for ch in body.replace(EMAIL_TOKEN, "").replace(URL_TOKEN, "").replace(NUM_TOKEN, "")
        ):
            return ""
        return _truncate(body, max_chars)
    except Exception:  # pragma: no cover - last line of defence: cleaning must never break intake
        return ""


def _report_lines(lines: list[str], common: Collection[str], forwarded: bool) -> list[str]:
    """The customer's own lines: the message of a form, the customer's turns of a chat, the
    forwarded mail of a forward; then without quotes, signature, greeting and boilerplate."""
    form = _form_message(lines)
    if form is not None:
        lines = form
    chat = _chat_customer_lines(lines)
    if chat is not None:
        lines = chat
    note, fwd, fwd_subject = _split_forward(lines, forwarded)
    if fwd is not None:
        # The forwarded mail is the report; the note above it ("siehe unten, LG Jonas") is context
        # and only stands in when the forwarded part has nothing of its own — or when what is
        # forwarded is the company's own mail ("Deine Bestellung …"): then the note is the report.
        inner = _report_lines(fwd, common, forwarded=False)
        own_mail = bool(_COMPANY_MAIL_SUBJECT_RE.search(_SUBJECT_PREFIX_RE.sub("", fwd_subject)))
        if _has_words(inner) and not (own_mail and _has_words(_report_lines(note, common, False))):
            return inner
        lines = note
    lines = _cut_quotes(lines)
    lines = _cut_signature(lines)
    lines = _drop_common(lines, common)  # before the greeting is cut out of its line: keys are as sent
    return _drop_greeting(lines)


def _has_words(lines: list[str]) -> bool:
    return any(any(ch.isalpha() for ch in ln) for ln in lines)


_SUBJECT_PREFIX_RE = re.compile(
    r"^\s*((re|aw|wg|fw|fwd|antw|sv|vs|immer\s+noch|nochmal|noch\s+einmal|erneut|still|again)\s*(\[\d+\])?\s*:\s*"
    r"|\[(extern|external)\]\s*)+",
    re.I,
)
_FORWARD_PREFIX_RE = re.compile(r"^\s*((re|aw)\s*:\s*)*(wg|fw|fwd)\s*:", re.I)
_REPLY_PREFIX_RE = re.compile(r"^\s*(re|aw|antw|sv)\s*(\[\d+\])?\s*:", re.I)
# A reply to one of the company's own mails (order, invoice, welcome, newsletter): the subject is the
# company's, not the customer's problem ("Re: Deine Bestellung bei Lernwerft").
_COMPANY_MAIL_SUBJECT_RE = re.compile(
    r"^\W*((deine|ihre|your)\s+(bestellung|order|rechnung|invoice|buchung|booking|anmeldung|registrierung"
    r"|zugangsdaten|lieferung|zahlung|sendung|shipment)\b|bestellbest(ä|ae)tigung|auftragsbest(ä|ae)tigung"
    r"|zahlungsbest(ä|ae)tigung|order\s+confirmation|willkommen\s+(bei|im|in)\b|welcome\s+to\b)",
    re.I,
)
# A subject that names the channel, not the problem: "Kontaktformular", "Neue Chat-Anfrage".
_CHANNEL_SUBJECT_RE = re.compile(
    r"(kontakt|web|online)?formular|contact\s+form|web\s+form|chat[-\s]?(transkript|transcript|anfrage|verlauf"
    r"|protokoll|nachricht|request)|chatverlauf|live-?chat",
    re.I,
)
# "Name: Anna Berg E-Mail: anna@… Nachricht: …" on one line: split before each known form label.
_INLINE_FIELD_RE = re.compile(
    r"(?<=\S)\s+(?=(name|vorname|nachname|e-?mail|telefon|tel\.?|firma|betreff|thema|kundennummer|anrede"
    r"|nachricht|ihre\s+nachricht|mitteilung|anliegen|message)\s*:\s)",
    re.I,
)
_INLINE_MESSAGE_RE = re.compile(r"\b(nachricht|mitteilung|anliegen|message)\s*:\s", re.I)
_TRANSCRIPT_LINE_SPLIT_RE = re.compile(r"(?<=\S)\s+(?=\[\d{1,2}:\d{2}(:\d{2})?\]\s)")


def _split_inline(line: str) -> str:
    """A form or a chat squeezed onto one line ("Name: … E-Mail: … Nachricht: …", "[14:02] Bot: … [14:03]
    Besucher: …") gets its lines back; any other line stays as it is ("Telefon: 0171 …, das Video geht nicht")."""
    if _INLINE_MESSAGE_RE.search(line) and len(_INLINE_FIELD_RE.findall(line)) >= _FORM_MIN_FIELDS:
        return _INLINE_FIELD_RE.sub("\n", line)
    if len(_TRANSCRIPT_LINE_SPLIT_RE.findall(line)) >= _CHAT_MIN_TURNS - 1:
        return _TRANSCRIPT_LINE_SPLIT_RE.sub("\n", line)
    return line


def _subject(subject: str | None, common: Collection[str]) -> tuple[str, bool]:
    """(the subject as the report's lead, whether it says the mail is forwarded)."""
    raw = subject or ""
    forwarded = bool(_FORWARD_PREFIX_RE.match(raw))
    reply = bool(_REPLY_PREFIX_RE.match(raw))
    subj = _SUBJECT_PREFIX_RE.sub("", raw).strip()
    subj = re.sub(r"\s*\[#?\d+\]\s*$", "", subj)  # a helpdesk's ticket number "[#4711]"
    if (
        _GENERIC_SUBJECT_RE.match(subj)
        or _CHANNEL_SUBJECT_RE.search(subj)
        # a reply to a mail that several customers answered is a reply to the company's own mail; a
        # fresh subject shared by several customers is their problem's name ("Passwort vergessen")
        or ((reply or forwarded) and (_COMPANY_MAIL_SUBJECT_RE.search(subj) or line_key(subj) in common))
    ):
        subj = ""
    return (_mask(subj).strip() if subj else ""), forwarded


def clean_report(subject: str | None, body: str | bytes | None, *, common: Collection[str] = frozenset()) -> str:
    """Subject + cleaned body, the text that should be encoded for a ticket.

    The subject is often the most concise problem statement ("Fehler 502 beim Login"), so it
    leads; reply/forward prefixes (Re:, AW:, WG:, Fwd:) are dropped, and so is a subject that says
    nothing, names a web form, is the company's own mail being replied to, or is in ``common``.
    ``common``: boilerplate line keys of recent reports (:func:`common_lines`).
    """
    subj, forwarded = _subject(subject, common)
    body_clean = clean_text(body, common=common, forwarded=forwarded)
    if subj and body_clean:
        return _truncate(f"{subj}. {body_clean}", MAX_CLEAN_CHARS)
    return subj or body_clean


def _plain_lines(body: str | bytes | None) -> list[str]:
    raw = _to_str(body)[:MAX_RAW_CHARS]
    if looks_like_html(raw):
        raw = html_to_text(raw)
    elif _ENTITY_RE.search(raw):
        raw = html.unescape(raw)
    return raw.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def report_keys(subject: str | None, body: str | bytes | None) -> frozenset[str]:
    """The line keys of one report (its subject without prefixes and every line of its body), what
    :func:`common_lines` counts."""
    keys = {line_key(ln) for ln in _plain_lines(body)}
    keys.add(line_key(_SUBJECT_PREFIX_RE.sub("", subject or "")))
    return frozenset(k for k in keys if k)


def common_lines(
    recent: Iterable[tuple[str, frozenset[str]]], min_customers: int = BOILERPLATE_MIN_CUSTOMERS
) -> frozenset[str]:
    """Boilerplate: the line keys that at least ``min_customers`` different customers sent.

    ``recent``: (customer identity, :func:`report_keys`) of the reports of the recent days — the
    caller picks which. Pure: no clock, no database. A company's signature, a disclaimer, a chat
    bot's greeting, an app's footer or the subject of the shop's order mail show up verbatim in
    unrelated customers' mails; a problem statement is typed by each customer in their own words.
    """
    senders: dict[str, set[str]] = {}
    for identity, keys in recent:
        for k in keys:
            senders.setdefault(k, set()).add(identity)
    return frozenset(k for k, who in senders.items() if len(who) >= min_customers)
