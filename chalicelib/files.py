"""What the API does with files: create, list, describe, and ask to delete."""

from __future__ import annotations

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
    UploadForm,
)
from chalicelib.cursors import CursorCodec
from chalicelib.domain import FileRecord, FileStatus, new_file_id, utc_now
from chalicelib.errors import DependencyUnavailableError, NoSuchFileError
from chalicelib.messages import messages_about
from chalicelib.names import last_segment
from chalicelib.ports import EventPublisher, FileIndex, ObjectStore

logger = logging.getLogger(__name__)

_FILE_ID = re.compile(r"[0-9a-f]{32}")


@dataclass
class FileService:
    index: FileIndex
    store: ObjectStore
    bus: EventPublisher
    cursors: CursorCodec
    presign_ttl_seconds: int
    clock: Callable[[], datetime] = utc_now

    def create_file(self, owner: str, request: CreateFileRequest) -> CreatedFile:
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
        self.index.create(record)
        form = self.store.presign_upload(
            record.key,
            record.size,
            record.content_type,
            record.sha256,
            self.presign_ttl_seconds,
        )
        logger.info(
            "file created, waiting for its upload",
            extra={"file_id": record.file_id, "size": record.size},
        )
        return CreatedFile(
            file_id=record.file_id,
            name=record.name,
            status=record.status,
            upload=UploadForm(
                url=form.url, fields=form.fields, expires_at=self._expiry()
            ),
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
            marked = record.evolve(
                status=FileStatus.DELETING, status_since=self.clock()
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
