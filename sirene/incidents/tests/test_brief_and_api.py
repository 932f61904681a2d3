from __future__ import annotations

from typing import Any

import numpy as np
from django.db import transaction

from sirene.flows import incidents as incident_flows
from sirene.flows import intake as intake_flow
from sirene.incidents import brief
from sirene.incidents.models import Incident, ProblemGroup
from sirene.incidents.tests.conftest import make_case


def _report(email: str, text: str = "Video startet nicht, Fehler 500", **kw: Any) -> Any:
    with transaction.atomic():
        case = make_case(email, text, category="content", **kw)
        intake_flow.group_and_escalate(case)
    return case


def _baseline(n: int = 12) -> None:
    """Other recent reporters, each about something else (an empty vector never joins a group)."""
    other = np.zeros(8, dtype=np.float32)
    for i in range(n):
        _report(f"base{i}@firma{i}.de", "Rechnung fehlt", vector=other, attributes={"platform": "desktop"})


def test_the_brief_names_a_common_thread_that_stands_out_from_the_baseline(db: None) -> None:
    _baseline()
    for i in range(6):
        _report(
            f"k{i}@gmx.de",
            "Auf dem iPhone startet das Video nicht, Fehler 500",
            attributes={"platform": "mobile"},
        )
    incident = Incident.objects.get()
    found = {(f["attribute"], f["value"]) for f in incident.brief["common_thread"]}
    assert ("platform", "mobile") in found
    assert ("email_provider", "GMX") in found
    assert ("device", "iPhone") in found
    mobile = next(f for f in incident.brief["common_thread"] if f["attribute"] == "platform")
    assert mobile["share"] == 1.0 and mobile["baseline_share"] == 0.0


def test_the_brief_says_no_common_thread_when_affected_look_like_everybody(db: None) -> None:
    affected = {f"k{i}": {"platform": "mobile" if i % 2 else "desktop"} for i in range(6)}
    baseline = {f"b{i}": {"platform": "mobile" if i % 2 else "desktop"} for i in range(20)}
    assert brief.common_thread(affected, baseline) == []


def test_the_api_returns_the_brief_fields(db: None, api: Any) -> None:
    for i in range(6):
        _report(f"k{i}@web.de")
    incident = Incident.objects.get()
    body = api.get(f"/api/v1/incidents/{incident.pk}").json()
    for key in (
        "status",
        "customers_affected",
        "reports",
        "first_seen",
        "last_seen",
        "examples",
        "common_thread",
        "category",
    ):
        assert key in body
    assert body["category"] == "content"
    assert [e["email"] for e in body["examples"]][:3] == ["k0@web.de", "k1@web.de", "k2@web.de"]
    assert body["examples"][0]["url"] == f"/cases/{body['examples'][0]['case_id']}/"
    listing = api.get("/api/v1/incidents").json()
    assert listing["results"][0]["id"] == incident.pk


def test_ack_then_resolve_twice_changes_nothing_the_second_time(db: None, api: Any, lead_api: Any) -> None:
    for i in range(6):
        _report(f"k{i}@web.de")
    incident = Incident.objects.get()
    # Issue 22: a plain agent who is not a responder of the incident's escalation may not take over.
    assert api.post(f"/api/v1/incidents/{incident.pk}/ack").status_code == 403
    assert lead_api.post(f"/api/v1/incidents/{incident.pk}/ack").json()["status"] == "acknowledged"
    first = lead_api.post(f"/api/v1/incidents/{incident.pk}/resolve", {"resolution": "CDN neu gestartet"})
    assert first.status_code == 200 and first.json()["status"] == "resolved"
    second = lead_api.post(f"/api/v1/incidents/{incident.pk}/resolve", {"resolution": "noch mal"})
    assert second.status_code == 409
    assert "already resolved" in second.json()["detail"]
    incident.refresh_from_db()
    assert incident.resolution == "CDN neu gestartet"
    assert incident.events.filter(kind="resolved").count() == 1


def test_bad_input_gets_an_error_that_names_the_field(db: None, api: Any, lead_api: Any) -> None:
    assert api.post("/api/v1/incidents", {"title": "  ", "category": "login"}).status_code == 422
    bad = api.post("/api/v1/incidents", {"title": "x", "category": "nope"})
    assert bad.status_code == 422 and "category" in bad.json()["error"]
    assert (
        api.post("/api/v1/incidents", {"title": "x", "case_ids": [999999]})
        .json()["error"]
        .startswith("case_ids")
    )
    assert lead_api.post("/api/v1/incidents/1/resolve", {"resolution": 5}).status_code == 422
    assert api.get("/api/v1/incidents/424242").status_code == 404
    assert api.post("/api/v1/incidents", raw="{not json").status_code == 400
    assert Incident.objects.count() == 0


def test_opening_by_hand_answers_201_and_links_the_cases(db: None, api: Any) -> None:
    case = _report("one@web.de")
    response = api.post(
        "/api/v1/incidents", {"title": "Checkout kaputt", "category": "checkout", "case_ids": [case.pk]}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["customers_affected"] == 1 and body["case_ids"] == [case.pk]
    assert Incident.objects.get().origin == "manual"


def test_test_account_check_is_stored_and_validated(db: None, api: Any) -> None:
    incident = incident_flows.open_incident(title="Login", category="login")
    ok = api.post(
        f"/api/v1/incidents/{incident.pk}/test-check", {"reproduced": "yes", "note": "auch im Testkonto"}
    )
    assert ok.json()["test_account"] == {"reproduced": "yes", "note": "auch im Testkonto"}
    bad = api.post(f"/api/v1/incidents/{incident.pk}/test-check", {"reproduced": "maybe"})
    assert bad.status_code == 422 and bad.json()["error"].startswith("reproduced")


def _vec(i: int) -> np.ndarray:
    v = np.zeros(8, dtype=np.float32)
    v[i] = 1
    return v


def test_an_agent_can_move_merge_and_split_groups(db: None, api: Any) -> None:
    a = [_report(f"a{i}@web.de", vector=_vec(0)) for i in range(3)]
    b = [_report(f"b{i}@web.de", "Checkout", vector=_vec(1)) for i in range(3)]
    ga, gb = (
        ProblemGroup.objects.get(memberships__case=a[0]),
        ProblemGroup.objects.get(memberships__case=b[0]),
    )
    assert ga.pk != gb.pk
    moved = api.post(f"/api/v1/incidents/cases/{b[0].pk}/group", {"group_id": ga.pk}).json()
    assert moved["id"] == ga.pk and moved["count"] == 4
    merged = api.post(f"/api/v1/incidents/groups/{gb.pk}/merge", {"into": ga.pk}).json()
    assert merged["count"] == 6
    # 6 distinct customers in one group now: the rule fires on the merge.
    assert Incident.objects.get().customers_affected == 6
    split = api.post(f"/api/v1/incidents/groups/{ga.pk}/split", {"case_ids": [c.pk for c in b]}).json()
    assert split["count"] == 3 and split["id"] != ga.pk
    incident = Incident.objects.get()
    assert incident.customers_affected == 3
    assert incident.events.filter(kind="group_split").exists()
    gone = api.post(f"/api/v1/incidents/groups/{ga.pk}/merge", {"into": ga.pk})
    assert gone.status_code == 422


def test_nested_views_of_one_fact_count_once_in_the_correction() -> None:
    # 5 of 6 affected write from GMX; 12 of 40 others do. Domain, provider and provider group are
    # three views of one fact: counted as three tests (plus the device family) the finding would
    # drown (p ≈ 0.013 × 4 ≥ 0.05); counted as one family per fact it stands (× 2 < 0.05).
    def attrs(domain: str, device: str) -> dict[str, str]:
        provider = {"gmx.de": "GMX"}.get(domain, domain)
        group = {"GMX": "web.de/GMX"}.get(provider, provider)
        return {"email_domain": domain, "email_provider": provider, "email_group": group, "device": device}

    devices = ["iPhone", "Windows-PC", "MacBook", "Pixel", "Galaxy", "iPad"]
    affected = {f"k{i}": attrs("gmx.de" if i < 5 else "posteo.de", devices[i]) for i in range(6)}
    baseline = {
        f"b{i}": attrs("gmx.de" if i < 12 else f"firma{i}.de", devices[i % len(devices)]) for i in range(40)
    }
    found = {(f["attribute"], f["value"]) for f in brief.common_thread(affected, baseline)}
    assert ("email_group", "web.de/GMX") in found
    assert not any(attribute == "device" for attribute, _ in found)
