"""Cleaning of support e-mails before similarity: keep the customer's problem statement, drop the rest.

What is removed and why: quoted replies, signatures, greetings, closings and legal disclaimers are
shared by *unrelated* e-mails (every mail from one company ends with the same disclaimer, every
reply quotes the previous message), so left in they make different problems look alike.

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
from html.parser import HTMLParser

from sirene.similarity.params import MAX_CLEAN_CHARS, MAX_RAW_CHARS

__all__ = ["clean_text", "clean_report", "html_to_text", "looks_like_html"]

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
    r"|thank\s+you(\s+(in\s+advance|so\s+much))?|many\s+thanks|thx|vielen\s+dank(\s+(im\s+voraus|vorab|schon\s+mal))?"
    r"|danke(sch(ö|oe)n)?(\s+(im\s+voraus|vorab|schon\s+mal|euch|dir|ihnen))?|merci(\s+vielmal)?"
    r"|(danke|merci)\s+und\s+gru(ß|ss)|tsch(ü|ue)ss|ciao|baba|pfiat\s+di|bussi|adieu|en\s+gruess"
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
    r"|get\s+outlook\s+for\s+\w+.*|diese\s+nachricht\s+wurde\s+(von|mit)\s+.{1,60}\s+(gesendet|versendet|verschickt)\.?"
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


def _cut_quotes(lines: list[str]) -> list[str]:
    out: list[str] = []
    for i, line in enumerate(lines):
        if any(r.match(line) for r in _QUOTE_HEADER_RES):
            break
        # "Am Mo., 3. März 2025 um 10:12 Uhr schrieb Max Mustermann <max@example.de>:" is often
        # wrapped over two lines by the mail client.
        if i + 1 < len(lines) and re.match(r"^\s*(Am|On)\s", line, re.I):
            joined = f"{line.strip()} {lines[i + 1].strip()}"
            if any(r.match(joined) for r in _QUOTE_HEADER_RES[:2]):
                break
        if _FROM_RE.match(line) and any(_SENT_RE.match(nxt) for nxt in lines[i + 1 : i + 5]):
            break
        if line.lstrip().startswith(">"):
            continue
        out.append(line)
    return out


def _drop_forward_headers(lines: list[str]) -> list[str]:
    """Keep a forwarded mail's body (it may be the actual report) but drop its header block."""
    out: list[str] = []
    in_header = False
    for line in lines:
        if _FORWARD_RE.match(line):
            in_header = True
            continue
        if in_header:
            if _HEADER_LINE_RE.match(line) or not line.strip():
                continue
            in_header = False
        out.append(line)
    return out


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


def clean_text(text: str | bytes | None, max_chars: int = MAX_CLEAN_CHARS) -> str:
    """The problem statement of a support e-mail (or any report text) as one line of text.

    Returns ``""`` when nothing useful is left. Never raises on str/bytes/None input.
    """
    try:
        raw = _to_str(text)[:MAX_RAW_CHARS]
        if not raw.strip() or _is_garbage(raw):
            return ""
        if looks_like_html(raw):
            raw = html_to_text(raw)
        raw = raw.replace("\r\n", "\n").replace("\r", "\n")
        raw = _CONTROL_RE.sub(" ", raw)
        lines = raw.split("\n")
        lines = _drop_forward_headers(lines)
        lines = _cut_quotes(lines)
        lines = _cut_signature(lines)
        lines = _drop_greeting(lines)
        body = " ".join(ln.strip() for ln in lines if ln.strip())
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


_SUBJECT_PREFIX_RE = re.compile(
    r"^\s*((re|aw|wg|fw|fwd|antw|sv|vs|immer\s+noch|nochmal|noch\s+einmal|erneut|still)\s*(\[\d+\])?\s*:\s*)+",
    re.I,
)


def clean_report(subject: str | None, body: str | bytes | None) -> str:
    """Subject + cleaned body, the text that should be encoded for a ticket.

    The subject is often the most concise problem statement ("Fehler 502 beim Login"), so it
    leads; reply/forward prefixes (Re:, AW:, WG:, Fwd:) are dropped.
    """
    subj = _SUBJECT_PREFIX_RE.sub("", subject or "").strip()
    if _GENERIC_SUBJECT_RE.match(subj):
        subj = ""
    subj = _mask(subj).strip() if subj else ""
    body_clean = clean_text(body)
    if subj and body_clean:
        return _truncate(f"{subj}. {body_clean}", MAX_CLEAN_CHARS)
    return subj or body_clean
