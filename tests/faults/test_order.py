"""Duplicates and messages out of order, as queues and S3 may deliver them."""

from __future__ import annotations

import json
from typing import Any

from tests.faults.conftest import Service


def _duplicate_next_message(service: Service, url: str) -> None:
    """Put a copy of the queue's next message behind it (same body, same ids)."""
    (message,) = service.stack.sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=0
    )["Messages"]
    service.stack.sqs.send_message(QueueUrl=url, MessageBody=message["Body"])


def test_one_delete_command_delivered_twice_in_a_batch_deletes_once(
    service: Service,
) -> None:
    file_id, _ = service.available("a.txt")
    assert service.files.delete(file_id).status_code == 202
    _duplicate_next_message(service, service.stack.commands.url)
    service.stack.published()

    (delivery,) = service.run_deletes()
    service.settle()

    assert (delivery.ok, len(delivery.message_ids)) == (True, 2)
    deleted = [
        e for e in service.stack.published() if e["detail-type"] == "FileDeleted"
    ]
    assert len(deleted) == 2  # version 1 and version 2, each once
    assert service.stack.object_keys() == []
    assert service.feed() == [("created", file_id, 1), ("deleted", file_id, 3)]


def test_one_change_delivered_twice_in_a_batch_is_recorded_once(
    service: Service,
) -> None:
    file_id, _ = service.available("a.txt")
    _duplicate_next_message(service, service.stack.feed.url)

    (delivery,) = service.run_feed()

    assert (delivery.ok, len(delivery.message_ids)) == (True, 2)
    assert service.feed() == [("created", file_id, 1)]


def test_a_delete_carried_out_before_its_upload_event_leaves_nothing_behind(
    service: Service,
) -> None:
    file_id, key = service.upload("a.txt")
    assert service.files.delete(file_id).status_code == 202
    service.settle()

    assert service.object_created(key)  # the upload's event, at last
    service.settle()

    assert service.status(file_id) == "GONE"
    assert service.stack.object_keys() == []
    assert service.file_items() == []
    # Never created, so only its deletion is told.
    assert service.feed() == [("deleted", file_id, 2)]
    assert service.files.create("a.txt").status_code == 201


def test_an_upload_event_arriving_while_its_file_is_deleting_is_left_to_the_delete(
    service: Service,
) -> None:
    file_id, key = service.upload("a.txt")
    assert service.files.delete(file_id).status_code == 202

    assert service.object_created(key)
    status_between = service.status(file_id)
    service.settle()

    assert status_between == "DELETING"
    assert service.status(file_id) == "GONE"
    assert service.stack.object_keys() == []
    assert service.feed() == [("deleted", file_id, 2)]


def test_an_upload_event_repeated_after_the_delete_does_not_bring_the_file_back(
    service: Service,
) -> None:
    file_id, key = service.available("a.txt")
    assert service.files.delete(file_id).status_code == 202
    service.settle()

    assert service.object_created(key)  # S3 delivers its event once more
    service.settle()

    assert service.status(file_id) == "GONE"
    assert service.listed() == []
    assert service.file_items() == []
    assert service.stack.object_keys() == []
    assert service.feed() == [("created", file_id, 1), ("deleted", file_id, 3)]


def _type_of(message: dict[str, Any]) -> str:
    return str(json.loads(message["Body"])["detail-type"])


def test_a_files_changes_delivered_in_reverse_never_step_back_in_its_history(
    service: Service,
) -> None:
    file_id, _ = service.available("a.txt")
    assert service.files.delete(file_id).status_code == 202
    service.run_deletes()
    received = service.stack.receive(service.stack.feed, expected=2)
    reverse = sorted(received, key=lambda m: _type_of(m) != "FileDeleted")
    assert [_type_of(m) for m in reverse] == ["FileDeleted", "FileCreated"]

    event = service.files.sqs_event(reverse, service.stack.feed)
    service.files.client.lambda_.invoke("on_change_event", event)

    # A client applying the feed in order must end with the file gone: the
    # creation that came after its deletion is left out.
    assert service.feed() == [("deleted", file_id, 3)]
