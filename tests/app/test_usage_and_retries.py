"""GET /usage, quotas on POST /files, and creates retried with Idempotency-Key."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib import bootstrap
from tests.app.conftest import ALICE, BOB, BUCKET, FileManager, Stack

MAX_FILES, MAX_BYTES = 3, 100


@pytest.fixture
def small_quota(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUOTA_MAX_FILES", str(MAX_FILES))
    monkeypatch.setenv("QUOTA_MAX_BYTES", str(MAX_BYTES))
    bootstrap.reset()


def _usage(files: FileManager, sub: str = ALICE) -> dict[str, Any]:
    answer = files.get("/usage", sub=sub)
    assert answer.status_code == 200, answer.json_body
    usage: dict[str, Any] = answer.json_body
    return usage


def _used(files: FileManager, sub: str = ALICE) -> tuple[int, int]:
    usage = _usage(files, sub)
    return usage["files"]["used"], usage["bytes"]["used"]


def _create(
    files: FileManager, name: str, size: int = 5, key: str | None = None, **body: Any
) -> Any:
    headers = files.headers(**{"Content-Type": "application/json"})
    if key is not None:
        headers["Idempotency-Key"] = key
    return files.client.http.post(
        "/files",
        headers=headers,
        body=json.dumps({"name": name, "size": size} | body),
    )


# --- usage and quotas -------------------------------------------------------------


def test_usage_shows_what_the_caller_stores_beside_the_quota(
    files: FileManager, stack: Stack, small_quota: None
) -> None:
    assert _usage(files) == {
        "files": {"used": 0, "limit": MAX_FILES},
        "bytes": {"used": 0, "limit": MAX_BYTES},
    }
    files.add("a.txt", b"12345")
    _create(files, "b.txt", size=20)

    assert _used(files) == (2, 25)
    assert _used(files, sub=BOB) == (0, 0)


def test_a_create_past_the_quota_is_a_403_that_says_where_the_caller_stands(
    files: FileManager, stack: Stack, small_quota: None
) -> None:
    _create(files, "a.txt", size=60)
    items_before = stack.table_items()

    answer = _create(files, "b.txt", size=41)

    assert answer.status_code == 403
    assert answer.json_body["Code"] == "QuotaExceeded"
    assert answer.json_body["Details"] == {
        "files": {"used": 1, "limit": MAX_FILES},
        "bytes": {"used": 60, "limit": MAX_BYTES},
        "requested_bytes": 41,
    }
    assert stack.table_items() == items_before
    assert "Contents" not in stack.s3.list_objects_v2(Bucket=BUCKET)


def test_usage_stays_right_through_upload_rejection_and_delete(
    files: FileManager, stack: Stack, small_quota: None
) -> None:
    kept = files.add("kept.txt", b"12345")
    gone = files.add("gone.txt", b"1234567890")
    wrong = _create(files, "wrong.txt", size=30).json_body
    files.post_form(wrong, b"not thirty bytes")  # S3 takes it; we reject it
    files.object_event(wrong["upload"]["fields"]["key"])
    assert files.get(f"/files/{wrong['file_id']}").json_body["status"] == "REJECTED"
    assert _used(files) == (2, 15)

    assert files.delete(gone).status_code == 202
    assert _used(files) == (2, 15)  # its bytes are still there
    files.run_delete_consumer()

    assert _used(files) == (1, 5)
    assert files.get(f"/files/{kept}").status_code == 200


def test_a_freed_quota_takes_new_files_again(
    files: FileManager, stack: Stack, small_quota: None
) -> None:
    ids = [files.add(f"{n}.txt", b"1") for n in range(MAX_FILES)]
    assert _create(files, "more.txt", size=1).status_code == 403

    files.delete(ids[0])
    files.run_delete_consumer()

    assert _create(files, "more.txt", size=1).status_code == 201


# --- Idempotency-Key ------------------------------------------------------------


def test_a_create_sent_again_with_its_key_gets_the_same_file_and_a_fresh_form(
    files: FileManager, stack: Stack
) -> None:
    first = _create(files, "docs/a.txt", key="retry-1")
    again = _create(files, "docs/a.txt", key="retry-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json_body["file_id"] == first.json_body["file_id"]
    assert (
        again.json_body["upload"]["fields"]["key"]
        == (first.json_body["upload"]["fields"]["key"])
    )
    assert _used(files) == (1, 5)
    files.post_form(again.json_body, b"hello")
    files.object_event(again.json_body["upload"]["fields"]["key"])
    details = files.get(f"/files/{first.json_body['file_id']}").json_body
    assert details["status"] == "AVAILABLE"


def test_a_create_sent_again_after_its_upload_gets_the_file_and_no_form(
    files: FileManager, stack: Stack
) -> None:
    first = _create(files, "a.txt", key="retry-2").json_body
    files.post_form(first, b"hello")
    files.object_event(first["upload"]["fields"]["key"])

    again = _create(files, "a.txt", key="retry-2")

    assert again.status_code == 201
    assert again.json_body == {
        "file_id": first["file_id"],
        "name": "a.txt",
        "status": "AVAILABLE",
        "upload": None,
    }


def test_a_key_sent_with_another_request_is_a_422_and_changes_nothing(
    files: FileManager, stack: Stack
) -> None:
    first = _create(files, "a.txt", key="retry-3").json_body
    items_before = stack.table_items()

    answer = _create(files, "b.txt", key="retry-3")

    assert answer.status_code == 422
    assert answer.json_body["Code"] == "IdempotencyKeyReused"
    assert answer.json_body["Details"] == {"file_id": first["file_id"]}
    assert stack.table_items() == items_before


def test_a_key_whose_file_was_deleted_is_a_409(
    files: FileManager, stack: Stack
) -> None:
    first = _create(files, "a.txt", key="retry-4").json_body
    files.delete(first["file_id"])
    files.run_delete_consumer()

    answer = _create(files, "a.txt", key="retry-4")

    assert answer.status_code == 409
    assert answer.json_body["Code"] == "FileStateConflict"


def test_the_same_name_without_a_key_is_still_a_conflict(
    files: FileManager, stack: Stack
) -> None:
    _create(files, "a.txt", key="retry-5")

    assert _create(files, "a.txt").status_code == 409
    assert _create(files, "a.txt", key="another-key").status_code == 409


def test_keys_are_per_user(files: FileManager, stack: Stack) -> None:
    mine = _create(files, "a.txt", key="shared-key").json_body
    headers = files.headers(BOB, **{"Content-Type": "application/json"})
    headers["Idempotency-Key"] = "shared-key"

    theirs = files.client.http.post(
        "/files", headers=headers, body=json.dumps({"name": "a.txt", "size": 5})
    )

    assert theirs.status_code == 201
    assert theirs.json_body["file_id"] != mine["file_id"]


@pytest.mark.parametrize("key", ["", "a" * 256, "with space", "caf\u00e9", "tab\tkey"])
def test_a_malformed_key_is_a_400_and_changes_nothing(
    files: FileManager, stack: Stack, key: str
) -> None:
    answer = _create(files, "a.txt", key=key)

    assert answer.status_code == 400
    assert answer.json_body["Code"] == "ValidationError"
    assert "Idempotency-Key" in answer.json_body["Message"]
    assert stack.table_items() == []


def test_a_create_with_a_query_parameter_is_a_400_and_stores_nothing(
    files: FileManager, stack: Stack
) -> None:
    headers = files.headers(**{"Content-Type": "application/json"})

    answer = files.client.http.post(
        "/files?prefix=a",
        headers=headers,
        body=json.dumps({"name": "a.txt", "size": 1}),
    )

    assert answer.status_code == 400
    assert answer.json_body["Code"] == "ValidationError"
    assert stack.table_items() == []
