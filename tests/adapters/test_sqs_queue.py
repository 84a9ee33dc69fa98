"""The SQS acknowledger deletes exactly the messages it is given."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib import clients
from chalicelib.adapters.sqs_queue import SqsAcknowledger
from chalicelib.batches import QueueMessage
from chalicelib.errors import DependencyUnavailableError
from tests.adapters.conftest import CommandQueue, messages_left, receive_all


def _queue_messages(received: list[dict[str, Any]], arn: str) -> list[QueueMessage]:
    return [
        QueueMessage(
            message_id=m["MessageId"],
            receipt_handle=m["ReceiptHandle"],
            body=m["Body"],
            queue_arn=arn,
        )
        for m in received
    ]


@pytest.fixture
def acknowledger(sqs: Any) -> SqsAcknowledger:
    return SqsAcknowledger(lambda: clients.client("sqs"))


def test_the_given_messages_are_deleted_and_the_others_stay(
    acknowledger: SqsAcknowledger, command_queue: CommandQueue, sqs: Any
) -> None:
    for n in range(3):
        sqs.send_message(QueueUrl=command_queue.url, MessageBody=f"m{n}")
    received = _queue_messages(
        receive_all(sqs, command_queue.url, expected=3), command_queue.arn
    )
    keep = next(m for m in received if m.body == "m1")

    acknowledger.delete([m for m in received if m is not keep])

    assert messages_left(sqs, command_queue.url) == 1


def test_more_messages_than_one_call_deletes_are_deleted_in_several_calls(
    acknowledger: SqsAcknowledger, command_queue: CommandQueue, sqs: Any
) -> None:
    for n in range(13):
        sqs.send_message(QueueUrl=command_queue.url, MessageBody=f"m{n}")
    received = _queue_messages(
        receive_all(sqs, command_queue.url, expected=13), command_queue.arn
    )

    acknowledger.delete(received)

    assert len(received) == 13
    assert messages_left(sqs, command_queue.url) == 0


def test_messages_of_a_queue_that_does_not_exist_cannot_be_acknowledged(
    acknowledger: SqsAcknowledger, sqs: Any
) -> None:
    ghost = QueueMessage(
        message_id="m",
        receipt_handle="r",
        body="{}",
        queue_arn="arn:aws:sqs:us-east-1:123456789012:no-such-queue",
    )

    with pytest.raises(DependencyUnavailableError) as caught:
        acknowledger.delete([ghost])

    assert caught.value.message == "could not delete handled messages"
