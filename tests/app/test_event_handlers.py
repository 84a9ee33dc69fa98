"""The S3 handler and the delete consumer, invoked as Lambda would invoke them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.batches import BatchPartiallyFailedError
from tests.app.conftest import ALICE, BUCKET, FileManager, Stack
from tests.builders import every_version

CASE_1_NAME = "reports/Q3 results (final)+v2: é.pdf"


def _status(files: FileManager, file_id: str) -> Any:
    return files.get(f"/files/{file_id}").json_body


def _by_version(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(events, key=lambda e: e["detail"]["metadata"]["version"])


def _type_versions(events: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """(type, version) of each event, sorted, as the bus tap saw them."""
    return sorted(
        (e["detail-type"], e["detail"]["metadata"]["version"]) for e in events
    )


# --- the S3 handler ------------------------------------------------------------


def test_an_uploaded_file_with_an_awkward_name_is_listed_under_exactly_that_name(
    files: FileManager, stack: Stack
) -> None:
    created = files.create(CASE_1_NAME, size=7, content_type="application/pdf")
    files.post_form(created.json_body, b"%PDF q3")
    stack.published()

    payload = files.object_event(created.json_body["upload"]["fields"]["key"])

    assert payload is None
    listing = files.get("/files?prefix=reports/&delimiter=/").json_body
    assert [i["name"] for i in listing["items"]] == [CASE_1_NAME]
    assert listing["items"][0]["status"] == "AVAILABLE"
    v1, v2 = _by_version(stack.published())
    assert (v1["detail-type"], v2["detail-type"]) == ("FileCreated", "FileCreated")
    assert v1["detail"]["data"]["name"] == CASE_1_NAME
    assert v1["detail"]["data"]["size"] == 7
    assert v2["detail"]["data"]["file"]["name"] == CASE_1_NAME
    assert v2["detail"]["data"]["file"]["size"] == 7


def test_a_declared_checksum_is_recorded_unverified_when_s3_reports_none(
    files: FileManager, stack: Stack
) -> None:
    sha = "6d1a2e0ac1c86c8f5b3d2aa1a7d1c8bd2f39f0e1f6b1a5f3b7a1c2d3e4f5a6b7"
    created = files.create("a.txt", size=5, sha256=sha).json_body
    files.post_form(created, b"hello")

    files.object_event(created["upload"]["fields"]["key"])

    details = _status(files, created["file_id"])
    assert (details["sha256"], details["sha256_verified"]) == (sha, False)


def test_the_same_upload_event_twice_makes_one_file_and_one_event_per_version(
    files: FileManager, stack: Stack
) -> None:
    created = files.create("a.txt").json_body
    files.post_form(created, b"hello")
    key = created["upload"]["fields"]["key"]
    stack.published()

    files.object_event(key, "ObjectCreated:Put")
    files.object_event(key, "ObjectCreated:Put")
    files.object_event(key, "ObjectCreated:CompleteMultipartUpload")

    assert _type_versions(stack.published()) == every_version("FileCreated")
    assert [i["file_id"] for i in files.get("/files").json_body["items"]] == [
        created["file_id"]
    ]


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"x" * 50, "text/plain", "size is 50 bytes; 10 were declared"),
        (
            b"x" * 10,
            "text/html",
            "content type is 'text/html'; 'text/plain' was declared",
        ),
    ],
    ids=["size", "content-type"],
)
def test_an_upload_that_differs_from_its_declaration_is_rejected_and_removed(
    files: FileManager, stack: Stack, body: bytes, content_type: str, reason: str
) -> None:
    created = files.create("a.txt", size=10, content_type="text/plain").json_body
    key = created["upload"]["fields"]["key"]
    stack.s3.put_object(Bucket=BUCKET, Key=key, Body=body, ContentType=content_type)
    stack.published()

    files.object_event(key, "ObjectCreated:Put")

    details = _status(files, created["file_id"])
    assert (details["status"], details["rejected_reason"]) == ("REJECTED", reason)
    assert details["download_url"] is None
    assert stack.object_keys() == []
    published = stack.published()
    assert _type_versions(published) == every_version("FileRejected")
    (rejected,) = published
    assert rejected["detail"]["data"]["reason"] == reason
    assert files.get("/files").json_body["items"] == []
    assert files.create("a.txt").status_code == 201


@pytest.mark.parametrize(
    "event_name",
    ["ObjectRemoved:Delete", "ObjectRemoved:DeleteMarkerCreated"],
)
def test_an_object_removal_event_is_ignored_without_error(
    files: FileManager, stack: Stack, event_name: str
) -> None:
    file_id = files.add("a.txt")
    stack.published()

    payload = files.object_event(f"files/{ALICE}/{file_id}", event_name)

    assert payload is None
    assert _status(files, file_id)["status"] == "AVAILABLE"
    assert stack.published() == []


@pytest.mark.parametrize(
    "key", ["incoming/Q3 results (final)+v2: é.pdf", "incoming/100%.txt", "a+b.txt"]
)
def test_an_object_outside_our_layout_is_left_where_it_is(
    files: FileManager, stack: Stack, key: str
) -> None:
    stack.s3.put_object(Bucket=BUCKET, Key=key, Body=b"not ours")

    payload = files.object_event(key)

    assert payload is None
    assert stack.object_keys() == [key]
    assert stack.leftovers() == []


def test_an_upload_after_its_file_was_deleted_does_not_bring_the_file_back(
    files: FileManager, stack: Stack
) -> None:
    file_id = files.add("a.txt")
    files.delete(file_id)
    files.run_delete_consumer()
    key = f"files/{ALICE}/{file_id}"
    stack.s3.put_object(Bucket=BUCKET, Key=key, Body=b"hello", ContentType="text/plain")

    files.object_event(key)

    assert files.get(f"/files/{file_id}").status_code == 404
    assert stack.object_keys() == []


# --- the delete consumer ---------------------------------------------------------


def _deleting(files: FileManager, count: int) -> list[str]:
    ids = [files.add(f"doc-{n}.txt") for n in range(count)]
    for file_id in ids:
        assert files.delete(file_id).status_code == 202
    return ids


def test_a_command_delivered_twice_deletes_once_and_announces_once_per_version(
    files: FileManager, stack: Stack
) -> None:
    (file_id,) = _deleting(files, 1)
    (message,) = stack.receive(stack.commands, 1)
    event = files.sqs_event([message])
    stack.published()

    files.client.lambda_.invoke("on_delete_file", event)
    files.client.lambda_.invoke("on_delete_file", event)

    assert _type_versions(stack.published()) == every_version("FileDeleted")
    assert files.get(f"/files/{file_id}").status_code == 404


def test_a_batch_whose_second_message_fails_deletes_the_others_and_raises(
    files: FileManager, stack: Stack
) -> None:
    first, third = _deleting(files, 2)
    good = stack.receive(stack.commands, 2)
    file_created = next(
        e for e in stack.published() if e["detail-type"] == "FileCreated"
    )
    stack.sqs.send_message(
        QueueUrl=stack.commands.url, MessageBody=json.dumps(file_created)
    )
    (poison,) = stack.receive(stack.commands, 1)
    event = files.sqs_event([good[0], poison, good[1]])

    with pytest.raises(BatchPartiallyFailedError) as caught:
        files.client.lambda_.invoke("on_delete_file", event)

    assert caught.value.failed_message_ids == [poison["MessageId"]]
    assert stack.messages_left(stack.commands) == 1
    assert files.get(f"/files/{first}").status_code == 404
    assert files.get(f"/files/{third}").status_code == 404
    assert stack.object_keys() == []
    deleted = stack.published()
    assert _type_versions(deleted) == sorted(every_version("FileDeleted") * 2)
    assert {e["detail"]["metadata"]["file_id"] for e in deleted} == {first, third}


def test_a_batch_of_commands_that_all_succeed_is_left_for_lambda_to_delete(
    files: FileManager, stack: Stack
) -> None:
    _deleting(files, 3)
    received = stack.receive(stack.commands, 3)

    payload = files.client.lambda_.invoke(
        "on_delete_file", files.sqs_event(received)
    ).payload

    assert payload is None
    assert stack.messages_left(stack.commands) == 3
    assert files.get("/files").json_body["items"] == []
