"""Commands and events: the catalogue of every version, and their envelope.

Every message is JSON: `metadata` says what the message is and where it comes
from, `data` holds the fact or the request itself. We forbid unknown fields
where we produce a message and tolerate them where we consume one (see
`parse_message`), because a newer producer may add a field that an older
consumer has never heard of.

A change that removes or renames a field, changes a type or adds a required
field breaks consumers, so it is a new version: the producer keeps
publishing every version in `PUBLISHED_VERSIONS`, each as its own event, and
each consumer's rule picks the one version it reads (`SUBSCRIPTIONS`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from chalicelib.domain import FileRecord, utc_now
from chalicelib.errors import UnknownMessageError

SOURCE = "filemanager"
# Deterministic ids make a message sent twice (a retry after a crash) the same
# message, so consumers can drop the second copy by its id.
_EVENT_ID_NAMESPACE = uuid.UUID("6f1c1a52-3b8e-4c47-9a55-5cf3c6a3b7de")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Metadata(_Frozen):
    event_id: str = Field(description="Ours; the same when a message is re-sent.")
    type: str
    version: int = Field(ge=1)
    time: AwareDatetime
    source: str = SOURCE
    trace_id: str
    file_id: str
    sequence: int = Field(ge=0, description="The file's own order of changes.")


class Message(_Frozen):
    KIND: ClassVar[Literal["command", "event"]]
    TYPE: ClassVar[str]
    VERSION: ClassVar[int]
    DESCRIPTION: ClassVar[str]

    metadata: Metadata
    data: Any

    @classmethod
    def data_of(cls, record: FileRecord, at: datetime) -> BaseModel:
        """The `data` of this message about `record` at time `at`."""
        raise NotImplementedError(f"{cls.__name__} builds no data")

    @classmethod
    def data_of_change(
        cls, before: FileRecord | None, record: FileRecord, at: datetime
    ) -> BaseModel:
        """The `data` of this message about the change from `before` to `record`.

        Most messages tell of the file as it is now; those that tell what a
        change undid (a rename's old name) read `before` too.
        """
        return cls.data_of(record, at)

    @classmethod
    def about(
        cls,
        record: FileRecord,
        trace_id: str,
        sequence: int,
        at: datetime,
        before: FileRecord | None = None,
    ) -> Message:
        """This message about one file at one point of its history."""
        key = f"{cls.TYPE}:{cls.VERSION}:{record.file_id}:{sequence}"
        metadata = Metadata(
            event_id=str(uuid.uuid5(_EVENT_ID_NAMESPACE, key)),
            type=cls.TYPE,
            version=cls.VERSION,
            time=at,
            trace_id=trace_id,
            file_id=record.file_id,
            sequence=sequence,
        )
        return cls(metadata=metadata, data=cls.data_of_change(before, record, at))

    def to_json(self) -> str:
        return self.model_dump_json()


# --- the data of each version ------------------------------------------------


class DeleteFileData(_Frozen):
    owner: str
    file_id: str
    name: str


class FileCreatedData(_Frozen):
    owner: str
    file_id: str
    name: str
    size: int
    content_type: str
    etag: str
    uploaded_at: AwareDatetime
    sha256: str | None = None
    sha256_verified: bool = False


class FileDeletedData(_Frozen):
    owner: str
    file_id: str
    name: str
    deleted_at: AwareDatetime


class FileRejectedData(_Frozen):
    owner: str
    file_id: str
    name: str
    reason: str
    rejected_at: AwareDatetime


class FileRenamedData(_Frozen):
    owner: str
    file_id: str
    name: str = Field(description="The new name.")
    previous_name: str
    status: str = Field(description="PENDING or AVAILABLE: what was renamed.")
    renamed_at: AwareDatetime


class FileTrashedData(_Frozen):
    owner: str
    file_id: str
    name: str = Field(description="The name it had, which is now free.")
    trashed_at: AwareDatetime


class FileRestoredData(_Frozen):
    owner: str
    file_id: str
    name: str = Field(description="The name it is back under.")
    previous_name: str = Field(
        description="The name it had in the trash; another name only when "
        "that one was taken meanwhile."
    )
    restored_at: AwareDatetime


class FileDetails(_Frozen):
    """One file as every version-2 event describes it."""

    file_id: str
    name: str
    size: int
    content_type: str
    etag: str | None
    uploaded_at: AwareDatetime | None
    sha256: str | None = Field(description="Lowercase hex, when known.")
    sha256_verified: bool = Field(
        description="True when S3 computed the checksum itself; false when it "
        "is only what the client declared (moto stores no checksum for POSTs)."
    )

    @classmethod
    def of(cls, record: FileRecord) -> FileDetails:
        return cls(
            file_id=record.file_id,
            name=record.name,
            size=record.size,
            content_type=record.content_type,
            etag=record.etag,
            uploaded_at=record.uploaded_at,
            sha256=record.sha256,
            sha256_verified=record.sha256_verified,
        )


class FileCreatedV2Data(_Frozen):
    owner: str
    file: FileDetails


class FileDeletedV2Data(_Frozen):
    owner: str
    file: FileDetails
    deleted_at: AwareDatetime


# --- the catalogue -----------------------------------------------------------


class DeleteFileV1(Message):
    KIND = "command"
    TYPE = "DeleteFile"
    VERSION = 1
    DESCRIPTION = "Delete a file's object and record (a user asked to)."
    data: DeleteFileData

    @classmethod
    def data_of(cls, record: FileRecord, at: datetime) -> DeleteFileData:
        return DeleteFileData(
            owner=record.owner, file_id=record.file_id, name=record.name
        )


class FileCreatedV1(Message):
    KIND = "event"
    TYPE = "FileCreated"
    VERSION = 1
    DESCRIPTION = "An upload matched its declaration; the file is available."
    data: FileCreatedData

    @classmethod
    def data_of(cls, record: FileRecord, at: datetime) -> FileCreatedData:
        if record.etag is None or record.uploaded_at is None:
            raise ValueError("a created file has an etag and an upload time")
        return FileCreatedData(
            owner=record.owner,
            file_id=record.file_id,
            name=record.name,
            size=record.size,
            content_type=record.content_type,
            etag=record.etag,
            uploaded_at=record.uploaded_at,
            sha256=record.sha256,
            sha256_verified=record.sha256_verified,
        )


class FileCreatedV2(Message):
    KIND = "event"
    TYPE = "FileCreated"
    VERSION = 2
    DESCRIPTION = (
        "An upload matched its declaration. Version 2 nests the file's "
        "details in one `file` object, shared with FileDeleted v2."
    )
    data: FileCreatedV2Data

    @classmethod
    def data_of(cls, record: FileRecord, at: datetime) -> FileCreatedV2Data:
        return FileCreatedV2Data(owner=record.owner, file=FileDetails.of(record))


class FileDeletedV1(Message):
    KIND = "event"
    TYPE = "FileDeleted"
    VERSION = 1
    DESCRIPTION = (
        "A file's object and record are gone; its name is free. It follows "
        "a delete through the API (also of a file never uploaded) and the "
        "removal of an object outside the API; an upload that expired "
        "unfinished goes without an event."
    )
    data: FileDeletedData

    @classmethod
    def data_of(cls, record: FileRecord, at: datetime) -> FileDeletedData:
        return FileDeletedData(
            owner=record.owner, file_id=record.file_id, name=record.name, deleted_at=at
        )


class FileDeletedV2(Message):
    KIND = "event"
    TYPE = "FileDeleted"
    VERSION = 2
    DESCRIPTION = (
        "A file is gone. Version 2 carries the whole `file` as it was, so a "
        "consumer can account for its size and hash without a lookup; a file "
        "never uploaded has `uploaded_at` and `etag` null and held no bytes."
    )
    data: FileDeletedV2Data

    @classmethod
    def data_of(cls, record: FileRecord, at: datetime) -> FileDeletedV2Data:
        return FileDeletedV2Data(
            owner=record.owner, file=FileDetails.of(record), deleted_at=at
        )


class FileRejectedV1(Message):
    KIND = "event"
    TYPE = "FileRejected"
    VERSION = 1
    DESCRIPTION = "An upload broke its declaration; its object was removed."
    data: FileRejectedData

    @classmethod
    def data_of(cls, record: FileRecord, at: datetime) -> FileRejectedData:
        return FileRejectedData(
            owner=record.owner,
            file_id=record.file_id,
            name=record.name,
            reason=record.rejected_reason or "",
            rejected_at=at,
        )


class FileRenamedV1(Message):
    KIND = "event"
    TYPE = "FileRenamed"
    VERSION = 1
    DESCRIPTION = (
        "A file took a new name (its bytes stayed where they were); the old "
        "name is free. A file still being uploaded may be renamed too: its "
        "FileCreated then carries the new name."
    )
    data: FileRenamedData

    @classmethod
    def data_of_change(
        cls, before: FileRecord | None, record: FileRecord, at: datetime
    ) -> FileRenamedData:
        return FileRenamedData(
            owner=record.owner,
            file_id=record.file_id,
            name=record.name,
            previous_name=(before or record).name,
            status=record.status.value,
            renamed_at=at,
        )


class FileTrashedV1(Message):
    KIND = "event"
    TYPE = "FileTrashed"
    VERSION = 1
    DESCRIPTION = (
        "A file went to the trash: no longer listed, its name free, its bytes "
        "kept (and counted by the quota) until it is restored or deleted for "
        "good, by hand or when its retention ends."
    )
    data: FileTrashedData

    @classmethod
    def data_of(cls, record: FileRecord, at: datetime) -> FileTrashedData:
        return FileTrashedData(
            owner=record.owner, file_id=record.file_id, name=record.name, trashed_at=at
        )


class FileRestoredV1(Message):
    KIND = "event"
    TYPE = "FileRestored"
    VERSION = 1
    DESCRIPTION = (
        "A file came back from the trash and is available again, under its "
        "old name or, if that was taken meanwhile, a free one such as "
        "`report (1).pdf`."
    )
    data: FileRestoredData

    @classmethod
    def data_of_change(
        cls, before: FileRecord | None, record: FileRecord, at: datetime
    ) -> FileRestoredData:
        return FileRestoredData(
            owner=record.owner,
            file_id=record.file_id,
            name=record.name,
            previous_name=(before or record).name,
            restored_at=at,
        )


M = TypeVar("M", bound=Message)

CATALOGUE: dict[tuple[str, int], type[Message]] = {
    (cls.TYPE, cls.VERSION): cls
    for cls in (
        DeleteFileV1,
        FileCreatedV1,
        FileCreatedV2,
        FileDeletedV1,
        FileDeletedV2,
        FileRejectedV1,
        FileRenamedV1,
        FileRestoredV1,
        FileTrashedV1,
    )
}

# Who puts each message on the bus (for the events page and reviews).
PRODUCERS: dict[str, str] = {
    "DeleteFile": "the API, on DELETE /files/{file_id}",
    "FileCreated": "the S3 handler, when an upload matches its declaration",
    "FileDeleted": "the delete consumer, once object and record are gone",
    "FileRejected": "the S3 handler, when an upload breaks its declaration",
    "FileRenamed": "the API, on PATCH /files/{file_id} with a new name",
    "FileRestored": "the API, on POST /files/{file_id}/restore",
    "FileTrashed": "the API, on POST /files/{file_id}/trash",
}

# The one place that says which versions are in use: the producer publishes
# each of them. A version leaves this list only once no rule reads it.
PUBLISHED_VERSIONS: dict[str, tuple[int, ...]] = {
    "DeleteFile": (1,),
    "FileCreated": (1, 2),
    "FileDeleted": (1, 2),
    "FileRejected": (1,),
    "FileRenamed": (1,),
    "FileRestored": (1,),
    "FileTrashed": (1,),
}


def messages_about(
    type_name: str,
    record: FileRecord,
    trace_id: str,
    sequence: int,
    at: datetime | None = None,
    before: FileRecord | None = None,
) -> list[Message]:
    """Every published version of one message about one file.

    `before` is the record as the change found it, for messages that tell
    what the change undid.
    """
    moment = at or utc_now()
    return [
        CATALOGUE[(type_name, version)].about(
            record, trace_id, sequence, moment, before
        )
        for version in PUBLISHED_VERSIONS[type_name]
    ]


# --- consuming ---------------------------------------------------------------


@dataclass(frozen=True)
class Subscription:
    """What one consumer reads: message types, each at one version."""

    consumer: str
    description: str
    reads: tuple[type[Message], ...]

    def event_patterns(self) -> dict[int, dict[str, Any]]:
        """One EventBridge pattern per version read, keyed by the version."""
        by_version: dict[int, list[str]] = {}
        for model in self.reads:
            by_version.setdefault(model.VERSION, []).append(model.TYPE)
        return {
            version: {
                "source": [SOURCE],
                "detail-type": sorted(types),
                "detail": {"metadata": {"version": [version]}},
            }
            for version, types in sorted(by_version.items())
        }


SUBSCRIPTIONS: dict[str, Subscription] = {
    "delete-file": Subscription(
        consumer="delete-file",
        description="Carries out deletes: the object, the event, the record.",
        reads=(DeleteFileV1,),
    ),
    "change-feed": Subscription(
        consumer="change-feed",
        description="Records each user's changes for GET /changes.",
        reads=(
            FileCreatedV2,
            FileDeletedV2,
            FileRejectedV1,
            FileRenamedV1,
            FileTrashedV1,
            FileRestoredV1,
        ),
    ),
}


def parse_message(model: type[M], detail: Any) -> M:
    """Read a message as a consumer: unknown fields are tolerated."""
    return model.model_validate(detail, extra="ignore")


def decode_outbox(raw: str) -> Message:
    body = json.loads(raw)
    metadata = body["metadata"]
    return CATALOGUE[(metadata["type"], metadata["version"])].model_validate(body)


def from_forwarded_event(body: str, readable: Iterable[type[M]]) -> M:
    """The message inside an EventBridge event that a rule sent to a queue.

    EventBridge wraps our JSON in its own envelope (`detail-type`, `detail`)
    and gives it an id of its own; ours stays in `metadata.event_id`.
    """
    event = json.loads(body)
    detail = event.get("detail") or {}
    version = (detail.get("metadata") or {}).get("version")
    for model in readable:
        if event.get("detail-type") == model.TYPE and version == model.VERSION:
            return parse_message(model, detail)
    raise UnknownMessageError(
        f"no reader here for {event.get('detail-type')!r} version {version!r}"
    )
