"""GET and DELETE /files/{id}: details, downloads, and the storage-first delete."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import requests

from tests.app.conftest import ALICE, BOB, BUCKET, BUS, FileManager, Stack
from tests.builders import every_version

CASE_1_NAME = "reports/Q3 results (final)+v2: é.pdf"
MISSING_ID = "0123456789abcdef0123456789abcdef"


def _filename_star(header: str) -> str:
    return unquote(header.split("filename*=UTF-8''", 1)[1], errors="strict")


def _not_found(file_id: str) -> dict[str, str]:
    return {"Code": "FileNotFound", "Message": f"no file with id {file_id!r}"}


# --- describe and download ----------------------------------------------------


def test_an_available_file_comes_with_a_download_url_that_serves_its_bytes(
    files: FileManager, stack: Stack
) -> None:
    file_id = files.add(CASE_1_NAME, b"%PDF-1.7 q3", content_type="application/pdf")

    answer = files.get(f"/files/{file_id}")

    details = answer.json_body
    assert answer.status_code == 200
    assert (details["name"], details["status"], details["size"]) == (
        CASE_1_NAME,
        "AVAILABLE",
        11,
    )
    assert details["download_expires_at"] is not None
    download = requests.get(details["download_url"], timeout=10)
    assert download.content == b"%PDF-1.7 q3"
    assert download.headers["Content-Type"] == "application/pdf"
    disposition = download.headers["Content-Disposition"]
    assert _filename_star(disposition) == "Q3 results (final)+v2: é.pdf"


@pytest.mark.parametrize("file_id", [MISSING_ID, "not-an-id", "A" * 32])
def test_a_file_that_does_not_exist_is_a_404(
    files: FileManager, stack: Stack, file_id: str
) -> None:
    answer = files.get(f"/files/{file_id}")

    assert answer.status_code == 404
    assert answer.json_body == _not_found(file_id)


# --- case 10: another user's file -----------------------------------------------


def _as_bob(files: FileManager, method: str, file_id: str) -> Any:
    if method == "GET":
        return files.get(f"/files/{file_id}", sub=BOB)
    return files.delete(file_id, sub=BOB)


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_another_users_file_is_a_404_exactly_like_a_missing_one(
    files: FileManager, stack: Stack, method: str
) -> None:
    alices = files.add("private.txt", b"secret", sub=ALICE)
    before = files.get(f"/files/{alices}").json_body

    foreign = _as_bob(files, method, alices)
    missing = _as_bob(files, method, MISSING_ID)

    assert (foreign.status_code, missing.status_code) == (404, 404)
    assert foreign.json_body == _not_found(alices)
    assert missing.json_body == _not_found(MISSING_ID)
    assert foreign.headers.keys() == missing.headers.keys()
    after = files.get(f"/files/{alices}").json_body
    assert after | {"download_url": None, "download_expires_at": None} == before | {
        "download_url": None,
        "download_expires_at": None,
    }
    assert stack.messages_left(stack.commands) == 0
    assert f"files/{ALICE}/{alices}" in stack.object_keys()


# --- delete --------------------------------------------------------------------


def test_a_delete_answers_202_once_the_command_is_on_the_bus(
    files: FileManager, stack: Stack
) -> None:
    file_id = files.add("docs/a.txt")
    stack.published()

    answer = files.delete(file_id, **{"X-Trace-Id": "delete-trace-1"})

    assert answer.status_code == 202
    assert answer.json_body == {"file_id": file_id, "status": "DELETING"}
    (command,) = stack.published()
    assert command["detail-type"] == "DeleteFile"
    assert command["detail"]["metadata"]["trace_id"] == "delete-trace-1"
    assert command["detail"]["data"] == {
        "owner": ALICE,
        "file_id": file_id,
        "name": "docs/a.txt",
    }
    assert stack.messages_left(stack.commands) == 1


def test_a_file_being_deleted_reads_as_deleting_is_not_listed_and_keeps_its_name(
    files: FileManager, stack: Stack
) -> None:
    file_id = files.add("docs/a.txt")

    files.delete(file_id)

    details = files.get(f"/files/{file_id}").json_body
    assert (details["status"], details["download_url"]) == ("DELETING", None)
    assert files.get("/files").json_body["items"] == []
    assert files.get("/files?delimiter=/").json_body["folders"] == []
    assert files.create("docs/a.txt").status_code == 409


def test_once_the_consumer_ran_the_file_is_gone_and_its_name_free(
    files: FileManager, stack: Stack
) -> None:
    file_id = files.add("docs/a.txt")
    files.delete(file_id)
    stack.published()

    result = files.run_delete_consumer()

    assert result is None
    assert files.get(f"/files/{file_id}").status_code == 404
    assert stack.object_keys() == []
    announced = sorted(
        (e["detail-type"], e["detail"]["metadata"]["version"])
        for e in stack.published()
    )
    assert announced == every_version("FileDeleted")
    assert files.create("docs/a.txt").status_code == 201


def test_when_the_bus_is_unavailable_a_delete_is_a_503_and_nothing_changes(
    files: FileManager, stack: Stack
) -> None:
    file_id = files.add("docs/a.txt", b"keep me")
    before = files.get(f"/files/{file_id}").json_body
    stack.events.delete_event_bus(Name=BUS)

    answer = files.delete(file_id)

    assert answer.status_code == 503
    assert answer.json_body == {
        "Code": "ServiceUnavailable",
        "Message": "the event bus refused the call; try again",
    }
    after = files.get(f"/files/{file_id}").json_body
    assert after["status"] == "AVAILABLE"
    assert {k: v for k, v in after.items() if "download" not in k} == {
        k: v for k, v in before.items() if "download" not in k
    }
    assert [i["file_id"] for i in files.get("/files").json_body["items"]] == [file_id]
    assert requests.get(after["download_url"], timeout=10).content == b"keep me"
    assert stack.messages_left(stack.commands) == 0


def test_deleting_a_pending_file_removes_it_and_any_late_upload(
    files: FileManager, stack: Stack
) -> None:
    created = files.create("late.txt", size=5).json_body
    key = created["upload"]["fields"]["key"]

    accepted = files.delete(created["file_id"])
    files.run_delete_consumer()
    files.post_form(created, b"hello")
    files.object_event(key)

    assert accepted.status_code == 202
    assert files.get(f"/files/{created['file_id']}").status_code == 404
    assert files.get("/files").json_body["items"] == []
    assert stack.object_keys() == []


def test_deleting_a_rejected_upload_is_done_at_once(
    files: FileManager, stack: Stack
) -> None:
    created = files.create("wrong.txt", size=10).json_body
    stack.s3.put_object(
        Bucket=BUCKET,
        Key=created["upload"]["fields"]["key"],
        Body=b"x" * 50,
        ContentType="text/plain",
    )
    files.object_event(created["upload"]["fields"]["key"])

    answer = files.delete(created["file_id"])

    assert answer.status_code == 202
    assert answer.json_body == {"file_id": created["file_id"], "status": "DELETED"}
    assert files.get(f"/files/{created['file_id']}").status_code == 404
    assert stack.messages_left(stack.commands) == 0


def test_no_query_parameter_makes_a_download_url_live_longer(
    files: FileManager, stack: Stack
) -> None:
    file_id = files.add("a.txt")

    asked = files.get(f"/files/{file_id}?expires_in=604800&X-Amz-Expires=604800")
    answer = files.get(f"/files/{file_id}")

    assert asked.status_code == 400
    assert asked.json_body["Code"] == "ValidationError"
    url = answer.json_body["download_url"]
    assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == ["900"]


class _EntryRefused:
    """put_events answering 200 with its one entry failed (shared case 3)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, **_: Any) -> Any:
        self.calls += 1
        answer = {
            "FailedEntryCount": 1,
            "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "try later"}],
        }
        return (_HttpOk(), answer)


class _HttpOk:
    status_code = 200
    headers: dict[str, str] = {}


def test_a_command_the_bus_refuses_without_raising_is_a_503_and_nothing_changes(
    files: FileManager, stack: Stack
) -> None:
    file_id = files.add("docs/a.txt", b"keep me")
    stack.published()
    refused = _EntryRefused()
    stack.events.meta.events.register("before-call.events.PutEvents", refused)
    try:
        answer = files.delete(file_id)
    finally:
        stack.events.meta.events.unregister("before-call.events.PutEvents", refused)

    assert refused.calls == 1
    assert answer.status_code == 503
    assert answer.json_body["Code"] == "ServiceUnavailable"
    assert "try again" in answer.json_body["Message"]
    after = files.get(f"/files/{file_id}").json_body
    assert after["status"] == "AVAILABLE"
    assert [i["file_id"] for i in files.get("/files").json_body["items"]] == [file_id]
    assert requests.get(after["download_url"], timeout=10).content == b"keep me"
    assert stack.object_keys() == [f"files/{ALICE}/{file_id}"]
    assert stack.published() == []
