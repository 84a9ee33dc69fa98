"""Commands and events, and the envelope they travel in.

Every message is JSON: `metadata` says what the message is and where it comes
from, `data` holds the fact or the request itself. We forbid unknown fields
where we produce a message and tolerate them where we consume one (see
`parse_message`), because a newer producer may add a field that an older
consumer has never heard of.
"""

from __future__ import annotations

import json
import uuid
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
    event_id: str
    type: str
    version: int = Field(ge=1)
    time: AwareDatetime
    source: str = SOURCE
    trace_id: str
    file_id: str
    sequence: int = Field(ge=0, description="The file's own order of changes.")


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


class Message(_Frozen):
    KIND: ClassVar[Literal["command", "event"]]
    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1

    metadata: Metadata
    data: Any

    @classmethod
    def about(
        cls, record: FileRecord, data: BaseModel, trace_id: str, sequence: int
    ) -> Message:
        """A message about one file at one point of its history."""
        event_id = uuid.uuid5(
            _EVENT_ID_NAMESPACE, f"{cls.TYPE}:{cls.VERSION}:{record.file_id}:{sequence}"
        )
        metadata = Metadata(
            event_id=str(event_id),
            type=cls.TYPE,
            version=cls.VERSION,
            time=utc_now(),
            trace_id=trace_id,
            file_id=record.file_id,
            sequence=sequence,
        )
        return cls(metadata=metadata, data=data)

    def to_json(self) -> str:
        return self.model_dump_json()


class DeleteFile(Message):
    KIND = "command"
    TYPE = "DeleteFile"
    data: DeleteFileData


class FileCreated(Message):
    KIND = "event"
    TYPE = "FileCreated"
    data: FileCreatedData


class FileDeleted(Message):
    KIND = "event"
    TYPE = "FileDeleted"
    data: FileDeletedData


class FileRejected(Message):
    KIND = "event"
    TYPE = "FileRejected"
    data: FileRejectedData


M = TypeVar("M", bound=Message)

# Every message we publish, by its type; consumers look types up here.
CATALOGUE: dict[str, type[Message]] = {
    cls.TYPE: cls for cls in (DeleteFile, FileCreated, FileDeleted, FileRejected)
}


def parse_message(model: type[M], detail: Any) -> M:
    """Read a message as a consumer: unknown fields are tolerated."""
    return model.model_validate(detail, extra="ignore")


def from_forwarded_event(body: str, model: type[M]) -> M:
    """The message inside an EventBridge event that a rule sent to a queue.

    EventBridge wraps our JSON in its own envelope (`detail-type`, `detail`)
    and gives it an id of its own; ours stays in `metadata.event_id`.
    """
    event = json.loads(body)
    if event.get("detail-type") != model.TYPE:
        raise UnknownMessageError(
            f"expected {model.TYPE}, got {event.get('detail-type')!r}"
        )
    return parse_message(model, event["detail"])
