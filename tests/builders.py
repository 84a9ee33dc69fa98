"""Test data: file records in every state, and messages as queues carry them.

Records are put in place through the `FileIndex` protocol only, so the same
helpers serve the in-memory fake and the DynamoDB adapter.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from chalicelib.batches import QueueMessage
from chalicelib.domain import FileRecord, FileStatus, new_file_id
from chalicelib.messages import SOURCE, Message
from chalicelib.ports import FileIndex
from tests.fakes import FIXED_NOW

OWNER = "user-a"
OTHER_OWNER = "user-b"
ETAG = "5d41402abc4b2a76b9719d911017c592"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:filemanager-test-delete-file"


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
    index.create(record)
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
