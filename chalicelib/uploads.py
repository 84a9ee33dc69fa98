"""What an uploaded object means for its file: available, rejected, or stray.

S3 tells us of each object it stores, at least once and in no set order. The
handler is idempotent: a second delivery of the same event, or a multipart
upload's second notification, changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from chalicelib.domain import (
    FileRecord,
    FileStatus,
    StoredObject,
    parse_object_key,
)
from chalicelib.messages import messages_about
from chalicelib.outbox import flush_outbox, with_outbox
from chalicelib.ports import EventPublisher, FileIndex, ObjectStore

logger = logging.getLogger(__name__)


def _media_type(value: str | None) -> str:
    return "".join((value or "").split()).lower()


def broken_promises(record: FileRecord, stored: StoredObject) -> list[str]:
    """How the stored object differs from what was declared at create."""
    problems = []
    if stored.size != record.size:
        problems.append(f"size is {stored.size} bytes; {record.size} were declared")
    if _media_type(stored.content_type) != _media_type(record.content_type):
        problems.append(
            f"content type is {stored.content_type!r}; "
            f"{record.content_type!r} was declared"
        )
    if record.sha256 and stored.sha256 and stored.sha256 != record.sha256:
        problems.append("SHA-256 differs from the declared one")
    return problems


@dataclass
class UploadProcessor:
    index: FileIndex
    store: ObjectStore
    bus: EventPublisher

    def object_event(self, event_name: str, key: str, trace_id: str) -> None:
        """React to one S3 object notification (its key decoded once)."""
        if not event_name.startswith("ObjectCreated:"):
            logger.info(
                "object event ignored", extra={"event_name": event_name, "key": key}
            )
            return
        self.object_created(key, trace_id)

    def object_created(self, key: str, trace_id: str) -> None:
        ref = parse_object_key(key)
        if ref is None:
            logger.warning(
                "object outside our key layout left alone", extra={"key": key}
            )
            return
        record = self.index.get(ref.owner, ref.file_id)
        if record is not None and record.status is not FileStatus.DELETING:
            # A DELETING record's outbox is its delete's to publish, once the
            # bytes are gone.
            flush_outbox(record, self.index, self.bus)
        if record is None or not record.keeps_object:
            # A late upload of a file that is gone or was rejected.
            self.store.delete(key)
            logger.info(
                "object removed: its file does not keep it",
                extra={
                    "file_id": ref.file_id,
                    "status": record.status if record else None,
                },
            )
            return
        if record.status is FileStatus.DELETING:
            # The delete consumer removes the object; removing it here would
            # lose the bytes of a file whose delete is being undone.
            logger.info(
                "upload of a file being deleted left to the delete",
                extra={"file_id": ref.file_id},
            )
            return
        if record.status is FileStatus.TRASHED:
            # Settled long ago; a late copy of its event must not revive it.
            logger.info(
                "upload event of a trashed file ignored", extra={"file_id": ref.file_id}
            )
            return
        if record.status is FileStatus.AVAILABLE:
            # LIMITATION: a second POST with the same form, before it expires,
            # replaces the bytes of an available file; the record keeps the
            # first upload's etag and size.
            logger.info(
                "duplicate upload event ignored", extra={"file_id": ref.file_id}
            )
            return
        self._settle_pending(record, trace_id)

    def _settle_pending(self, record: FileRecord, trace_id: str) -> None:
        stored = self.store.head(record.key)
        if stored is None:
            logger.info(
                "uploaded object already gone", extra={"file_id": record.file_id}
            )
            return
        problems = broken_promises(record, stored)
        if problems:
            self._reject(record, "; ".join(problems), trace_id)
        else:
            self._accept(record, stored, trace_id)

    def _accept(self, record: FileRecord, stored: StoredObject, trace_id: str) -> None:
        available = record.evolve(
            status=FileStatus.AVAILABLE,
            etag=stored.etag,
            uploaded_at=stored.last_modified,
            sha256=stored.sha256 or record.sha256,
            # Verified only when S3 computed the checksum itself.
            sha256_verified=stored.sha256 is not None,
        )
        events = messages_about("FileCreated", available, trace_id, available.sequence)
        available = with_outbox(available, *events)
        self.index.transition(record, available)
        flush_outbox(available, self.index, self.bus)
        logger.info("file available", extra={"file_id": record.file_id})

    def _reject(self, record: FileRecord, reason: str, trace_id: str) -> None:
        rejected = record.evolve(status=FileStatus.REJECTED, rejected_reason=reason)
        events = messages_about("FileRejected", rejected, trace_id, rejected.sequence)
        rejected = with_outbox(rejected, *events)
        self.index.transition(record, rejected)
        self.store.delete(record.key)
        flush_outbox(rejected, self.index, self.bus)
        logger.warning(
            "upload rejected", extra={"file_id": record.file_id, "reason": reason}
        )
