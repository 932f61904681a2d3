"""The typed shape of `Incident.brief` (what `brief.build` writes), checked when it is read.

The brief is stored as JSON on the incident. `Brief.read` validates it into pydantic models, so the
page, the API and the detection code read fields instead of probing dicts, and a brief of the
wrong shape fails loudly (pydantic's ValidationError names the field) instead of showing blanks.
Missing keys take their defaults (an incident without cases has an empty brief); keys added by a
newer `brief.build` are kept.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator


class _Part(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class BriefExample(_Part):
    customer: str
    email: str | None = None
    case_id: int
    url: str
    subject: str = ""


class BriefRepresentative(_Part):
    case_id: int
    url: str
    text: str


class BriefWhat(_Part):
    summary: str = ""
    representative: list[BriefRepresentative] = []
    key_terms: list[str] = []
    error_codes: list[str] = []


class ThreadFinding(_Part):
    """An attribute value the affected customers share far more often than usual."""

    attribute: str
    value: str
    share: float
    baseline_share: float
    customers: int
    known: int = 0
    p_value: float


class RateFacts(_Part):
    """The detection rule's counts and decision for the incident's group when the brief was built."""

    customers_in_window: int
    reports_in_window: int
    window_hours: int | float
    threshold: int
    rule_source: str
    usual_per_window: int | float | None = None
    required: int
    rule: str = ""  # the rule in German, e.g. "ab der 6. Kundin / dem 6. Kunden innerhalb von 24 h"
    pages: bool = True
    fire: bool
    reason: str
    window_start: dt.datetime


class BriefSplitPart(_Part):
    """One part of a borderline split the detector noted (`services.note_possible_split`)."""

    case_ids: list[int]


class Brief(_Part):
    customers_affected: int = 0
    reports: int = 0
    first_seen: dt.datetime | None = None
    last_seen: dt.datetime | None = None
    examples: list[BriefExample] = []
    what: BriefWhat = BriefWhat()
    common_thread: list[ThreadFinding] = []
    rate: RateFacts | None = None  # stored as {} for an incident without a group
    built_at: dt.datetime | None = None
    # "möglicherweise zwei Probleme": the larger part first; [] when the detector saw one problem.
    possible_split: list[BriefSplitPart] = []

    @field_validator("rate", mode="before")
    @classmethod
    def _empty_rate(cls, value: Any) -> Any:
        return value or None

    @classmethod
    def read(cls, raw: Any) -> Brief:
        return cls.model_validate(raw or {})

    def rate_dict(self) -> dict[str, Any]:
        """The rate facts as stored ({} without a group)."""
        return self.rate.model_dump() if self.rate is not None else {}
