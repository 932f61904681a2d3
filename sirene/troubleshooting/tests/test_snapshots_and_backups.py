from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from sirene.troubleshooting import snapshots
from sirene.troubleshooting.models import Snapshot

ORIGINAL = {"account": {"plan": "club"}, "projects": [{"id": 1, "name": "Garten"}, {"id": 2, "name": "Haus"}]}
CURRENT = {
    "account": {"plan": "basic"},
    "projects": [{"id": 2, "name": "Haus (neu)"}, {"id": 3, "name": "Boot"}],
}


def test_the_diff_shows_what_changed_between_original_and_current(api: Any, case: Any) -> None:
    api.post(f"/api/v1/workspace/{case.pk}/snapshots", {"kind": "original", "data": ORIGINAL})
    api.post(f"/api/v1/workspace/{case.pk}/snapshots", {"kind": "current", "data": CURRENT})
    diff = api.get(f"/api/v1/workspace/{case.pk}/diff").json()
    rows = {(e["op"], e["path"]) for e in diff["entries"]}
    assert rows == {
        ("changed", "account.plan"),
        ("removed", "projects[id=1]"),
        ("added", "projects[id=3]"),
        ("changed", "projects[id=2].name"),
    }
    assert (diff["added"], diff["removed"], diff["changed"]) == (1, 1, 2)


def test_the_original_stays_the_reference_when_more_snapshots_follow(api: Any, case: Any) -> None:
    api.post(f"/api/v1/workspace/{case.pk}/snapshots", {"kind": "original", "data": ORIGINAL})
    api.post(f"/api/v1/workspace/{case.pk}/snapshots", {"kind": "current", "data": CURRENT})
    api.post(f"/api/v1/workspace/{case.pk}/snapshots", {"kind": "current", "data": ORIGINAL})
    diff = api.get(f"/api/v1/workspace/{case.pk}/diff").json()
    assert diff["available"] and diff["total"] == 0


def test_a_snapshot_must_be_a_json_object_or_array(api: Any, case: Any) -> None:
    response = api.post(f"/api/v1/workspace/{case.pk}/snapshots", {"kind": "original", "data": "kaputt"})
    assert response.status_code == 422 and response.json()["field"] == "data"
    assert not Snapshot.objects.exists()


def test_malformed_json_in_an_upload_is_refused_naming_the_position(
    client: Any, case: Any, agent: Any
) -> None:
    client.force_login(agent)
    upload = SimpleUploadedFile("p.json", b'{"projects": [1, 2,, 3]}', "application/json")
    response = client.post(
        f"/api/v1/workspace/{case.pk}/snapshots/upload", {"kind": "original", "file": upload}
    )
    assert response.status_code == 422
    assert "line 1 column" in response.json()["error"]


def test_an_oversized_snapshot_is_refused(settings: Any, api: Any, case: Any) -> None:
    settings.SNAPSHOT_MAX_BYTES = 1000
    response = api.post(
        f"/api/v1/workspace/{case.pk}/snapshots", {"kind": "original", "data": {"x": "y" * 2000}}
    )
    assert response.status_code == 422 and "larger than 1000 bytes" in response.json()["error"]


def test_a_deeply_nested_snapshot_is_refused() -> None:
    deep: Any = []
    for _ in range(100):
        deep = [deep]
    with pytest.raises(snapshots.SnapshotError, match="nested deeper"):
        snapshots.parse(deep, max_bytes=10_000)
    with pytest.raises(snapshots.SnapshotError, match="nested deeper"):
        snapshots.parse("[" * 5000 + "]" * 5000, max_bytes=100_000)


def test_a_large_snapshot_arrives_as_an_upload_over_the_json_body_limit(
    client: Any, case: Any, agent: Any
) -> None:
    big = {"lessons": [{"id": i, "title": f"Lektion {i}", "done": i % 2 == 0} for i in range(40_000)]}
    body = json.dumps(big).encode()
    assert len(body) > 1024 * 1024
    client.force_login(agent)
    upload = SimpleUploadedFile("big.json", body, "application/json")
    response = client.post(
        f"/api/v1/workspace/{case.pk}/snapshots/upload", {"kind": "original", "file": upload}
    )
    assert response.status_code == 201, response.content
    assert response.json()["checksum"] == snapshots.checksum(big)


def test_the_checksum_ignores_key_order_and_whitespace() -> None:
    assert snapshots.checksum(json.loads('{"a": 1, "b": [1,2]}')) == snapshots.checksum({"b": [1, 2], "a": 1})


def test_an_export_backup_stores_data_with_checksum_and_verifies(api: Any, case: Any) -> None:
    created = api.post(f"/api/v1/workspace/{case.pk}/backups", {"kind": "export", "data": ORIGINAL}).json()
    assert created["checksum"] == snapshots.checksum(ORIGINAL)
    fetched = api.get(f"/api/v1/workspace/{case.pk}/backups/{created['id']}").json()
    assert fetched["verified"] is True and fetched["data"] == ORIGINAL


def test_a_snapshot_can_be_backed_up_in_one_step(api: Any, case: Any) -> None:
    snap = api.post(f"/api/v1/workspace/{case.pk}/snapshots", {"kind": "original", "data": ORIGINAL}).json()
    backup = api.post(f"/api/v1/workspace/{case.pk}/backups", {"kind": "export", "snapshot_id": snap["id"]})
    assert backup.status_code == 201 and backup.json()["checksum"] == snap["checksum"]


def test_a_reference_backup_needs_a_location_and_a_real_sha256(api: Any, case: Any) -> None:
    no_place = api.post(f"/api/v1/workspace/{case.pk}/backups", {"kind": "reference", "location": ""})
    bad_sum = api.post(
        f"/api/v1/workspace/{case.pk}/backups",
        {"kind": "reference", "location": "share/4711.zip", "checksum": "abc"},
    )
    assert no_place.json()["field"] == "location"
    assert bad_sum.json()["field"] == "checksum"


def test_a_restore_is_recorded_with_who_and_how(api: Any, case: Any) -> None:
    backup = api.post(f"/api/v1/workspace/{case.pk}/backups", {"kind": "export", "data": ORIGINAL}).json()
    assert (
        api.post(f"/api/v1/workspace/{case.pk}/backups/{backup['id']}/restore", {"note": ""}).status_code
        == 422
    )
    done = api.post(
        f"/api/v1/workspace/{case.pk}/backups/{backup['id']}/restore",
        {"note": "Per Admin-Import zurückgespielt"},
    )
    assert done.json()["restored_at"] is not None


def test_the_backup_download_is_the_stored_export(client: Any, case: Any, agent: Any, api: Any) -> None:
    backup = api.post(f"/api/v1/workspace/{case.pk}/backups", {"kind": "export", "data": ORIGINAL}).json()
    client.force_login(agent)
    response = client.get(f"/troubleshooting/cases/{case.pk}/backups/{backup['id']}.json")
    assert json.loads(response.content) == ORIGINAL
    assert response["X-Checksum-SHA256"] == backup["checksum"]
