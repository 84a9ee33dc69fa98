"""The S3 upload handler over fakes: available, rejected, or left behind."""

from __future__ import annotations

import json

import pytest

from chalicelib.domain import FileStatus, object_key
from chalicelib.errors import DependencyUnavailableError
from chalicelib.messages import FileCreatedV1, FileCreatedV2, FileRejectedV1
from chalicelib.uploads import UploadProcessor
from tests.builders import OWNER, add_file, every_version
from tests.fakes import (
    FIXED_NOW,
    InMemoryFileIndex,
    InMemoryObjectStore,
    RecordingPublisher,
)

SHA = "ab" * 32
CREATED_EVENTS = [
    "ObjectCreated:Put",
    "ObjectCreated:Post",
    "ObjectCreated:Copy",
    "ObjectCreated:CompleteMultipartUpload",
]


@pytest.mark.parametrize("event_name", CREATED_EVENTS)
def test_an_upload_that_keeps_its_promises_makes_the_file_available(
    upload_processor: UploadProcessor,
    index: InMemoryFileIndex,
    store: InMemoryObjectStore,
    bus: RecordingPublisher,
    event_name: str,
) -> None:
    record = add_file(index, name="docs/a.pdf", status=FileStatus.PENDING, size=10)
    store.put(record.key, size=10, content_type="application/pdf", etag="e-1")

    upload_processor.object_event(event_name, record.key, "trace-9")

    available = index.get(OWNER, record.file_id)
    assert available is not None
    assert available.status is FileStatus.AVAILABLE
    assert available.etag == "e-1"
    assert available.uploaded_at == FIXED_NOW
    assert available.sequence == record.sequence + 1
    assert available.outbox == ()
    assert bus.versions == every_version("FileCreated")
    v1, v2 = bus.published
    assert isinstance(v1, FileCreatedV1)
    assert isinstance(v2, FileCreatedV2)
    for event in (v1, v2):
        assert event.metadata.trace_id == "trace-9"
        assert event.metadata.sequence == available.sequence
        assert event.metadata.file_id == record.file_id
    assert v1.metadata.event_id != v2.metadata.event_id
    assert v1.data.name == "docs/a.pdf"
    assert (v1.data.size, v1.data.etag) == (10, "e-1")
    assert v2.data.owner == OWNER
    assert v2.data.file.name == "docs/a.pdf"
    assert (v2.data.file.size, v2.data.file.etag) == (10, "e-1")
    assert v2.data.file.uploaded_at == FIXED_NOW
    assert record.key in store.objects


def test_a_declared_checksum_s3_did_not_report_is_recorded_as_unverified(
    upload_processor: UploadProcessor,
    index: InMemoryFileIndex,
    store: InMemoryObjectStore,
    bus: RecordingPublisher,
) -> None:
    record = add_file(index, status=FileStatus.PENDING, sha256=SHA)
    store.put(record.key, size=10, content_type="application/pdf", sha256=None)

    upload_processor.object_created(record.key, "t")

    available = index.get(OWNER, record.file_id)
    assert available is not None
    assert (available.sha256, available.sha256_verified) == (SHA, False)
    v1, v2 = bus.of_type("FileCreated")
    assert isinstance(v1, FileCreatedV1)
    assert isinstance(v2, FileCreatedV2)
    assert (v1.data.sha256, v1.data.sha256_verified) == (SHA, False)
    assert (v2.data.file.sha256, v2.data.file.sha256_verified) == (SHA, False)


def test_a_checksum_s3_computed_is_recorded_as_verified(
    upload_processor: UploadProcessor,
    index: InMemoryFileIndex,
    store: InMemoryObjectStore,
) -> None:
    record = add_file(index, status=FileStatus.PENDING, sha256=SHA)
    store.put(record.key, size=10, content_type="application/pdf", sha256=SHA)

    upload_processor.object_created(record.key, "t")

    available = index.get(OWNER, record.file_id)
    assert available is not None
    assert (available.sha256, available.sha256_verified) == (SHA, True)


def test_a_content_type_differing_only_in_case_and_spaces_is_the_same(
    upload_processor: UploadProcessor,
    index: InMemoryFileIndex,
    store: InMemoryObjectStore,
) -> None:
    record = add_file(
        index, status=FileStatus.PENDING, content_type="text/plain; charset=utf-8"
    )
    store.put(record.key, size=10, content_type="Text/Plain;charset=UTF-8")

    upload_processor.object_created(record.key, "t")

    available = index.get(OWNER, record.file_id)
    assert available is not None
    assert available.status is FileStatus.AVAILABLE


def test_the_same_event_delivered_twice_makes_one_file_and_one_event_per_version(
    upload_processor: UploadProcessor,
    index: InMemoryFileIndex,
    store: InMemoryObjectStore,
    bus: RecordingPublisher,
) -> None:
    record = add_file(index, status=FileStatus.PENDING)
    store.put(record.key, size=10, content_type="application/pdf")

    upload_processor.object_event("ObjectCreated:Put", record.key, "t")
    upload_processor.object_event("ObjectCreated:Put", record.key, "t")

    assert bus.versions == every_version("FileCreated")
    stored = index.get(OWNER, record.file_id)
    assert stored is not None
    assert stored.status is FileStatus.AVAILABLE
    assert stored.sequence == record.sequence + 1


def test_a_multipart_uploads_put_and_complete_make_one_file_created_per_version(
    upload_processor: UploadProcessor,
    index: InMemoryFileIndex,
    store: InMemoryObjectStore,
    bus: RecordingPublisher,
) -> None:
    record = add_file(index, status=FileStatus.PENDING)
    store.put(record.key, size=10, content_type="application/pdf")

    upload_processor.object_event("ObjectCreated:Put", record.key, "t")
    upload_processor.object_event(
        "ObjectCreated:CompleteMultipartUpload", record.key, "t"
    )

    assert bus.versions == every_version("FileCreated")


def test_an_event_the_bus_refused_is_published_by_the_next_delivery_with_its_id(
    upload_processor: UploadProcessor,
    index: InMemoryFileIndex,
    store: InMemoryObjectStore,
    bus: RecordingPublisher,
) -> None:
    record = add_file(index, status=FileStatus.PENDING)
    store.put(record.key, size=10, content_type="application/pdf")
    bus.refuse_next()
    with pytest.raises(DependencyUnavailableError):
        upload_processor.object_created(record.key, "t")
    kept = index.get(OWNER, record.file_id)
    assert kept is not None
    assert kept.status is FileStatus.AVAILABLE
    assert len(kept.outbox) == len(every_version("FileCreated"))
    refused_ids = [json.loads(raw)["metadata"]["event_id"] for raw in kept.outbox]

    upload_processor.object_created(record.key, "t")
    upload_processor.object_created(record.key, "t")

    assert bus.versions == every_version("FileCreated")
    assert [m.metadata.event_id for m in bus.published] == refused_ids
    assert all(m.metadata.sequence == kept.sequence for m in bus.published)
    flushed = index.get(OWNER, record.file_id)
    assert flushed is not None
    assert flushed.outbox == ()


@pytest.mark.parametrize(
    ("size", "content_type", "sha256", "reason"),
    [
        (50, "application/pdf", None, "size is 50 bytes; 10 were declared"),
        (
            10,
            "text/html",
            None,
            "content type is 'text/html'; 'application/pdf' was declared",
        ),
        (
            10,
            None,
            None,
            "content type is None; 'application/pdf' was declared",
        ),
        (10, "application/pdf", "cd" * 32, "SHA-256 differs from the declared one"),
        (
            50,
            "text/html",
            None,
            "size is 50 bytes; 10 were declared; "
            "content type is 'text/html'; 'application/pdf' was declared",
        ),
    ],
    ids=["size", "type", "no-type", "checksum", "size-and-type"],
)
def test_an_upload_that_breaks_its_promises_is_rejected_and_removed(
    upload_processor: UploadProcessor,
    index: InMemoryFileIndex,
    store: InMemoryObjectStore,
    bus: RecordingPublisher,
    size: int,
    content_type: str | None,
    sha256: str | None,
    reason: str,
) -> None:
    record = add_file(index, name="a.pdf", status=FileStatus.PENDING, sha256=SHA)
    store.put(record.key, size=size, content_type=content_type, sha256=sha256)

    upload_processor.object_created(record.key, "trace-r")

    rejected = index.get(OWNER, record.file_id)
    assert rejected is not None
    assert rejected.status is FileStatus.REJECTED
    assert rejected.rejected_reason == reason
    assert record.key not in store.objects
    assert bus.versions == every_version("FileRejected")
    (event,) = bus.published
    assert isinstance(event, FileRejectedV1)
    assert event.data.reason == reason
    assert event.metadata.trace_id == "trace-r"
    assert (OWNER, "a.pdf") not in index.names


def test_a_late_upload_of_a_deleted_file_is_removed_and_does_not_bring_it_back(
    upload_processor: UploadProcessor,
    index: InMemoryFileIndex,
    store: InMemoryObjectStore,
    bus: RecordingPublisher,
) -> None:
    record = add_file(index, status=FileStatus.DELETING)
    index.remove(record)
    store.put(record.key, size=10, content_type="application/pdf")

    upload_processor.object_event("ObjectCreated:Post", record.key, "t")

    assert index.get(OWNER, record.file_id) is None
    assert record.key not in store.objects
    assert bus.published == []


def test_an_upload_for_a_rejected_file_is_removed(
    upload_processor: UploadProcessor,
    index: InMemoryFileIndex,
    store: InMemoryObjectStore,
    bus: RecordingPublisher,
) -> None:
    record = add_file(index, status=FileStatus.REJECTED)
    store.put(record.key, size=10, content_type="application/pdf")

    upload_processor.object_created(record.key, "t")

    assert index.get(OWNER, record.file_id) == record
    assert record.key not in store.objects
    assert bus.published == []


def test_an_upload_for_a_file_being_deleted_is_left_to_the_delete(
    upload_processor: UploadProcessor,
    index: InMemoryFileIndex,
    store: InMemoryObjectStore,
    bus: RecordingPublisher,
) -> None:
    # The delete may yet be undone (the bus refused the command), and then
    # the file must still have its bytes.
    record = add_file(index, status=FileStatus.DELETING)
    store.put(record.key, size=10, content_type="application/pdf")

    upload_processor.object_created(record.key, "t")

    assert index.get(OWNER, record.file_id) == record
    assert record.key in store.objects
    assert bus.published == []


@pytest.mark.parametrize(
    "key",
    [
        "uploads/report.pdf",
        "files/user-a/not-a-file-id",
        f"files/user-a/{'a' * 32}/extra",
        f"other/files/user-a/{'a' * 32}",
        "reports/Q3 results (final)+v2: é.pdf",
    ],
)
def test_an_object_outside_our_key_layout_is_left_alone(
    upload_processor: UploadProcessor,
    index: InMemoryFileIndex,
    store: InMemoryObjectStore,
    bus: RecordingPublisher,
    key: str,
) -> None:
    store.put(key, size=1)

    upload_processor.object_event("ObjectCreated:Put", key, "t")

    assert key in store.objects
    assert store.deleted == []
    assert bus.published == []
    assert index.records == {}


@pytest.mark.parametrize(
    "event_name",
    ["ObjectRemoved:Delete", "ObjectRemoved:DeleteMarkerCreated", "s3:TestEvent"],
)
def test_an_event_that_is_not_an_object_creation_is_ignored(
    upload_processor: UploadProcessor,
    index: InMemoryFileIndex,
    store: InMemoryObjectStore,
    bus: RecordingPublisher,
    event_name: str,
) -> None:
    record = add_file(index, status=FileStatus.PENDING)
    store.put(record.key, size=10, content_type="application/pdf")

    upload_processor.object_event(event_name, record.key, "t")

    assert index.get(OWNER, record.file_id) == record
    assert record.key in store.objects
    assert bus.published == []


def test_an_object_gone_before_its_event_is_handled_leaves_the_file_pending(
    upload_processor: UploadProcessor,
    index: InMemoryFileIndex,
    bus: RecordingPublisher,
) -> None:
    record = add_file(index, status=FileStatus.PENDING)

    upload_processor.object_created(object_key(OWNER, record.file_id), "t")

    assert index.get(OWNER, record.file_id) == record
    assert bus.published == []
