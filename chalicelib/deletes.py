"""The delete consumer: carries out `DeleteFile` commands from the bus.

The record is claimed first (its `FileDeleted` events written to its outbox
in the same conditional write), then the bytes go, then the events, then
the record. Each step is safe to repeat, so a command delivered twice, or
retried after a crash at any point, ends in the same place: no object, no
record, one event id.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from chalicelib.batches import MessageAcknowledger, QueueMessage, process_batch
from chalicelib.domain import FileRecord, FileStatus
from chalicelib.messages import (
    DeleteFileV1,
    Message,
    decode_outbox,
    from_forwarded_event,
    messages_about,
)
from chalicelib.outbox import flush_outbox, with_outbox
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
        claimed = self._claim(record, command.metadata.trace_id)
        self.store.delete(claimed.key)
        self.bus.publish(_announced_deletion(claimed))
        self.index.remove(claimed)
        logger.info("file deleted", extra={"file_id": file_id})

    def _claim(self, record: FileRecord, trace_id: str) -> FileRecord:
        """The record, moved on so that nothing can undo its delete any more.

        The route undoes its DELETING mark when the bus seems to refuse the
        command, yet a command whose answer was lost did get through. Taking
        the record to its next sequence, with its `FileDeleted` events in its
        outbox, makes any later undo fail its condition; an undo that came
        first makes this write fail, and the retried command then finds the
        file available. Either way the bytes never go while the record
        stays. A record claimed by an earlier try is taken as it is, so its
        events keep their ids.
        """
        if _announced_deletion(record):
            return record
        # Events an earlier change left in the outbox go out before ours.
        flush_outbox(record, self.index, self.bus)
        claimed = record.evolve()
        events = messages_about("FileDeleted", claimed, trace_id, claimed.sequence)
        claimed = with_outbox(claimed, *events)
        self.index.transition(record, claimed)
        return claimed


def _announced_deletion(record: FileRecord) -> list[Message]:
    """The `FileDeleted` events a claimed record holds in its outbox."""
    held = [decode_outbox(raw) for raw in record.outbox]
    return [m for m in held if m.metadata.type == "FileDeleted"]


def delete_command(record: FileRecord, trace_id: str) -> list[Message]:
    """The `DeleteFile` command of a record being deleted, as first sent.

    A command carries the sequence of the DELETING mark, which a claim has
    moved on by one: sent again, it keeps its first event id.
    """
    mark = record.sequence - 1 if _announced_deletion(record) else record.sequence
    return messages_about("DeleteFile", record, trace_id, mark)
