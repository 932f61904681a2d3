"""Input bounds shared by the API schemas, the web forms and the services (one definition each).

Everything that arrives from outside is checked here before it reaches the database, so a bad value is a
4xx naming the field and never a half-written row (the README lists these limits, "Input limits"):

- ids are 1 … 2**63 - 1 (a signed 64-bit integer, what SQLite and PostgreSQL store);
- page numbers are 1 … MAX_PAGE, page sizes bounded by the endpoint;
- datetimes must lie in a sane range: reports (`received_at`, article views) between 2000-01-01 and
  now + 1 day, planned times (follow-ups, absences) between 2000-01-01 and 2100-01-01. A naive value is
  read in the server's time zone;
- text is NFC-normalised; NUL is removed and lone UTF-16 surrogates become U+FFFD, on both stores alike
  (PostgreSQL refuses both, SQLite would store them: we store neither);
- search terms are at most MAX_SEARCH characters;
- floats must be finite;
- tags are at most MAX_TAG characters and contain no comma (the comma separates tags in the index);
- e-mail addresses may be internationalised (umlauts in the local part or the domain).

The pydantic types (`Id`, `Page`, `ReceivedAt`, `PlannedAt`, `CleanStr`, `SearchTerm`, `FiniteFloat`,
`Tag`) are for ninja schemas and signatures; the plain functions (`check_*`, `clean_*`) raise
`ValueError(message)` for forms, query strings and services, which wrap it in their own field error.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Callable
from typing import Annotated, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator, validate_email
from django.utils import timezone
from pydantic import AfterValidator, Field

from sirene.core import clock

MAX_ID = 2**63 - 1
MAX_PAGE = 100_000
MAX_SEARCH = 200
MAX_TAG = 64
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
LATEST_PLANNED = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
FUTURE_SLACK = dt.timedelta(days=1)

_SURROGATE = re.compile("[\ud800-\udfff]")


# --- text -------------------------------------------------------------------------------------------


def clean_text(value: str) -> str:
    """NFC, without NUL, lone surrogates replaced by U+FFFD (a valid pair was already joined by json)."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    if _SURROGATE.search(value):
        value = _SURROGATE.sub("\ufffd", value)
    if not value.isascii():
        value = unicodedata.normalize("NFC", value)
    return value


def clean_deep(value: Any, *, _depth: int = 0) -> Any:
    """`clean_text` on every string (keys too) of a decoded JSON document."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_deep(k): clean_deep(v, _depth=_depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_deep(v, _depth=_depth + 1) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        # json.loads accepts NaN/Infinity; no field of ours means them, and PostgreSQL's jsonb refuses them.
        raise ValueError("NaN and Infinity are not valid JSON numbers")
    return value


CleanStr = Annotated[str, AfterValidator(clean_text)]


# --- numbers ----------------------------------------------------------------------------------------


def check_id(value: int) -> int:
    if not 1 <= value <= MAX_ID:
        raise ValueError(f"must be an id between 1 and {MAX_ID}")
    return value


def parse_id(raw: object) -> int:
    """A form or query-string id ("12") → int, or ValueError."""
    text = str(raw).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        raise ValueError(f"must be an id between 1 and {MAX_ID}")
    return check_id(int(text))


def check_page(value: int) -> int:
    if not 1 <= value <= MAX_PAGE:
        raise ValueError(f"must be between 1 and {MAX_PAGE}")
    return value


def check_finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


def parse_finite(raw: str, *, low: float = 0.0, high: float = 10**9) -> float:
    """A form or query-string number, finite and within [low, high]."""
    try:
        value = float(raw)
    except ValueError:
        raise ValueError("must be a number") from None
    check_finite(value)
    if not low <= value <= high:
        raise ValueError(f"must be between {low:g} and {high:g}")
    return value


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Page = Annotated[int, Field(ge=1, le=MAX_PAGE)]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


# --- datetimes --------------------------------------------------------------------------------------


def check_datetime(
    value: dt.datetime, *, earliest: dt.datetime = EARLIEST, latest: dt.datetime | None = None
) -> dt.datetime:
    """An aware datetime (naive = server time zone) in [earliest, latest]; latest defaults to now + 1 day."""
    upper = latest if latest is not None else clock.now() + FUTURE_SLACK
    message = f"must be between {earliest:%Y-%m-%d} and {upper:%Y-%m-%d %H:%M} UTC"
    # Far-out values overflow while converting time zones: check the wall-clock year first.
    if not earliest.year - 1 <= value.year <= upper.year + 1:
        raise ValueError(message)
    try:
        aware = timezone.make_aware(value) if timezone.is_naive(value) else value
        in_utc = aware.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        raise ValueError(message) from None
    if not earliest <= in_utc <= upper:
        raise ValueError(message)
    return aware


def check_received_at(value: dt.datetime) -> dt.datetime:
    return check_datetime(value)


def check_planned_at(value: dt.datetime) -> dt.datetime:
    return check_datetime(value, latest=LATEST_PLANNED)


ReceivedAt = Annotated[dt.datetime, AfterValidator(check_received_at)]
PlannedAt = Annotated[dt.datetime, AfterValidator(check_planned_at)]


# --- search terms, tags, e-mail ---------------------------------------------------------------------


def check_search(value: str, *, limit: int = MAX_SEARCH) -> str:
    value = clean_text(value)
    if len(value) > limit:
        raise ValueError(f"must be at most {limit} characters")
    return value


def check_tag(value: str) -> str:
    value = clean_text(value)
    if "," in value:
        raise ValueError("must not contain a comma")
    if len(value.strip()) > MAX_TAG:
        raise ValueError(f"must be at most {MAX_TAG} characters")
    return value


SearchTerm = Annotated[str, AfterValidator(check_search)]
Tag = Annotated[str, AfterValidator(check_tag)]

# The local part of an internationalised address (RFC 6531): letters and digits of any script plus the
# atext specials of RFC 5322, dot-separated.
_LOCAL_ATOM = r"[\w!#$%&'*+/=?^`{|}~-]+"
_LOCAL = re.compile(rf"^{_LOCAL_ATOM}(\.{_LOCAL_ATOM})*$")


def normalise_email_address(raw: str) -> str:
    """Lower-cased, NFC, with the domain in Unicode; umlauts are fine in both parts. ValueError if invalid."""
    value = clean_text(raw).strip().lower()
    local, sep, domain = value.rpartition("@")
    if not sep or not local or not domain:
        raise ValueError(f"{raw!r} is not a valid e-mail address")
    if domain.startswith("xn--") or ".xn--" in domain:
        try:
            domain = domain.encode("ascii").decode("idna")
        except (UnicodeError, ValueError):
            raise ValueError(f"{raw!r} is not a valid e-mail address") from None
    value = f"{local}@{domain}"
    if local.isascii():
        candidate = value
    else:
        if len(local.encode("utf-8")) > 64 or not _LOCAL.match(local):
            raise ValueError(f"{raw!r} is not a valid e-mail address")
        candidate = f"x@{domain}"  # Django checks the domain (IDN included); the local part is ours.
    try:
        validate_email(candidate)
    except DjangoValidationError:
        raise ValueError(f"{raw!r} is not a valid e-mail address") from None
    if len(value) > 254:
        raise ValueError("must be at most 254 characters")
    return value


def lenient(check: Callable[[str], str], raw: str | None) -> str | None:
    """For web filters: the checked value, or None when it is empty or invalid (a page never errors)."""
    if not raw:
        return None
    try:
        return check(raw) or None
    except ValueError:
        return None


def email_form_validator(value: str) -> None:
    """For Django form fields: the same rule as the API."""
    try:
        normalise_email_address(value)
    except ValueError:
        raise DjangoValidationError(EmailValidator.message, code="invalid") from None


def check_time_zone(value: str) -> str:
    """An IANA time zone name that this machine knows (Europe/Berlin), else ValueError."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not a known time zone (e.g. Europe/Berlin)") from None
    return value


MAX_ATTRIBUTES_BYTES = 64 * 1024


def check_attributes(value: dict[str, Any]) -> dict[str, Any]:
    """Customer attributes (platform, plan, …) are small facts, not documents: at most 64 KB as JSON."""
    import json

    size = len(json.dumps(value, ensure_ascii=False).encode("utf-8"))
    if size > MAX_ATTRIBUTES_BYTES:
        raise ValueError(f"is {size} bytes as JSON; at most {MAX_ATTRIBUTES_BYTES} are allowed")
    return value


# --- redirects --------------------------------------------------------------------------------------


def safe_next(request: Any, fallback: str) -> str:
    """The form's `next` if it points back to this site (url_has_allowed_host_and_scheme), else fallback."""
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return str(target)
    return fallback
