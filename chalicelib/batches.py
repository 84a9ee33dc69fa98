"""SQS batches in which one failing message never replays the others.

Chalice cannot turn on `ReportBatchItemFailures`, and without it Lambda
treats a handler's answer as all-or-nothing. So when some messages of a batch
fail, the ones that succeeded are deleted from the queue here, and then the
batch raises: only the failed ones become visible again, and after the
queue's `maxReceiveCount` they move to its dead-letter queue. This holds
whatever deployed the function, and stays right where the setting is on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from chalice.app import SQSRecord

from chalicelib.errors import FileManagerError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueueMessage:
    message_id: str
    receipt_handle: str
    body: str
    queue_arn: str
    receive_count: int = 1


def queue_message(record: SQSRecord) -> QueueMessage:
    """Our view of one record of a Lambda SQS event."""
    raw = record.to_dict()
    return QueueMessage(
        message_id=raw["messageId"],
        receipt_handle=record.receipt_handle,
        body=record.body,
        queue_arn=raw["eventSourceARN"],
        receive_count=int(raw.get("attributes", {}).get("ApproximateReceiveCount", 1)),
    )


class MessageAcknowledger(Protocol):
    def delete(self, messages: Sequence[QueueMessage]) -> None:
        """Remove handled messages from their queue for good."""


class BatchPartiallyFailedError(FileManagerError):
    code = "BatchPartiallyFailed"

    def __init__(self, failed: Sequence[QueueMessage], total: int) -> None:
        ids = [m.message_id for m in failed]
        super().__init__(
            f"{len(failed)} of {total} messages failed and will be retried",
            details={"failed_message_ids": ids},
        )
        self.failed_message_ids = ids


def process_batch(
    messages: Sequence[QueueMessage],
    handle: Callable[[QueueMessage], None],
    acknowledger: MessageAcknowledger,
) -> None:
    failed: list[QueueMessage] = []
    for message in messages:
        try:
            handle(message)
        except Exception as exc:
            # The handler logs the failure with its trace id and traceback;
            # this line ties it to the queue's message.
            logger.warning(
                "message failed; it goes back to its queue",
                extra={
                    "message_id": message.message_id,
                    "receive_count": message.receive_count,
                    "error": type(exc).__name__,
                },
            )
            failed.append(message)
    if not failed:
        return
    succeeded = [m for m in messages if m not in failed]
    if succeeded:
        acknowledger.delete(succeeded)
    raise BatchPartiallyFailedError(failed, total=len(messages))
