"""The small interfaces the services need from the outside world.

Each has one AWS adapter in `chalicelib.adapters` and one in-memory fake in
the tests; the services see only these.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from chalicelib.domain import (
    ChangeKind,
    FileRecord,
    FileStatus,
    Quota,
    StoredObject,
    Usage,
)
from chalicelib.messages import Message


@dataclass(frozen=True)
class ListingPage:
    files: list[FileRecord]
    folders: list[str]
    # Where the next page starts (an index key as plain strings), or None.
    next_position: dict[str, str] | None = None


@dataclass(frozen=True)
class PresignedPost:
    url: str
    fields: dict[str, str]


@dataclass(frozen=True)
class FolderMark:
    """A folder entry whose count went down, to be dropped if it is empty."""

    owner: str
    folder: str
    file_count: int
    # Opaque: when and where the mark was made, unique per folder and time.
    mark: str


@dataclass(frozen=True)
class IdempotencyClaim:
    """Ties a client's Idempotency-Key to the file its create makes."""

    key: str
    # A digest of the request, so a key reused for another request is told.
    fingerprint: str
    expires_at: datetime


class FileIndex(Protocol):
    def create(
        self,
        record: FileRecord,
        quota: Quota,
        claim: IdempotencyClaim | None = None,
    ) -> None:
        """Store a new record, claim its name and count it in its owner's usage.

        All or nothing: `NameConflictError` if the name is taken,
        `QuotaExceededError` if the file would take its owner past `quota`,
        `IdempotencyKeyTaken` if an unexpired claim of the same key exists.
        """

    def usage(self, owner: str) -> Usage:
        """What the owner's files count for now (see `usage_delta`)."""

    def get(self, owner: str, file_id: str) -> FileRecord | None: ...

    def transition(self, before: FileRecord, after: FileRecord) -> None:
        """Replace `before` with `after` if nobody changed it meanwhile.

        Keeps listings, folder counts, usage and the name claim in step with
        the new status, in the same write, together with `after.outbox`: the events
        to publish once the write is done. `ConcurrentUpdateError` when the
        stored record is no longer `before`.
        """

    def clear_outbox(self, record: FileRecord) -> None:
        """Forget the record's outbox once its events are on the bus."""

    def remove(self, record: FileRecord) -> None:
        """Delete the record, free its name and its usage, if still `record`."""

    def list_page(
        self,
        owner: str,
        prefix: str,
        delimiter: str | None,
        limit: int,
        start: dict[str, str] | None,
    ) -> ListingPage: ...

    def trash_page(
        self, owner: str, limit: int, start: dict[str, str] | None
    ) -> ListingPage:
        """One page of the owner's trashed files, most recently trashed first.

        Read from an index of trashed files alone, so a page reads at most
        one item more than it returns.
        """

    def needing_attention(
        self, status: FileStatus, since_before: datetime, limit: int
    ) -> list[FileRecord]:
        """Up to `limit` records in `status` since before `since_before`.

        Oldest first, read from an index of only the records in a passing
        status (`PENDING`, `DELETING`, `TRASHED`), never from a scan of the
        table.
        """

    def folders_to_check(self, since_before: datetime, limit: int) -> list[FolderMark]:
        """Up to `limit` folder entries whose count went down before then."""

    def settle_folder(self, mark: FolderMark) -> bool:
        """Drop the folder entry if it is empty (True), else forget its mark."""


class ObjectStore(Protocol):
    def presign_upload(
        self,
        key: str,
        size: int,
        content_type: str,
        sha256: str | None,
        expires_in: int,
    ) -> PresignedPost: ...

    def presign_download(
        self, key: str, filename: str, content_type: str, expires_in: int
    ) -> str: ...

    def head(self, key: str) -> StoredObject | None: ...

    def delete(self, key: str) -> None:
        """Remove an object; removing one that is not there is no error."""


class EventPublisher(Protocol):
    def publish(self, messages: Sequence[Message]) -> None:
        """Put every message on the bus, or raise `DependencyUnavailableError`."""


@dataclass(frozen=True)
class Change:
    """One entry of a user's change feed."""

    owner: str
    kind: ChangeKind
    file_id: str
    name: str
    time: datetime
    sequence: int
    event_id: str
    # The entry's place in its owner's feed: 1, 2, 3... with no gaps.
    position: int = 0
    # The name before a rename or a restore; None for every other kind.
    previous_name: str | None = None


@dataclass(frozen=True)
class ChangesPage:
    changes: list[Change]
    # The position of the last change returned, or of the start if none.
    position: int
    has_more: bool


class ChangeLog(Protocol):
    def record(self, change: Change) -> bool:
        """Append a change at the next position of its owner's feed.

        False when a change with the same event id is already there (a
        redelivered or replayed event changes nothing), or a later change of
        the same file (the feed never steps back in a file's history).
        """

    def read(self, owner: str, after: int, limit: int) -> ChangesPage:
        """Up to `limit` changes after position `after`, oldest first."""

    def head(self, owner: str) -> int:
        """The position of the owner's latest change (0 for none)."""


class Clock(Protocol):
    def __call__(self) -> datetime: ...
