"""The housekeeping sweep and outside deletes, over fakes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain import FileStatus
from chalicelib.housekeeping import (
    EXPIRY_MARGIN,
    SETTLE_AFTER,
    ObjectDeletions,
    Sweeper,
)
from chalicelib.messages import DeleteFileV1
from chalicelib.uploads import UploadProcessor
from tests.builders import OWNER, add_file, every_version, message_of
from tests.fakes import (
    FIXED_NOW,
    InMemoryFileIndex,
    InMemoryObjectStore,
    RecordingPublisher,
)

TTL_SECONDS = 900
LONG_AFTER = FIXED_NOW + timedelta(seconds=TTL_SECONDS) + EXPIRY_MARGIN * 2
TRACE = "trace-sweep"


@pytest.fixture
def sweeper(
    index: InMemoryFileIndex, store: InMemoryObjectStore, bus: RecordingPublisher
) -> Sweeper:
    uploads = UploadProcessor(index=index, store=store, bus=bus)
    return Sweeper(
        index=index,
        store=store,
        bus=bus,
        uploads=uploads,
        presign_ttl_seconds=TTL_SECONDS,
    )


@pytest.fixture
def deletions(
    index: InMemoryFileIndex, store: InMemoryObjectStore, bus: RecordingPublisher
) -> ObjectDeletions:
    return ObjectDeletions(index=index, store=store, bus=bus)


def test_an_upload_whose_event_was_lost_is_settled_as_the_s3_handler_would(
    sweeper: Sweeper,
    index: InMemoryFileIndex,
    store: InMemoryObjectStore,
    bus: RecordingPublisher,
) -> None:
    record = add_file(index, status=FileStatus.PENDING)
    store.put(record.key, size=record.size, content_type=record.content_type)

    report = sweeper.sweep(FIXED_NOW + SETTLE_AFTER * 2, TRACE)

    assert report.settled == [record.file_id]
    settled = index.get(OWNER, record.file_id)
    assert settled is not None
    assert settled.status is FileStatus.AVAILABLE
    assert bus.versions == every_version("FileCreated")


def test_a_lost_upload_that_broke_its_declaration_is_rejected(
    sweeper: Sweeper,
    index: InMemoryFileIndex,
    store: InMemoryObjectStore,
    bus: RecordingPublisher,
) -> None:
    record = add_file(index, status=FileStatus.PENDING)
    store.put(record.key, size=record.size + 1, content_type=record.content_type)

    sweeper.sweep(FIXED_NOW + SETTLE_AFTER * 2, TRACE)

    rejected = index.get(OWNER, record.file_id)
    assert rejected is not None
    assert rejected.status is FileStatus.REJECTED
    assert record.key not in store.objects
    assert bus.types == ["FileRejected"]


def test_an_upload_never_made_expires_and_frees_its_name(
    sweeper: Sweeper,
    index: InMemoryFileIndex,
    store: InMemoryObjectStore,
    bus: RecordingPublisher,
) -> None:
    record = add_file(index, name="docs/a.txt", status=FileStatus.PENDING)

    report = sweeper.sweep(LONG_AFTER, TRACE)

    assert report.expired == [record.file_id]
    assert index.get(OWNER, record.file_id) is None
    assert (OWNER, "docs/a.txt") not in index.names
    assert record.key not in store.objects
    assert bus.published == []


def test_an_upload_whose_form_may_still_be_in_use_is_left_alone(
    sweeper: Sweeper, index: InMemoryFileIndex
) -> None:
    record = add_file(index, status=FileStatus.PENDING)
    still_valid = FIXED_NOW + timedelta(seconds=TTL_SECONDS)

    report = sweeper.sweep(still_valid, TRACE)

    assert report.left == [record.file_id]
    assert index.get(OWNER, record.file_id) == record


def test_a_young_upload_is_not_even_looked_at(
    sweeper: Sweeper, index: InMemoryFileIndex, store: InMemoryObjectStore
) -> None:
    record = add_file(index, status=FileStatus.PENDING)
    store.put(record.key, size=record.size, content_type=record.content_type)

    report = sweeper.sweep(FIXED_NOW + SETTLE_AFTER / 2, TRACE)

    assert report.acted_on == 0
    assert report.left == []
    assert index.get(OWNER, record.file_id) == record


def test_an_interrupted_delete_gets_its_own_command_again(
    sweeper: Sweeper, index: InMemoryFileIndex, bus: RecordingPublisher
) -> None:
    record = add_file(index, status=FileStatus.DELETING)

    report = sweeper.sweep(LONG_AFTER, TRACE)

    assert report.delete_resent == [record.file_id]
    (command,) = bus.published
    first = message_of(DeleteFileV1, record, "the route's trace", record.sequence)
    # The same event id as the route's command: consumers can drop a copy.
    assert command.metadata.event_id == first.metadata.event_id
    assert index.get(OWNER, record.file_id) == record


def test_files_that_need_nothing_are_not_touched(
    sweeper: Sweeper, index: InMemoryFileIndex, bus: RecordingPublisher
) -> None:
    available = add_file(index, name="a.txt")
    rejected = add_file(index, name="b.txt", status=FileStatus.REJECTED)

    report = sweeper.sweep(LONG_AFTER, TRACE)

    assert report == type(report)()
    assert index.get(OWNER, available.file_id) == available
    assert index.get(OWNER, rejected.file_id) == rejected
    assert bus.published == []


def test_one_run_acts_on_at_most_its_bound(
    sweeper: Sweeper, index: InMemoryFileIndex
) -> None:
    sweeper.max_records = 3
    for number in range(5):
        add_file(index, name=f"f{number}.txt", status=FileStatus.PENDING)

    first = sweeper.sweep(LONG_AFTER, TRACE)
    second = sweeper.sweep(LONG_AFTER, TRACE)

    assert (len(first.expired), len(second.expired)) == (3, 2)


def test_one_failing_file_leaves_the_others_to_be_swept(
    sweeper: Sweeper, index: InMemoryFileIndex, store: InMemoryObjectStore
) -> None:
    add_file(index, name="a.txt", status=FileStatus.PENDING)
    add_file(index, name="b.txt", status=FileStatus.PENDING)
    store.refusals.refuse_next("head")

    report = sweeper.sweep(LONG_AFTER, TRACE)

    assert (len(report.failed), len(report.expired)) == (1, 1)


def test_an_object_deleted_outside_the_api_takes_its_file_along(
    deletions: ObjectDeletions, index: InMemoryFileIndex, bus: RecordingPublisher
) -> None:
    record = add_file(index, name="docs/a.txt")

    deletions.object_deleted(record.key, TRACE)

    assert index.get(OWNER, record.file_id) is None
    assert (OWNER, "docs/a.txt") not in index.names
    assert index.folders == {}
    assert bus.versions == every_version("FileDeleted")
    assert {m.metadata.sequence for m in bus.published} == {record.sequence + 1}


@pytest.mark.parametrize(
    "status", [FileStatus.DELETING, FileStatus.REJECTED, FileStatus.PENDING]
)
def test_a_deletion_the_service_made_or_will_handle_publishes_nothing(
    deletions: ObjectDeletions,
    index: InMemoryFileIndex,
    bus: RecordingPublisher,
    status: FileStatus,
) -> None:
    record = add_file(index, status=status)

    deletions.object_deleted(record.key, TRACE)

    assert index.get(OWNER, record.file_id) == record
    assert bus.published == []


def test_a_deletion_of_a_file_already_gone_publishes_nothing(
    deletions: ObjectDeletions, index: InMemoryFileIndex, bus: RecordingPublisher
) -> None:
    record = add_file(index)
    index.remove(record)

    deletions.object_deleted(record.key, TRACE)
    deletions.object_deleted("elsewhere/notes.txt", TRACE)

    assert bus.published == []


def test_a_stale_deletion_of_an_object_that_is_back_keeps_the_file(
    deletions: ObjectDeletions,
    index: InMemoryFileIndex,
    store: InMemoryObjectStore,
    bus: RecordingPublisher,
) -> None:
    record = add_file(index)
    store.put(record.key, size=record.size)

    deletions.object_deleted(record.key, TRACE)

    assert index.get(OWNER, record.file_id) == record
    assert bus.published == []
