"""File records: what the index knows of a file, and the rules of its states."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal

from chalicelib.names import ancestor_folders


class FileStatus(StrEnum):
    PENDING = "PENDING"
    AVAILABLE = "AVAILABLE"
    DELETING = "DELETING"
    REJECTED = "REJECTED"
    TRASHED = "TRASHED"


# What the change feed tells of a file.
ChangeKind = Literal["created", "renamed", "trashed", "restored", "deleted", "rejected"]

# A record holds its name while it is live, and keeps its object while the
# bytes may still be wanted: in the trash too, whose files give their name
# up but may come back. REJECTED holds neither.
HOLDS_NAME = frozenset({FileStatus.PENDING, FileStatus.AVAILABLE, FileStatus.DELETING})
KEEPS_OBJECT = HOLDS_NAME | {FileStatus.TRASHED}
# A file counts against its owner's quota for as long as its bytes may be kept.
COUNTS_TOWARD_QUOTA = KEEPS_OBJECT
# Statuses a record should leave in time: one in them too long is the sweep's
# work (a trashed file, once its retention is over).
NEEDS_ATTENTION = frozenset(
    {FileStatus.PENDING, FileStatus.DELETING, FileStatus.TRASHED}
)

KEY_PREFIX = "files/"
_OBJECT_KEY = re.compile(
    r"files/(?P<owner>[A-Za-z0-9-]{1,128})/(?P<file_id>[0-9a-f]{32})"
)


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_file_id() -> str:
    return uuid.uuid4().hex


def object_key(owner: str, file_id: str) -> str:
    """Bytes are keyed by owner and id, never by the user's file name."""
    return f"{KEY_PREFIX}{owner}/{file_id}"


@dataclass(frozen=True)
class ObjectRef:
    owner: str
    file_id: str


def parse_object_key(key: str) -> ObjectRef | None:
    """The owner and file id of a key in our layout; None for any other key."""
    match = _OBJECT_KEY.fullmatch(key)
    if match is None:
        return None
    return ObjectRef(owner=match["owner"], file_id=match["file_id"])


@dataclass(frozen=True)
class FileRecord:
    owner: str
    file_id: str
    name: str
    size: int
    content_type: str
    status: FileStatus
    created_at: datetime
    sequence: int = 0
    uploaded_at: datetime | None = None
    etag: str | None = None
    sha256: str | None = None
    sha256_verified: bool = False
    rejected_reason: str | None = None
    # When the record took its current status; None while that is its
    # creation. The housekeeping sweep tells stuck records by it.
    status_since: datetime | None = None
    # Events committed with the record's last change and not yet published
    # (a transactional outbox: the change and its events cannot part).
    outbox: tuple[str, ...] = ()
    # False when a live status does not hold the name after all: a file
    # deleted from the trash gave its name up when it was trashed.
    name_claimed: bool = True

    @property
    def key(self) -> str:
        return object_key(self.owner, self.file_id)

    @property
    def in_status_since(self) -> datetime:
        return self.status_since or self.created_at

    @property
    def needs_attention(self) -> bool:
        """In a passing status that the housekeeping sweep watches."""
        return self.status in NEEDS_ATTENTION

    @property
    def holds_name(self) -> bool:
        return self.status in HOLDS_NAME and self.name_claimed

    @property
    def keeps_object(self) -> bool:
        return self.status in KEEPS_OBJECT

    @property
    def counts_toward_quota(self) -> bool:
        return self.status in COUNTS_TOWARD_QUOTA

    def evolve(self, **changes: object) -> FileRecord:
        """A copy with the changes and the next sequence number."""
        return replace(self, sequence=self.sequence + 1, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class StoredObject:
    """What S3 says of an uploaded object."""

    key: str
    size: int
    content_type: str | None
    etag: str
    last_modified: datetime
    sha256: str | None = None


def releases_name(before: FileRecord, after: FileRecord) -> bool:
    """Whether a change gives up the name `before` held."""
    return before.holds_name and (not after.holds_name or after.name != before.name)


def claims_name(before: FileRecord, after: FileRecord) -> bool:
    """Whether a change takes a name `before` did not hold (a rename, a restore)."""
    return after.holds_name and (not before.holds_name or after.name != before.name)


def folder_deltas(before: FileRecord | None, after: FileRecord | None) -> Counter[str]:
    """How many listed files each folder gains (+) or loses (-) in a change.

    Only available files are listed, so a folder counts them alone.
    """
    deltas: Counter[str] = Counter()
    for record, sign in ((before, -1), (after, +1)):
        if record is not None and record.status is FileStatus.AVAILABLE:
            for folder in ancestor_folders(record.name):
                deltas[folder] += sign
    return Counter({folder: d for folder, d in deltas.items() if d})


@dataclass(frozen=True)
class Usage:
    """What a user stores: files and their declared bytes."""

    files: int = 0
    bytes: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.files + other.files, self.bytes + other.bytes)

    def __sub__(self, other: Usage) -> Usage:
        return Usage(self.files - other.files, self.bytes - other.bytes)


@dataclass(frozen=True)
class Quota:
    """The most a user may store."""

    max_files: int
    max_bytes: int

    def admits(self, used: Usage, extra: Usage) -> bool:
        after = used + extra
        return after.files <= self.max_files and after.bytes <= self.max_bytes


def usage_of(record: FileRecord | None) -> Usage:
    if record is None or not record.counts_toward_quota:
        return Usage()
    return Usage(files=1, bytes=record.size)


def usage_delta(before: FileRecord | None, after: FileRecord | None) -> Usage:
    """How a change moves its owner's usage (zero for most changes)."""
    return usage_of(after) - usage_of(before)
