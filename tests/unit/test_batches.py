"""SQS batches: a failing message comes back alone; the others are done once."""

from __future__ import annotations

import json

import pytest
from chalice.app import SQSEvent

from chalicelib.batches import (
    BatchPartiallyFailedError,
    QueueMessage,
    process_batch,
    queue_message,
)
from chalicelib.deletes import DeleteProcessor
from chalicelib.domain import FileRecord, FileStatus
from chalicelib.messages import DeleteFileV1
from tests.builders import OWNER, add_file, forwarded_event, message_of, queued
from tests.fakes import InMemoryFileIndex, RecordingAcknowledger


class Handler:
    """Handles messages, failing those whose body says so."""

    def __init__(self) -> None:
        self.handled: list[str] = []

    def __call__(self, message: QueueMessage) -> None:
        self.handled.append(message.message_id)
        if message.body == "fail":
            raise ValueError("this one fails")


def test_when_the_second_of_three_fails_the_others_are_acknowledged_once(
    acknowledger: RecordingAcknowledger,
) -> None:
    messages = [queued("ok", "m1"), queued("fail", "m2"), queued("ok", "m3")]
    handler = Handler()

    with pytest.raises(BatchPartiallyFailedError) as caught:
        process_batch(messages, handler, acknowledger)

    assert handler.handled == ["m1", "m2", "m3"]
    assert acknowledger.deleted_ids == ["m1", "m3"]
    assert acknowledger.calls == 1
    assert caught.value.failed_message_ids == ["m2"]
    assert caught.value.message == "1 of 3 messages failed and will be retried"
    assert caught.value.details == {"failed_message_ids": ["m2"]}


def test_a_batch_that_succeeds_whole_is_left_to_lambda_to_delete(
    acknowledger: RecordingAcknowledger,
) -> None:
    messages = [queued("ok", "m1"), queued("ok", "m2")]

    process_batch(messages, Handler(), acknowledger)

    assert acknowledger.calls == 0


def test_a_batch_that_fails_whole_acknowledges_nothing_and_raises(
    acknowledger: RecordingAcknowledger,
) -> None:
    messages = [queued("fail", "m1"), queued("fail", "m2")]

    with pytest.raises(BatchPartiallyFailedError) as caught:
        process_batch(messages, Handler(), acknowledger)

    assert acknowledger.calls == 0
    assert caught.value.failed_message_ids == ["m1", "m2"]


def test_a_lambda_sqs_record_becomes_our_queue_message() -> None:
    record = {
        "messageId": "m-1",
        "receiptHandle": "rh-1",
        "body": '{"a": 1}',
        "attributes": {"ApproximateReceiveCount": "3"},
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
    }
    (sqs_record,) = SQSEvent({"Records": [record]}, context=None)

    message = queue_message(sqs_record)

    assert message == QueueMessage(
        message_id="m-1",
        receipt_handle="rh-1",
        body='{"a": 1}',
        queue_arn="arn:aws:sqs:us-east-1:123456789012:q",
        receive_count=3,
    )


def _command(record: FileRecord) -> DeleteFileV1:
    return message_of(DeleteFileV1, record, "t", record.sequence)


@pytest.mark.parametrize(
    "bad_body",
    [
        "not json",
        json.dumps({"detail-type": "FileCreated", "detail": {}}),
        json.dumps(
            {"detail-type": "DeleteFile", "detail": {"metadata": {"version": 2}}}
        ),
        json.dumps(
            {
                "detail-type": "DeleteFile",
                "detail": {"metadata": {"version": 1}, "data": {}},
            }
        ),
    ],
    ids=["not-json", "another-type", "another-version", "malformed-command"],
)
def test_a_delete_batch_with_one_bad_message_deletes_the_good_files_once(
    delete_processor: DeleteProcessor,
    index: InMemoryFileIndex,
    acknowledger: RecordingAcknowledger,
    bad_body: str,
) -> None:
    first, third = (
        add_file(index, name=n, status=FileStatus.DELETING) for n in ("1", "3")
    )
    messages = [
        queued(forwarded_event(_command(first)), "m1"),
        queued(bad_body, "m2"),
        queued(forwarded_event(_command(third)), "m3"),
    ]

    with pytest.raises(BatchPartiallyFailedError) as caught:
        delete_processor.consume(messages)

    assert caught.value.failed_message_ids == ["m2"]
    assert acknowledger.deleted_ids == ["m1", "m3"]
    assert index.get(OWNER, first.file_id) is None
    assert index.get(OWNER, third.file_id) is None
