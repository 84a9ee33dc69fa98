"""The delete consumer over fakes: bytes, then the event, then the record."""

from __future__ import annotations

import pytest

from chalicelib.deletes import DeleteProcessor, delete_command
from chalicelib.domain import FileRecord, FileStatus
from chalicelib.errors import ConcurrentUpdateError, DependencyUnavailableError
from chalicelib.messages import (
    DeleteFileV1,
    FileDeletedV1,
    FileDeletedV2,
    decode_outbox,
)
from tests.builders import (
    ETAG,
    OWNER,
    add_file,
    every_version,
    forwarded_event,
    message_of,
    queued,
)
from tests.fakes import (
    InMemoryFileIndex,
    InMemoryObjectStore,
    Journal,
    RecordingAcknowledger,
    RecordingPublisher,
)


def _command(record: FileRecord, trace_id: str = "trace-d") -> DeleteFileV1:
    return message_of(DeleteFileV1, record, trace_id, record.sequence)


def _deleting_file(index: InMemoryFileIndex, store: InMemoryObjectStore) -> FileRecord:
    record = add_file(index, name="docs/a.txt", status=FileStatus.DELETING)
    store.put(record.key, size=10, content_type="application/pdf")
    return record


def test_a_delete_claims_the_record_removes_the_object_announces_and_drops_it(
    delete_processor: DeleteProcessor,
    index: InMemoryFileIndex,
    store: InMemoryObjectStore,
    bus: RecordingPublisher,
    journal: Journal,
) -> None:
    record = _deleting_file(index, store)
    journal.clear()

    delete_processor.delete_file(_command(record))

    assert journal == [
        f"index.transition {record.file_id} DELETING",
        f"store.delete {record.key}",
        "bus.publish FileDeleted",
        "bus.publish FileDeleted",
        f"index.remove {record.file_id}",
    ]
    assert bus.calls == 1
    assert index.get(OWNER, record.file_id) is None
    assert record.key not in store.objects
    assert bus.versions == every_version("FileDeleted")
    v1, v2 = bus.published
    assert isinstance(v1, FileDeletedV1)
    assert isinstance(v2, FileDeletedV2)
    for event in (v1, v2):
        assert event.metadata.trace_id == "trace-d"
        assert event.metadata.sequence == record.sequence + 1
        assert event.metadata.file_id == record.file_id
    assert v1.metadata.event_id != v2.metadata.event_id
    assert (v1.data.owner, v1.data.file_id, v1.data.name) == (
        OWNER,
        record.file_id,
        "docs/a.txt",
    )
    assert (v2.data.owner, v2.data.file.file_id, v2.data.file.name) == (
        OWNER,
        record.file_id,
        "docs/a.txt",
    )
    assert (v2.data.file.size, v2.data.file.etag) == (10, ETAG)
    assert v1.data.deleted_at == v2.data.deleted_at


def test_the_name_of_a_deleted_file_is_free_again(
    delete_processor: DeleteProcessor,
    index: InMemoryFileIndex,
    store: InMemoryObjectStore,
) -> None:
    record = _deleting_file(index, store)

    delete_processor.delete_file(_command(record))

    again = add_file(index, name="docs/a.txt")
    assert again.file_id != record.file_id


def test_a_command_delivered_again_after_the_delete_changes_nothing(
    delete_processor: DeleteProcessor,
    index: InMemoryFileIndex,
    store: InMemoryObjectStore,
    bus: RecordingPublisher,
) -> None:
    record = _deleting_file(index, store)
    delete_processor.delete_file(_command(record))

    delete_processor.delete_file(_command(record))

    assert bus.versions == every_version("FileDeleted")
    assert store.deleted == [record.key]


def test_a_delete_interrupted_before_the_record_went_finishes_on_redelivery(
    delete_processor: DeleteProcessor,
    index: InMemoryFileIndex,
    store: InMemoryObjectStore,
    bus: RecordingPublisher,
) -> None:
    record = _deleting_file(index, store)
    index.refusals.refuse_next("remove")
    with pytest.raises(DependencyUnavailableError):
        delete_processor.delete_file(_command(record))

    delete_processor.delete_file(_command(record))

    assert index.get(OWNER, record.file_id) is None
    assert bus.versions == every_version("FileDeleted") * 2
    published = len(every_version("FileDeleted"))
    first, again = bus.published[:published], bus.published[published:]
    assert [m.metadata.event_id for m in first] == [m.metadata.event_id for m in again]


def test_a_delete_whose_event_the_bus_refused_keeps_the_record_for_the_retry(
    delete_processor: DeleteProcessor,
    index: InMemoryFileIndex,
    store: InMemoryObjectStore,
    bus: RecordingPublisher,
) -> None:
    record = _deleting_file(index, store)
    bus.refuse_next()

    with pytest.raises(DependencyUnavailableError):
        delete_processor.delete_file(_command(record))

    kept = index.get(OWNER, record.file_id)
    assert kept is not None
    assert (kept.status, kept.sequence) == (FileStatus.DELETING, record.sequence + 1)
    assert [decode_outbox(raw).metadata.type for raw in kept.outbox] == [
        "FileDeleted"
    ] * len(every_version("FileDeleted"))
    assert record.key not in store.objects


def test_a_claimed_delete_can_no_longer_be_undone_by_the_route(
    delete_processor: DeleteProcessor,
    index: InMemoryFileIndex,
    store: InMemoryObjectStore,
    bus: RecordingPublisher,
) -> None:
    record = _deleting_file(index, store)
    bus.refuse_next()
    with pytest.raises(DependencyUnavailableError):
        delete_processor.delete_file(_command(record))

    with pytest.raises(ConcurrentUpdateError):
        index.transition(record, record.evolve(status=FileStatus.AVAILABLE))

    delete_processor.delete_file(_command(record))
    assert index.get(OWNER, record.file_id) is None
    assert bus.versions == every_version("FileDeleted")


def test_the_delete_command_sent_again_keeps_its_first_event_id_after_a_claim(
    delete_processor: DeleteProcessor,
    index: InMemoryFileIndex,
    store: InMemoryObjectStore,
    bus: RecordingPublisher,
) -> None:
    record = _deleting_file(index, store)
    first = _command(record)
    bus.refuse_next()
    with pytest.raises(DependencyUnavailableError):
        delete_processor.delete_file(first)
    claimed = index.get(OWNER, record.file_id)
    assert claimed is not None

    (again,) = delete_command(claimed, "trace-sweep")

    assert again.metadata.event_id == first.metadata.event_id


def test_a_command_for_a_file_whose_delete_mark_was_undone_leaves_it_alone(
    delete_processor: DeleteProcessor,
    index: InMemoryFileIndex,
    store: InMemoryObjectStore,
    bus: RecordingPublisher,
) -> None:
    available = add_file(index)
    store.put(available.key, size=10)

    delete_processor.delete_file(_command(available))

    assert index.get(OWNER, available.file_id) == available
    assert available.key in store.objects
    assert bus.published == []


def test_a_batch_of_forwarded_commands_deletes_each_file(
    delete_processor: DeleteProcessor,
    index: InMemoryFileIndex,
    store: InMemoryObjectStore,
    bus: RecordingPublisher,
    acknowledger: RecordingAcknowledger,
) -> None:
    records = [
        add_file(index, name=f"{n}.txt", status=FileStatus.DELETING) for n in range(3)
    ]
    messages = [queued(forwarded_event(_command(r))) for r in records]

    delete_processor.consume(messages)

    assert all(index.get(OWNER, r.file_id) is None for r in records)
    assert bus.versions == every_version("FileDeleted") * 3
    assert {m.metadata.file_id for m in bus.published} == {r.file_id for r in records}
    assert acknowledger.deleted == []
