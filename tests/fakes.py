"""In-memory stand-ins for the outside world, with the real adapters' semantics.

Each fake implements one protocol of `chalicelib.ports` (or the batch
acknowledger) the way its AWS adapter behaves: conditional transitions on
status and sequence, name claims, sparse listings of available files sorted
by name, folder entries that count the files below them, page positions
that the next page starts after. They also record what was asked of them,
share an optional journal (to check the order of steps across fakes) and
can be told to refuse their next calls.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

from chalicelib.batches import QueueMessage
from chalicelib.domain import (
    FileRecord,
    FileStatus,
    Quota,
    StoredObject,
    Usage,
    claims_name,
    folder_deltas,
    releases_name,
    usage_delta,
    usage_of,
)
from chalicelib.errors import (
    ConcurrentUpdateError,
    DependencyUnavailableError,
    IdempotencyKeyTaken,
    NameConflictError,
    QuotaExceededError,
)
from chalicelib.messages import Message
from chalicelib.names import parent_folder
from chalicelib.ports import FolderMark, IdempotencyClaim, ListingPage, PresignedPost

FIXED_NOW = datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC)


class FixedClock:
    """A clock that always says the same time."""

    def __init__(self, now: datetime = FIXED_NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Journal(list[str]):
    """One ordered log of steps, shared by several fakes."""


class Refusals:
    """Makes the next calls of chosen operations fail, then behaves again."""

    def __init__(self) -> None:
        self._pending: Counter[str] = Counter()

    def refuse_next(self, operation: str, times: int = 1) -> None:
        self._pending[operation] += times

    def check(self, operation: str) -> None:
        if self._pending[operation] > 0:
            self._pending[operation] -= 1
            raise DependencyUnavailableError(f"{operation}: refused by the test")


@dataclass
class InMemoryFileIndex:
    """The file index as the DynamoDB adapter keeps it, in dictionaries."""

    journal: Journal = field(default_factory=Journal)
    records: dict[tuple[str, str], FileRecord] = field(default_factory=dict)
    names: dict[tuple[str, str], str] = field(default_factory=dict)
    folders: dict[tuple[str, str], int] = field(default_factory=dict)
    usages: dict[str, Usage] = field(default_factory=dict)
    # (owner, key) -> (file id, fingerprint, expiry)
    claims: dict[tuple[str, str], tuple[str, str, datetime]] = field(
        default_factory=dict
    )
    refusals: Refusals = field(default_factory=Refusals)
    # How many entries each listing call read, to check that a page reads at
    # most one item more than it returns.
    reads: list[int] = field(default_factory=list)

    def create(
        self,
        record: FileRecord,
        quota: Quota,
        claim: IdempotencyClaim | None = None,
    ) -> None:
        self.refusals.check("create")
        if claim is not None:
            earlier = self.claims.get((record.owner, claim.key))
            if earlier is not None and earlier[2] >= record.created_at:
                raise IdempotencyKeyTaken(earlier[0], earlier[1])
        if (record.owner, record.name) in self.names:
            raise NameConflictError(
                f"a file named {record.name!r} already exists",
                details={"name": record.name},
            )
        if (record.owner, record.file_id) in self.records:
            raise DependencyUnavailableError("could not store the file record")
        used = self.usage(record.owner)
        if not quota.admits(used, usage_of(record)):
            raise QuotaExceededError.for_request(used, quota, record.size)
        if claim is not None:
            self.claims[(record.owner, claim.key)] = (
                record.file_id,
                claim.fingerprint,
                claim.expires_at,
            )
        self._count_usage(record.owner, usage_of(record))
        self.names[(record.owner, record.name)] = record.file_id
        self.records[(record.owner, record.file_id)] = record
        self.journal.append(f"index.create {record.file_id}")

    def usage(self, owner: str) -> Usage:
        self.refusals.check("usage")
        return self.usages.get(owner, Usage())

    def get(self, owner: str, file_id: str) -> FileRecord | None:
        self.refusals.check("get")
        return self.records.get((owner, file_id))

    def transition(self, before: FileRecord, after: FileRecord) -> None:
        self.refusals.check("transition")
        stored = self.records.get((before.owner, before.file_id))
        if (
            stored is None
            or stored.status is not before.status
            or stored.sequence != before.sequence
        ):
            raise ConcurrentUpdateError(
                f"update file {after.file_id}: the record changed"
            )
        if claims_name(before, after):
            holder = self.names.get((after.owner, after.name))
            if holder is not None:
                raise NameConflictError(
                    f"a file named {after.name!r} already exists",
                    details={"name": after.name},
                )
        if releases_name(before, after):
            self._release_name(before)
        if claims_name(before, after):
            self.names[(after.owner, after.name)] = after.file_id
        self._count_usage(after.owner, usage_delta(before, after))
        self._count_folders(after.owner, folder_deltas(before, after))
        self.records[(after.owner, after.file_id)] = after
        self.journal.append(f"index.transition {after.file_id} {after.status}")

    def clear_outbox(self, record: FileRecord) -> None:
        self.refusals.check("clear_outbox")
        stored = self.records.get((record.owner, record.file_id))
        # Like the adapter: a record changed meanwhile keeps its newer outbox.
        if stored is not None and stored.sequence == record.sequence:
            self.records[(record.owner, record.file_id)] = replace(stored, outbox=())

    def remove(self, record: FileRecord) -> None:
        self.refusals.check("remove")
        stored = self.records.get((record.owner, record.file_id))
        if stored is None or stored.sequence != record.sequence:
            raise ConcurrentUpdateError(
                f"remove file {record.file_id}: the record changed"
            )
        if record.holds_name:
            self._release_name(record)
        self._count_usage(record.owner, usage_delta(record, None))
        self._count_folders(record.owner, folder_deltas(record, None))
        del self.records[(record.owner, record.file_id)]
        self.journal.append(f"index.remove {record.file_id}")

    def list_page(
        self,
        owner: str,
        prefix: str,
        delimiter: str | None,
        limit: int,
        start: dict[str, str] | None,
    ) -> ListingPage:
        self.refusals.check("list_page")
        entries = self._listed_entries(owner, prefix, delimiter)
        if start is not None:
            entries = [e for e in entries if e[0] > start["after"]]
        read = entries[: limit + 1]
        self.reads.append(len(read))
        page, more = read[:limit], len(read) > limit
        return ListingPage(
            files=[record for _, record in page if record is not None],
            folders=[name for name, record in page if record is None],
            next_position={"after": page[-1][0]} if more and page else None,
        )

    def trash_page(
        self, owner: str, limit: int, start: dict[str, str] | None
    ) -> ListingPage:
        self.refusals.check("trash_page")
        trashed = sorted(
            (
                (f"{r.in_status_since.isoformat()}#{r.file_id}", r)
                for (o, _), r in self.records.items()
                if o == owner and r.status is FileStatus.TRASHED
            ),
            key=_first,
            reverse=True,
        )
        if start is not None:
            trashed = [e for e in trashed if e[0] < start["after"]]
        read = trashed[: limit + 1]
        self.reads.append(len(read))
        page, more = read[:limit], len(read) > limit
        return ListingPage(
            files=[record for _, record in page],
            folders=[],
            next_position={"after": page[-1][0]} if more and page else None,
        )

    def needing_attention(
        self, status: FileStatus, since_before: datetime, limit: int
    ) -> list[FileRecord]:
        self.refusals.check("needing_attention")
        stuck = [
            r
            for r in self.records.values()
            if r.status is status
            and r.needs_attention
            and r.in_status_since < since_before
        ]
        return sorted(stuck, key=lambda r: r.in_status_since)[:limit]

    def folders_to_check(self, since_before: datetime, limit: int) -> list[FolderMark]:
        # Empty folders go in the same step that empties them here, so none
        # is ever left to check (the adapter's crash window has no twin).
        return []

    def settle_folder(self, mark: FolderMark) -> bool:
        return self.folders.get((mark.owner, mark.folder), 0) <= 0

    def _listed_entries(
        self, owner: str, prefix: str, delimiter: str | None
    ) -> list[tuple[str, FileRecord | None]]:
        """(name, record) of every listed entry, sorted; folders have no record."""
        available = [
            r
            for (o, _), r in self.records.items()
            if o == owner and r.status is FileStatus.AVAILABLE
        ]
        entries: list[tuple[str, FileRecord | None]]
        if delimiter:
            folder = prefix[: prefix.rfind("/") + 1]
            entries = [
                (r.name, r) for r in available if parent_folder(r.name) == folder
            ]
            entries += [
                (name, None)
                for (o, name) in self.folders
                if o == owner and parent_folder(name) == folder
            ]
        else:
            entries = [(r.name, r) for r in available]
        # DynamoDB sorts strings by their UTF-8 bytes, which is code point order.
        return sorted((e for e in entries if e[0].startswith(prefix)), key=_first)

    def _release_name(self, record: FileRecord) -> None:
        if self.names.get((record.owner, record.name)) != record.file_id:
            raise ConcurrentUpdateError(f"name of {record.file_id} is not its own")
        del self.names[(record.owner, record.name)]

    def _count_usage(self, owner: str, delta: Usage) -> None:
        self.usages[owner] = self.usage(owner) + delta

    def _count_folders(self, owner: str, deltas: Counter[str]) -> None:
        for folder, delta in deltas.items():
            count = self.folders.get((owner, folder), 0) + delta
            if count > 0:
                self.folders[(owner, folder)] = count
            else:
                self.folders.pop((owner, folder), None)


def _first(entry: tuple[str, object]) -> str:
    return entry[0]


@dataclass(frozen=True)
class UploadRequest:
    key: str
    size: int
    content_type: str
    sha256: str | None
    expires_in: int


@dataclass(frozen=True)
class DownloadRequest:
    key: str
    filename: str
    content_type: str
    expires_in: int


@dataclass
class InMemoryObjectStore:
    """A bucket of object heads (no bytes: the services never read them)."""

    journal: Journal = field(default_factory=Journal)
    objects: dict[str, StoredObject] = field(default_factory=dict)
    uploads: list[UploadRequest] = field(default_factory=list)
    downloads: list[DownloadRequest] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    refusals: Refusals = field(default_factory=Refusals)

    def put(
        self,
        key: str,
        size: int,
        content_type: str | None = "application/octet-stream",
        sha256: str | None = None,
        etag: str = "0123456789abcdef0123456789abcdef",
        last_modified: datetime = FIXED_NOW,
    ) -> StoredObject:
        """What a client's upload to the presigned form leaves behind."""
        stored = StoredObject(
            key=key,
            size=size,
            content_type=content_type,
            etag=etag,
            last_modified=last_modified,
            sha256=sha256,
        )
        self.objects[key] = stored
        return stored

    def presign_upload(
        self,
        key: str,
        size: int,
        content_type: str,
        sha256: str | None,
        expires_in: int,
    ) -> PresignedPost:
        self.refusals.check("presign_upload")
        self.uploads.append(UploadRequest(key, size, content_type, sha256, expires_in))
        fields = {"key": key, "Content-Type": content_type}
        return PresignedPost(url="https://files.example/upload", fields=fields)

    def presign_download(
        self, key: str, filename: str, content_type: str, expires_in: int
    ) -> str:
        self.refusals.check("presign_download")
        self.downloads.append(DownloadRequest(key, filename, content_type, expires_in))
        query = urlencode({"filename": filename, "expires": expires_in})
        return f"https://files.example/{quote(key)}?{query}"

    def head(self, key: str) -> StoredObject | None:
        self.refusals.check("head")
        return self.objects.get(key)

    def delete(self, key: str) -> None:
        self.refusals.check("delete")
        self.objects.pop(key, None)
        self.deleted.append(key)
        self.journal.append(f"store.delete {key}")


@dataclass
class RecordingPublisher:
    """The event bus: keeps what it accepted, refuses when told to.

    `refuse_next(n)` makes the next n calls fail as EventBridge does when it
    reports failed entries; `before_publish` sees each batch as it arrives,
    to observe the world at the moment of publishing.
    """

    journal: Journal = field(default_factory=Journal)
    published: list[Message] = field(default_factory=list)
    calls: int = 0
    before_publish: Callable[[Sequence[Message]], None] | None = None
    _refusals: int = 0

    def refuse_next(self, times: int = 1) -> None:
        self._refusals += times

    def publish(self, messages: Sequence[Message]) -> None:
        self.calls += 1
        if self.before_publish is not None:
            self.before_publish(messages)
        if self._refusals > 0:
            self._refusals -= 1
            raise DependencyUnavailableError(
                "the event bus did not accept the message; try again",
                details={"failures": [m.metadata.event_id for m in messages]},
            )
        self.published.extend(messages)
        self.journal.extend(f"bus.publish {m.metadata.type}" for m in messages)

    def of_type(self, message_type: str) -> list[Message]:
        return [m for m in self.published if m.metadata.type == message_type]

    @property
    def types(self) -> list[str]:
        return [m.metadata.type for m in self.published]

    @property
    def versions(self) -> list[tuple[str, int]]:
        """(type, version) of each published message, in the order published."""
        return [(m.metadata.type, m.metadata.version) for m in self.published]


@dataclass
class RecordingAcknowledger:
    """Keeps every message a consumer deleted from its queue."""

    deleted: list[QueueMessage] = field(default_factory=list)
    calls: int = 0

    def delete(self, messages: Sequence[QueueMessage]) -> None:
        self.calls += 1
        self.deleted.extend(messages)

    @property
    def deleted_ids(self) -> list[str]:
        return [m.message_id for m in self.deleted]
