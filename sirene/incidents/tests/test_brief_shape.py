"""Incident.brief has a typed shape, checked when it is read."""

from __future__ import annotations

import pydantic
import pytest

from sirene.incidents.brief_shape import Brief


def test_an_empty_brief_reads_as_the_defaults() -> None:
    brief = Brief.read({})
    assert brief.reports == 0 and brief.examples == [] and brief.rate is None
    assert brief.what.summary == "" and brief.rate_dict() == {}


def test_a_stored_brief_reads_typed_and_keeps_new_keys() -> None:
    brief = Brief.read(
        {
            "reports": 3,
            "what": {"summary": "Login 502", "error_codes": ["502"], "new_part": 1},
            "common_thread": [
                {
                    "attribute": "platform",
                    "value": "mobile",
                    "share": 0.9,
                    "baseline_share": 0.2,
                    "customers": 5,
                    "known": 6,
                    "p_value": 0.001,
                }
            ],
            "rate": {},
            "from_a_newer_version": True,
        }
    )
    assert brief.common_thread[0].value == "mobile" and brief.what.error_codes == ["502"]
    assert brief.model_extra == {"from_a_newer_version": True}


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"reports": "many"}, "reports"),
        ({"common_thread": [{"attribute": "platform"}]}, "common_thread.0.value"),
        ({"rate": {"threshold": 5}}, "rate.customers_in_window"),
    ],
)
def test_a_malformed_brief_is_refused_naming_the_field(raw: dict[str, object], field: str) -> None:
    with pytest.raises(pydantic.ValidationError) as err:
        Brief.read(raw)
    assert field in {".".join(str(p) for p in e["loc"]) for e in err.value.errors()}
