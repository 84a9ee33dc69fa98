"""Deleting handled SQS messages from inside a consumer."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.batches import QueueMessage
from chalicelib.errors import DependencyUnavailableError

logger = logging.getLogger(__name__)

_MAX_BATCH = 10


def _queue_coordinates(queue_arn: str) -> tuple[str, str]:
    # arn:aws:sqs:<region>:<account>:<name>
    parts = queue_arn.split(":")
    return parts[4], parts[5]


class SqsAcknowledger:
    def __init__(self, client_factory: Callable[[], Any]) -> None:
        self._client_factory = client_factory

    def delete(self, messages: Sequence[QueueMessage]) -> None:
        client = self._client_factory()
        by_queue: dict[str, list[QueueMessage]] = {}
        for message in messages:
            by_queue.setdefault(message.queue_arn, []).append(message)
        for queue_arn, queued in by_queue.items():
            account, name = _queue_coordinates(queue_arn)
            try:
                url = client.get_queue_url(
                    QueueName=name, QueueOwnerAWSAccountId=account
                )["QueueUrl"]
                for start in range(0, len(queued), _MAX_BATCH):
                    self._delete_chunk(client, url, queued[start : start + _MAX_BATCH])
            except (ClientError, BotoCoreError) as exc:
                raise DependencyUnavailableError(
                    "could not delete handled messages"
                ) from exc

    def _delete_chunk(
        self, client: Any, url: str, messages: Sequence[QueueMessage]
    ) -> None:
        answer = client.delete_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m.receipt_handle}
                for i, m in enumerate(messages)
            ],
        )
        for failure in answer.get("Failed", []):
            # The message comes back and runs again; every handler of ours is
            # idempotent, so this costs time, not correctness.
            logger.warning(
                "could not delete a handled message",
                extra={"message_id": messages[int(failure["Id"])].message_id},
            )
