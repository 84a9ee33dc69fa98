"""What the API does with files: create, list, describe, rename, trash,
restore, and ask to delete."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from chalicelib.api import (
    CreatedFile,
    CreateFileRequest,
    DeleteAccepted,
    FileDetails,
    FileListing,
    FileView,
    FolderView,
    ListFilesQuery,
    RenameFileRequest,
    TrashListing,
    TrashQuery,
    UploadForm,
    UsageFigure,
    UsageView,
)
from chalicelib.cursors import CursorCodec
from chalicelib.domain import (
    FileRecord,
    FileStatus,
    Quota,
    new_file_id,
    utc_now,
)
from chalicelib.errors import (
    DependencyUnavailableError,
    FileStateConflictError,
    IdempotencyKeyReusedError,
    IdempotencyKeyTaken,
    NameConflictError,
    NoSuchFileError,
)
from chalicelib.messages import messages_about
from chalicelib.names import last_segment, numbered_names
from chalicelib.outbox import flush_outbox, transition_with_events
from chalicelib.ports import EventPublisher, FileIndex, IdempotencyClaim, ObjectStore
from chalicelib.settings import DEFAULT_TRASH_RETENTION_DAYS

logger = logging.getLogger(__name__)

_FILE_ID = re.compile(r"[0-9a-f]{32}")
# How long a create can be repeated with its Idempotency-Key: long enough to
# outlast any client's retries, short enough that keys need no housekeeping.
IDEMPOTENCY_WINDOW = timedelta(hours=24)
# Trash cursors are signed for this listing alone.
_TRASH_SCOPE = {"list": "trash"}
# A name may change while the file is being uploaded or once it is there;
# a file on its way out keeps the name it goes with.
RENAMEABLE = frozenset({FileStatus.PENDING, FileStatus.AVAILABLE})
# A restore whose name was taken meanwhile tries `name (1)` up to this far.
RESTORE_NAME_ATTEMPTS = 20


@dataclass
class FileService:
    index: FileIndex
    store: ObjectStore
    bus: EventPublisher
    cursors: CursorCodec
    presign_ttl_seconds: int
    quota: Quota
    trash_retention_days: int = DEFAULT_TRASH_RETENTION_DAYS
    clock: Callable[[], datetime] = utc_now

    def create_file(
        self,
        owner: str,
        request: CreateFileRequest,
        idempotency_key: str | None = None,
    ) -> CreatedFile:
        """Index a new PENDING file and hand out the form that uploads it.

        With an idempotency key, a repeat of the same request (its answer
        lost on the way) gets the same file again, with a fresh form.
        """
        record = FileRecord(
            owner=owner,
            file_id=new_file_id(),
            name=request.name,
            size=request.size,
            content_type=request.content_type,
            status=FileStatus.PENDING,
            created_at=self.clock(),
            sha256=request.sha256,
        )
        claim = None
        if idempotency_key is not None:
            claim = IdempotencyClaim(
                key=idempotency_key,
                fingerprint=_fingerprint(request),
                expires_at=record.created_at + IDEMPOTENCY_WINDOW,
            )
        try:
            self.index.create(record, self.quota, claim)
        except IdempotencyKeyTaken as taken:
            assert claim is not None  # only a create with a key is told this
            return self._create_again(owner, claim, taken)
        logger.info(
            "file created, waiting for its upload",
            extra={"file_id": record.file_id, "size": record.size},
        )
        return self._created(record)

    def _create_again(
        self, owner: str, claim: IdempotencyClaim, taken: IdempotencyKeyTaken
    ) -> CreatedFile:
        if taken.fingerprint != claim.fingerprint:
            raise IdempotencyKeyReusedError(
                "this Idempotency-Key came with a different request before; "
                "send a new key for a new file",
                details={"file_id": taken.file_id},
            )
        record = self.index.get(owner, taken.file_id)
        if record is None or record.status not in (
            FileStatus.PENDING,
            FileStatus.AVAILABLE,
        ):
            state = "gone" if record is None else record.status.value
            raise FileStateConflictError(
                f"the file this Idempotency-Key created is {state}; "
                "send a new key to create it again",
                details={"file_id": taken.file_id},
            )
        logger.info("create repeated", extra={"file_id": record.file_id})
        return self._created(record)

    def _created(self, record: FileRecord) -> CreatedFile:
        if record.status is not FileStatus.PENDING:
            # Uploaded already: a new form would only overwrite the bytes.
            return CreatedFile(
                file_id=record.file_id,
                name=record.name,
                status=record.status,
                upload=None,
            )
        form = self.store.presign_upload(
            record.key,
            record.size,
            record.content_type,
            record.sha256,
            self.presign_ttl_seconds,
        )
        return CreatedFile(
            file_id=record.file_id,
            name=record.name,
            status=record.status,
            upload=UploadForm(
                url=form.url, fields=form.fields, expires_at=self._expiry()
            ),
        )

    def usage(self, owner: str) -> UsageView:
        used = self.index.usage(owner)
        return UsageView(
            files=UsageFigure(used=used.files, limit=self.quota.max_files),
            bytes=UsageFigure(used=used.bytes, limit=self.quota.max_bytes),
        )

    def list_files(self, owner: str, query: ListFilesQuery) -> FileListing:
        scope = {"prefix": query.prefix, "delimiter": query.delimiter}
        start = (
            self.cursors.decode(owner, scope, query.cursor)
            if query.cursor is not None
            else None
        )
        page = self.index.list_page(
            owner, query.prefix, query.delimiter, query.limit, start
        )
        next_cursor = (
            self.cursors.encode(owner, scope, page.next_position)
            if page.next_position
            else None
        )
        return FileListing(
            items=[FileView.of(record) for record in page.files],
            folders=[FolderView(name=name) for name in page.folders],
            next_cursor=next_cursor,
        )

    def describe_file(self, owner: str, file_id: str) -> FileDetails:
        record = self._find(owner, file_id)
        details = FileDetails.model_validate(FileView.of(record).model_dump())
        if record.status is FileStatus.AVAILABLE:
            details.download_url = self.store.presign_download(
                record.key,
                last_segment(record.name),
                record.content_type,
                self.presign_ttl_seconds,
            )
            details.download_expires_at = self._expiry()
        return details

    def rename_file(
        self, owner: str, file_id: str, request: RenameFileRequest, trace_id: str
    ) -> FileView:
        """Give a file a new name, in any folder; its bytes stay where they are.

        The new name is claimed, the old one freed and `FileRenamed` put in
        the record's outbox in one write, then published.
        """
        record = self._find(owner, file_id)
        if record.status not in RENAMEABLE:
            raise FileStateConflictError(
                f"a {record.status.value} file cannot be renamed",
                details={"file_id": file_id, "status": record.status.value},
            )
        if record.name == request.name:
            # A repeat of a rename whose answer was a 503 (its event left in
            # the outbox when the bus refused it) sends that event now.
            # LIMITATION: unless the rename is repeated, such an event waits
            # for the file's next change; the sweep does not look for
            # outboxes left full (that would take a sparse index of them).
            flush_outbox(record, self.index, self.bus)
            return FileView.of(record)
        renamed = record.evolve(name=request.name)
        events = messages_about(
            "FileRenamed", renamed, trace_id, renamed.sequence, before=record
        )
        renamed = transition_with_events(self.index, self.bus, record, renamed, events)
        logger.info("file renamed", extra={"file_id": file_id})
        return FileView.of(renamed)

    def trash_file(self, owner: str, file_id: str, trace_id: str) -> FileView:
        """Move an available file to the trash: unlisted, its name free, its
        bytes kept (and counted) until it is restored or deleted for good."""
        record = self._find(owner, file_id)
        if record.status is FileStatus.TRASHED:
            # A repeat (its answer lost): the same answer, any event sent.
            flush_outbox(record, self.index, self.bus)
            return FileView.of(record)
        if record.status is not FileStatus.AVAILABLE:
            raise FileStateConflictError(
                f"only an available file goes to the trash; this one is "
                f"{record.status.value}",
                details={"file_id": file_id, "status": record.status.value},
            )
        now = self.clock()
        trashed = record.evolve(status=FileStatus.TRASHED, status_since=now)
        events = messages_about("FileTrashed", trashed, trace_id, trashed.sequence, now)
        trashed = transition_with_events(self.index, self.bus, record, trashed, events)
        logger.info("file trashed", extra={"file_id": file_id})
        return FileView.of(trashed)

    def restore_file(self, owner: str, file_id: str, trace_id: str) -> FileView:
        """Bring a trashed file back under its name, or a free numbered one
        (`report (1).pdf`) if another file took the name meanwhile."""
        record = self._find(owner, file_id)
        if record.status is not FileStatus.TRASHED:
            raise FileStateConflictError(
                f"only a trashed file can be restored; this one is "
                f"{record.status.value}",
                details={"file_id": file_id, "status": record.status.value},
            )
        flush_outbox(record, self.index, self.bus)
        record = replace(record, outbox=())
        now = self.clock()
        candidates = [record.name, *numbered_names(record.name, RESTORE_NAME_ATTEMPTS)]
        for name in candidates:
            restored = record.evolve(
                status=FileStatus.AVAILABLE, name=name, status_since=now
            )
            events = messages_about(
                "FileRestored", restored, trace_id, restored.sequence, now, record
            )
            try:
                restored = transition_with_events(
                    self.index, self.bus, record, restored, events
                )
            except NameConflictError:
                continue
            logger.info("file restored", extra={"file_id": file_id})
            return FileView.of(restored)
        raise NameConflictError(
            f"{record.name!r} and its numbered variants up to "
            f"({RESTORE_NAME_ATTEMPTS}) are all taken; rename one and retry",
            details={"name": record.name},
        )

    def list_trash(self, owner: str, query: TrashQuery) -> TrashListing:
        start = (
            self.cursors.decode(owner, _TRASH_SCOPE, query.cursor)
            if query.cursor is not None
            else None
        )
        page = self.index.trash_page(owner, query.limit, start)
        next_cursor = (
            self.cursors.encode(owner, _TRASH_SCOPE, page.next_position)
            if page.next_position
            else None
        )
        return TrashListing(
            items=[FileView.of(record) for record in page.files],
            next_cursor=next_cursor,
            retention_days=self.trash_retention_days,
        )

    def request_delete(self, owner: str, file_id: str, trace_id: str) -> DeleteAccepted:
        """Mark the file DELETING and put the command on the bus, in that order.

        The answer goes out only once the bus has accepted the command; if it
        does not, the mark is undone and the caller is told to retry.
        """
        record = self._find(owner, file_id)
        if record.status is FileStatus.REJECTED:
            # Neither bytes nor a name to free: nothing asynchronous to do.
            self.index.remove(record)
            logger.info("rejected file removed", extra={"file_id": file_id})
            return DeleteAccepted(file_id=file_id, status="DELETED")
        marked = record
        if record.status is not FileStatus.DELETING:
            # A trashed file gave its name up already: it goes without one.
            marked = record.evolve(
                status=FileStatus.DELETING,
                status_since=self.clock(),
                name_claimed=record.holds_name,
            )
            self.index.transition(record, marked)
        commands = messages_about("DeleteFile", marked, trace_id, marked.sequence)
        try:
            self.bus.publish(commands)
        except DependencyUnavailableError:
            if marked is not record:
                self._undo_mark(record, marked)
            raise
        logger.info("delete requested", extra={"file_id": file_id})
        return DeleteAccepted(file_id=file_id, status="DELETING")

    def _undo_mark(self, original: FileRecord, marked: FileRecord) -> None:
        restored = replace(original, sequence=marked.sequence + 1)
        try:
            self.index.transition(marked, restored)
        except Exception:
            # The sweep heals a DELETING mark whose command never left.
            logger.exception(
                "could not undo a delete mark", extra={"file_id": original.file_id}
            )

    def _find(self, owner: str, file_id: str) -> FileRecord:
        # A malformed id, another user's file and a missing one answer alike.
        record = self.index.get(owner, file_id) if _FILE_ID.fullmatch(file_id) else None
        if record is None:
            raise NoSuchFileError(f"no file with id {file_id!r}")
        return record

    def _expiry(self) -> datetime:
        return self.clock() + timedelta(seconds=self.presign_ttl_seconds)


def _fingerprint(request: CreateFileRequest) -> str:
    # The validated request, so that spellings of one name (NFC or not) match.
    return hashlib.sha256(request.model_dump_json().encode("utf-8")).hexdigest()
