"""Housekeeping: the index reconciled with the bucket, and outside deletes.

`Sweeper.sweep` runs on a schedule and reads, from the sparse
`needs_attention` index (never a scan), records stuck in a passing status:

- a `PENDING` upload whose object is in the bucket lost its S3 event: it is
  settled by the S3 handler's own rules (`UploadProcessor.object_created`);
- a `PENDING` upload with no object, older than the presigned form's life
  plus a margin, will never come: its record goes, freeing its name, and any
  object that lands later is removed by the S3 handler as a stray;
- a `DELETING` record older than a few minutes lost its `DeleteFile`
  command (a crash between the mark and the bus, or a command that never
  reached its consumer): the same command goes on the bus again. It carries
  the same event id as the first, the delete consumer is idempotent, and the
  one code path that deletes keeps its retries, dead-letter queue and logs;
- a `TRASHED` file older than the trash's retention goes for good by the
  delete path every delete takes: it is marked `DELETING` (without its
  name, which it gave up in the trash) and its `DeleteFile` goes on the bus;
- a folder entry whose count went down is dropped if it is empty: the
  request that emptied it drops it after its own write, and a crash in
  between would leave an empty folder listed for good.

`ObjectDeletions.object_deleted` hears S3's own "Object Deleted" events (from
the default bus): an object removed outside the API (by hand, by a lifecycle
rule) takes its file with it, and `FileDeleted` tells consumers. A delete the
service did itself (record gone, `DELETING` or `REJECTED`) publishes nothing
more.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from chalicelib.deletes import delete_command
from chalicelib.domain import FileRecord, FileStatus, parse_object_key
from chalicelib.errors import ConcurrentUpdateError
from chalicelib.messages import messages_about
from chalicelib.ports import EventPublisher, FileIndex, FolderMark, ObjectStore
from chalicelib.settings import DEFAULT_TRASH_RETENTION_DAYS
from chalicelib.uploads import UploadProcessor

logger = logging.getLogger(__name__)

# S3 usually tells of an upload within seconds; one older than this whose
# object is there has lost its event.
SETTLE_AFTER = timedelta(minutes=5)
# A form used just before it expires may still be uploading when it does.
EXPIRY_MARGIN = timedelta(minutes=10)
# The delete consumer takes seconds; a command not done by then was lost, or
# is failing towards the dead-letter queue (whose alarm says so).
RESEND_DELETE_AFTER = timedelta(minutes=5)
# The request that lowers a count drops an empty folder within moments.
CHECK_FOLDER_AFTER = timedelta(minutes=1)
TRASH_RETENTION = timedelta(days=DEFAULT_TRASH_RETENTION_DAYS)
# One run does at most this much, so it ends well within its timeout.
MAX_RECORDS_PER_RUN = 200


@dataclass
class SweepReport:
    """What one sweep did, file ids by action."""

    settled: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)
    delete_resent: list[str] = field(default_factory=list)
    purged: list[str] = field(default_factory=list)
    # Folders, not files: empty entries dropped.
    folders_dropped: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def acted_on(self) -> int:
        return (
            len(self.settled)
            + len(self.expired)
            + len(self.delete_resent)
            + len(self.purged)
        )


@contextmanager
def _one_file(record: FileRecord, report: SweepReport) -> Iterator[None]:
    """One file's failure is logged and left to the next run, not the rest's."""
    try:
        yield
    except Exception:
        logger.exception(
            "sweep: file left for the next run", extra={"file_id": record.file_id}
        )
        report.failed.append(record.file_id)


@dataclass
class Sweeper:
    index: FileIndex
    store: ObjectStore
    bus: EventPublisher
    uploads: UploadProcessor
    presign_ttl_seconds: int
    trash_retention: timedelta = TRASH_RETENTION
    max_records: int = MAX_RECORDS_PER_RUN

    @property
    def expire_after(self) -> timedelta:
        return timedelta(seconds=self.presign_ttl_seconds) + EXPIRY_MARGIN

    def sweep(self, now: datetime, trace_id: str) -> SweepReport:
        report = SweepReport()
        pending = self.index.needing_attention(
            FileStatus.PENDING, now - SETTLE_AFTER, self.max_records
        )
        for record in pending:
            with _one_file(record, report):
                self._sweep_pending(record, now, trace_id, report)
        budget = self.max_records - len(pending)
        deleting = self.index.needing_attention(
            FileStatus.DELETING, now - RESEND_DELETE_AFTER, budget
        )
        for record in deleting:
            with _one_file(record, report):
                self._resend_delete(record, trace_id, report)
        budget -= len(deleting)
        trashed = self.index.needing_attention(
            FileStatus.TRASHED, now - self.trash_retention, budget
        )
        for record in trashed:
            with _one_file(record, report):
                self._purge(record, now, trace_id, report)
        budget -= len(trashed)
        if budget > 0:
            marks = self.index.folders_to_check(now - CHECK_FOLDER_AFTER, budget)
            for mark in marks:
                self._check_folder(mark, report)
        logger.info(
            "sweep done",
            extra={
                "settled": len(report.settled),
                "expired": len(report.expired),
                "delete_resent": len(report.delete_resent),
                "purged": len(report.purged),
                "folders_dropped": len(report.folders_dropped),
                "left": len(report.left),
                "failed": len(report.failed),
            },
        )
        return report

    def _sweep_pending(
        self, record: FileRecord, now: datetime, trace_id: str, report: SweepReport
    ) -> None:
        if self.store.head(record.key) is not None:
            # Exactly what the lost S3 event would have done, by the same code.
            self.uploads.object_created(record.key, trace_id)
            report.settled.append(record.file_id)
            logger.info(
                "sweep: upload whose event was lost settled",
                extra={"file_id": record.file_id},
            )
            return
        if record.in_status_since > now - self.expire_after:
            report.left.append(record.file_id)
            return
        try:
            self.index.remove(record)
        except ConcurrentUpdateError:
            # Its upload was settled meanwhile: no longer the sweep's work.
            report.left.append(record.file_id)
            return
        # An object that landed between the look and the removal is a stray.
        self.store.delete(record.key)
        report.expired.append(record.file_id)
        logger.info(
            "sweep: upload never completed expired, name freed",
            extra={"file_id": record.file_id},
        )

    def _check_folder(self, mark: FolderMark, report: SweepReport) -> None:
        try:
            dropped = self.index.settle_folder(mark)
        except Exception:
            logger.exception(
                "sweep: folder left for the next run", extra={"folder": mark.folder}
            )
            report.failed.append(mark.folder)
            return
        if dropped:
            report.folders_dropped.append(mark.folder)
            logger.info(
                "sweep: empty folder dropped",
                extra={"owner": mark.owner, "folder": mark.folder},
            )

    def _resend_delete(
        self, listed: FileRecord, trace_id: str, report: SweepReport
    ) -> None:
        # The index of passing records is eventually consistent: look again.
        record = self.index.get(listed.owner, listed.file_id)
        if record is None or record.status is not FileStatus.DELETING:
            report.left.append(listed.file_id)
            return
        # The very command first sent, with its event id.
        self.bus.publish(delete_command(record, trace_id))
        report.delete_resent.append(record.file_id)
        logger.info(
            "sweep: DeleteFile of an interrupted delete sent again",
            extra={"file_id": record.file_id},
        )

    def _purge(
        self, listed: FileRecord, now: datetime, trace_id: str, report: SweepReport
    ) -> None:
        record = self.index.get(listed.owner, listed.file_id)
        if record is None or record.status is not FileStatus.TRASHED:
            report.left.append(listed.file_id)
            return
        marked = record.evolve(
            status=FileStatus.DELETING, status_since=now, name_claimed=False
        )
        try:
            self.index.transition(record, marked)
        except ConcurrentUpdateError:
            # Restored or deleted meanwhile: no longer the sweep's work.
            report.left.append(record.file_id)
            return
        # Should the bus refuse, the mark stays and a later sweep sends the
        # command again, as for any interrupted delete.
        self.bus.publish(
            messages_about("DeleteFile", marked, trace_id, marked.sequence)
        )
        report.purged.append(record.file_id)
        logger.info(
            "sweep: trashed file past its retention sent to be deleted",
            extra={"file_id": record.file_id},
        )


@dataclass
class ObjectDeletions:
    """Files whose object was removed outside the API."""

    index: FileIndex
    store: ObjectStore
    bus: EventPublisher

    def object_deleted(self, key: str, trace_id: str) -> None:
        ref = parse_object_key(key)
        if ref is None:
            logger.info("deleted object outside our key layout", extra={"key": key})
            return
        record = self.index.get(ref.owner, ref.file_id)
        if record is None or record.status is not FileStatus.AVAILABLE:
            # Gone or going by our own hand (delete consumer, rejection,
            # expiry), or a PENDING upload the sweep will expire: the
            # service already tells, or has nothing to tell.
            logger.info(
                "object deletion needs nothing more",
                extra={
                    "file_id": ref.file_id,
                    "status": record.status if record else None,
                },
            )
            return
        if self.store.head(key) is not None:
            # A newer upload replaced it after the delete: the file stands.
            logger.info(
                "deleted object is back; file kept", extra={"file_id": ref.file_id}
            )
            return
        # As the delete consumer: the event first, then the record, so a
        # retry after a crash publishes the same event ids again.
        self.bus.publish(
            messages_about("FileDeleted", record, trace_id, record.sequence + 1)
        )
        self.index.remove(record)
        logger.info(
            "file removed: its object was deleted outside the API",
            extra={"file_id": ref.file_id},
        )
