"""Looking into a dead-letter queue and sending its messages back.

On AWS, `aws sqs start-message-move-task` does the sending back; moto has no
such task, so the local stack moves the messages itself, one by one: each
is sent to its queue before it is deleted from the dead-letter queue, so a
crash in between duplicates a message (every consumer is idempotent) and
never loses one.

The S3 handler's failures queue holds Lambda's on-failure records rather
than messages: what goes back to the S3 notification queue is the S3 event
each record carries (`requestPayload`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

_BATCH = 10


def depth(sqs: Any, queue_url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def peek(sqs: Any, queue_url: str) -> list[str]:
    """Bodies of up to ten waiting messages, left in the queue."""
    answer = sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=_BATCH, VisibilityTimeout=0
    )
    return [m["Body"] for m in answer.get("Messages", [])]


def drain(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Every waiting message, held invisible while it is moved."""
    received: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=_BATCH, VisibilityTimeout=300
        ).get("Messages", [])
        if not batch:
            return received
        received += batch


def send_back(
    sqs: Any,
    source_url: str,
    target_url: str,
    messages: list[dict[str, Any]],
    body_of: Callable[[str], str] = lambda body: body,
) -> None:
    for message in messages:
        sqs.send_message(QueueUrl=target_url, MessageBody=body_of(message["Body"]))
        sqs.delete_message(QueueUrl=source_url, ReceiptHandle=message["ReceiptHandle"])


def s3_event_of(failure: str) -> str:
    """The S3 notification inside one of Lambda's on-failure records."""
    payload = json.loads(failure)["requestPayload"]
    return json.dumps({"Records": payload["Records"]})
