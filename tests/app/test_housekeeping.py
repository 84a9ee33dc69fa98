"""Housekeeping through the app: the scheduled sweep and outside deletes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import EndpointConnectionError

from chalicelib import bootstrap
from chalicelib.domain import FileStatus
from tests.app.conftest import ALICE, BUCKET, FileManager, Stack
from tests.builders import every_version


def _sweep(files: FileManager, after: timedelta) -> Any:
    """Run the scheduled sweep as if it fired `after` from now."""
    event = files.client.events.generate_cw_event(
        source="aws.events",
        detail_type="Scheduled Event",
        detail={},
        resources=["arn:aws:events:us-east-1:123456789012:rule/sweep"],
    )
    due = datetime.now(UTC) + after
    event["time"] = due.strftime("%Y-%m-%dT%H:%M:%SZ")
    return files.client.lambda_.invoke("sweep_index", event).payload


def _object_deleted(files: FileManager, key: str, bucket: str = BUCKET) -> Any:
    """S3's own "Object Deleted" event, as the default bus delivers it."""
    event = files.client.events.generate_cw_event(
        source="aws.s3",
        detail_type="Object Deleted",
        detail={
            "version": "0",
            "bucket": {"name": bucket},
            # EventBridge carries the key as stored, not URL-encoded.
            "object": {"key": key, "sequencer": "617f08299329d189"},
            "deletion-type": "Permanently Deleted",
            "reason": "DeleteObject",
        },
        resources=[f"arn:aws:s3:::{bucket}"],
        region="us-east-1",
    )
    return files.client.lambda_.invoke("on_object_deleted", event).payload


def _type_versions(events: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return sorted(
        (e["detail-type"], e["detail"]["metadata"]["version"]) for e in events
    )


def test_an_upload_whose_event_was_lost_becomes_available_at_the_sweep(
    files: FileManager, stack: Stack
) -> None:
    created = files.create("docs/lost.txt", size=5).json_body
    files.post_form(created, b"hello")
    stack.published()

    _sweep(files, after=timedelta(minutes=10))

    details = files.get(f"/files/{created['file_id']}").json_body
    assert details["status"] == "AVAILABLE"
    assert _type_versions(stack.published()) == every_version("FileCreated")
    assert stack.object_keys() == [created["upload"]["fields"]["key"]]


def test_an_upload_never_made_expires_leaving_no_record_and_a_free_name(
    files: FileManager, stack: Stack
) -> None:
    created = files.create("docs/never.txt").json_body
    stack.published()

    _sweep(files, after=timedelta(hours=1))

    assert files.get(f"/files/{created['file_id']}").status_code == 404
    assert stack.leftovers() == []
    assert stack.object_keys() == []
    assert stack.published() == []
    assert files.create("docs/never.txt").status_code == 201


def test_an_upload_still_in_time_survives_the_sweep(
    files: FileManager, stack: Stack
) -> None:
    created = files.create("docs/soon.txt").json_body

    _sweep(files, after=timedelta(minutes=10))

    details = files.get(f"/files/{created['file_id']}").json_body
    assert details["status"] == "PENDING"


def test_a_delete_interrupted_after_its_mark_is_finished(
    files: FileManager, stack: Stack
) -> None:
    file_id = files.add("docs/half.txt")
    index = bootstrap.file_service().index
    available = index.get(ALICE, file_id)
    assert available is not None
    # A crash between the route's mark and its command to the bus.
    index.transition(
        available,
        available.evolve(status=FileStatus.DELETING, status_since=datetime.now(UTC)),
    )
    stack.published()

    _sweep(files, after=timedelta(minutes=10))
    files.run_delete_consumer()

    assert files.get(f"/files/{file_id}").status_code == 404
    assert stack.leftovers() == []
    assert stack.object_keys() == []
    assert _type_versions(stack.published()) == sorted(
        [("DeleteFile", 1), *every_version("FileDeleted")]
    )


def test_an_object_deleted_outside_the_api_takes_its_file_and_name_along(
    files: FileManager, stack: Stack
) -> None:
    file_id = files.add("docs/by-hand.txt")
    key = f"files/{ALICE}/{file_id}"
    stack.s3.delete_object(Bucket=BUCKET, Key=key)
    stack.published()

    _object_deleted(files, key)

    assert files.get(f"/files/{file_id}").status_code == 404
    assert stack.leftovers() == []
    events = stack.published()
    assert _type_versions(events) == every_version("FileDeleted")
    assert {e["detail"]["metadata"]["file_id"] for e in events} == {file_id}
    assert files.create("docs/by-hand.txt").status_code == 201


def test_the_apis_own_delete_is_announced_once(
    files: FileManager, stack: Stack
) -> None:
    file_id = files.add("docs/ours.txt")
    key = f"files/{ALICE}/{file_id}"
    assert files.delete(file_id).status_code == 202
    # S3 tells of the consumer's delete only once the consumer is done, or
    # while the record is still DELETING: neither says anything more.
    _object_deleted(files, key)
    files.run_delete_consumer()
    _object_deleted(files, key)

    published = [e["detail-type"] for e in stack.published()]
    assert published.count("FileDeleted") == len(every_version("FileDeleted"))
    assert stack.leftovers() == []


# --- empty folders ------------------------------------------------------------


def _folders(files: FileManager, prefix: str = "") -> list[str]:
    answer = files.get(f"/files?delimiter=/&prefix={prefix}")
    assert answer.status_code == 200, answer.json_body
    return [folder["name"] for folder in answer.json_body["folders"]]


class _LostDrops:
    """Fails every DeleteItem: a crash right after a count reached zero."""

    def __init__(self) -> None:
        self.failed = 0

    def __call__(self, **_: Any) -> Any:
        self.failed += 1
        raise EndpointConnectionError(endpoint_url="https://dynamodb.invalid")


def test_a_folder_left_empty_by_a_crash_is_dropped_by_the_sweep(
    files: FileManager, stack: Stack
) -> None:
    gone = files.add("docs/deep/only.txt")
    files.add("docs/kept.txt")
    lost = _LostDrops()
    stack.dynamodb.meta.events.register("before-call.dynamodb.DeleteItem", lost)
    try:
        files.delete(gone)
        files.run_delete_consumer()
    finally:
        stack.dynamodb.meta.events.unregister("before-call.dynamodb.DeleteItem", lost)
    assert lost.failed >= 1
    assert _folders(files, "docs/") == ["docs/deep/"]  # empty, yet listed

    report = _sweep(files, after=timedelta(minutes=2))

    assert report is None or "errorMessage" not in report
    assert _folders(files, "docs/") == []
    assert _folders(files) == ["docs/"]  # still holds kept.txt
    folder_items = [
        i for i in stack.table_items() if i["sk"]["S"].startswith("FOLDER#")
    ]
    assert [i["name"]["S"] for i in folder_items] == ["docs/"]
    assert "attention_pk" not in folder_items[0]  # checked, and unmarked


def test_a_folder_emptied_moments_ago_waits_for_a_later_sweep(
    files: FileManager, stack: Stack
) -> None:
    gone = files.add("docs/only.txt")
    lost = _LostDrops()
    stack.dynamodb.meta.events.register("before-call.dynamodb.DeleteItem", lost)
    try:
        files.delete(gone)
        files.run_delete_consumer()
    finally:
        stack.dynamodb.meta.events.unregister("before-call.dynamodb.DeleteItem", lost)

    _sweep(files, after=timedelta(seconds=0))

    assert _folders(files) == ["docs/"]
