"""Test data: file records in every state, and messages as queues carry them.

Records are put in place through the `FileIndex` protocol only, so the same
helpers serve the in-memory fake and the DynamoDB adapter.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import TypeVar, cast

from chalicelib.batches import QueueMessage
from chalicelib.domain import FileRecord, FileStatus, Quota, new_file_id
from chalicelib.messages import PUBLISHED_VERSIONS, SOURCE, Message
from chalicelib.ports import FileIndex
from tests.fakes import FIXED_NOW

OWNER = "user-a"
OTHER_OWNER = "user-b"
ETAG = "5d41402abc4b2a76b9719d911017c592"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:filemanager-test-delete-file"
# Room enough that no test meets it unless it means to.
ROOMY_QUOTA = Quota(max_files=1_000_000, max_bytes=10**15)
SHA256 = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"

M = TypeVar("M", bound=Message)


def pending_record(
    name: str = "report.pdf",
    owner: str = OWNER,
    size: int = 10,
    content_type: str = "application/pdf",
    sha256: str | None = None,
    created_at: datetime = FIXED_NOW,
) -> FileRecord:
    return FileRecord(
        owner=owner,
        file_id=new_file_id(),
        name=name,
        size=size,
        content_type=content_type,
        status=FileStatus.PENDING,
        created_at=created_at,
        sha256=sha256,
    )


def add_file(
    index: FileIndex,
    name: str = "report.pdf",
    status: FileStatus = FileStatus.AVAILABLE,
    owner: str = OWNER,
    **fields: object,
) -> FileRecord:
    """Create a file and walk it through the index to `status`."""
    record = pending_record(name=name, owner=owner, **fields)  # type: ignore[arg-type]
    index.create(record, ROOMY_QUOTA)
    if status is FileStatus.PENDING:
        return record
    if status is FileStatus.REJECTED:
        rejected = record.evolve(status=status, rejected_reason="size is wrong")
        index.transition(record, rejected)
        return rejected
    available = record.evolve(
        status=FileStatus.AVAILABLE, etag=ETAG, uploaded_at=FIXED_NOW
    )
    index.transition(record, available)
    if status is FileStatus.AVAILABLE:
        return available
    deleting = available.evolve(status=FileStatus.DELETING)
    index.transition(available, deleting)
    return deleting


def record_for(message_type: str, name: str = "docs/a.txt") -> FileRecord:
    """A record in the state its message is about (not stored anywhere)."""
    record = pending_record(name=name, sha256=SHA256)
    if message_type == "FileRejected":
        return record.evolve(
            status=FileStatus.REJECTED, rejected_reason="size is 50 bytes"
        )
    available = record.evolve(
        status=FileStatus.AVAILABLE,
        etag=ETAG,
        uploaded_at=FIXED_NOW,
        sha256_verified=True,
    )
    if message_type == "FileCreated":
        return available
    if message_type in ("FileRenamed", "FileRestored"):
        return available.evolve(name=f"renamed/{name}")
    if message_type == "FileTrashed":
        return available.evolve(status=FileStatus.TRASHED)
    return available.evolve(status=FileStatus.DELETING)


def message_of(
    model: type[M],
    record: FileRecord | None = None,
    trace_id: str = "trace-1",
    sequence: int = 3,
) -> M:
    """One message of `model`, about `record` or a fitting one, at FIXED_NOW."""
    about = record or record_for(model.TYPE)
    return cast(M, model.about(about, trace_id, sequence, FIXED_NOW))


def every_version(message_type: str) -> list[tuple[str, int]]:
    """(type, version) of one message as its producer publishes it."""
    return [(message_type, v) for v in PUBLISHED_VERSIONS[message_type]]


def forwarded_event(message: Message) -> str:
    """The body SQS holds after an EventBridge rule forwarded `message`."""
    return json.dumps(
        {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": message.metadata.type,
            "source": SOURCE,
            "account": "123456789012",
            "time": "2026-03-14T09:26:53Z",
            "region": "us-east-1",
            "resources": [],
            "detail": message.model_dump(mode="json"),
        }
    )


def queued(body: str, message_id: str | None = None) -> QueueMessage:
    return QueueMessage(
        message_id=message_id or str(uuid.uuid4()),
        receipt_handle=f"receipt-{uuid.uuid4().hex}",
        body=body,
        queue_arn=QUEUE_ARN,
    )
