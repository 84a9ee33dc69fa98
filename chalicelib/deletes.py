"""The delete consumer: carries out `DeleteFile` commands from the bus.

Bytes go first, then the `FileDeleted` event, then the record. Each step is
safe to repeat, so a command delivered twice, or retried after a crash at
any point, ends in the same place: no object, no record, one event id.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from chalicelib.batches import MessageAcknowledger, QueueMessage, process_batch
from chalicelib.domain import FileStatus
from chalicelib.messages import (
    DeleteFileV1,
    from_forwarded_event,
    messages_about,
)
from chalicelib.ports import EventPublisher, FileIndex, ObjectStore
from chalicelib.tracing import traced

logger = logging.getLogger(__name__)

_READS: tuple[type[DeleteFileV1], ...] = (DeleteFileV1,)


@dataclass
class DeleteProcessor:
    index: FileIndex
    store: ObjectStore
    bus: EventPublisher
    acknowledger: MessageAcknowledger

    def consume(self, messages: Sequence[QueueMessage]) -> None:
        process_batch(messages, self._consume_one, self.acknowledger)

    def _consume_one(self, message: QueueMessage) -> None:
        command = from_forwarded_event(message.body, _READS)
        with traced(command.metadata.trace_id):
            logger.info(
                "DeleteFile received",
                extra={
                    "event_id": command.metadata.event_id,
                    "file_id": command.data.file_id,
                    "receive_count": message.receive_count,
                },
            )
            try:
                self.delete_file(command)
            except Exception:
                logger.exception(
                    "DeleteFile failed", extra={"file_id": command.data.file_id}
                )
                raise

    def delete_file(self, command: DeleteFileV1) -> None:
        owner, file_id = command.data.owner, command.data.file_id
        record = self.index.get(owner, file_id)
        if record is None:
            logger.info("file already deleted", extra={"file_id": file_id})
            return
        if record.status is not FileStatus.DELETING:
            # The route undid its mark after the bus failed to answer, yet the
            # command got through: the file stays.
            logger.warning(
                "delete command for a file not marked for deletion ignored",
                extra={"file_id": file_id, "status": record.status},
            )
            return
        self.store.delete(record.key)
        events = messages_about(
            "FileDeleted", record, command.metadata.trace_id, record.sequence + 1
        )
        self.bus.publish(events)
        self.index.remove(record)
        logger.info("file deleted", extra={"file_id": file_id})
