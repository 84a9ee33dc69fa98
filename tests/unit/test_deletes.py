"""The delete consumer over fakes: bytes, then the event, then the record."""

from __future__ import annotations

import pytest

from chalicelib.deletes import DeleteProcessor
from chalicelib.domain import FileRecord, FileStatus
from chalicelib.errors import DependencyUnavailableError
from chalicelib.messages import DeleteFile, DeleteFileData, FileDeleted
from tests.builders import OWNER, add_file, forwarded_event, queued
from tests.fakes import (
    InMemoryFileIndex,
    InMemoryObjectStore,
    Journal,
    RecordingAcknowledger,
    RecordingPublisher,
)


def _command(record: FileRecord, trace_id: str = "trace-d") -> DeleteFile:
    data = DeleteFileData(owner=record.owner, file_id=record.file_id, name=record.name)
    return DeleteFile.about(record, data, trace_id=trace_id, sequence=record.sequence)


def _deleting_file(index: InMemoryFileIndex, store: InMemoryObjectStore) -> FileRecord:
    record = add_file(index, name="docs/a.txt", status=FileStatus.DELETING)
    store.put(record.key, size=10, content_type="application/pdf")
    return record


def test_a_delete_removes_the_object_then_announces_it_then_drops_the_record(
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
        f"store.delete {record.key}",
        "bus.publish FileDeleted",
        f"index.remove {record.file_id}",
    ]
    assert index.get(OWNER, record.file_id) is None
    assert record.key not in store.objects
    (event,) = bus.published
    assert isinstance(event, FileDeleted)
    assert event.metadata.trace_id == "trace-d"
    assert event.metadata.sequence == record.sequence + 1
    assert (event.data.owner, event.data.file_id, event.data.name) == (
        OWNER,
        record.file_id,
        "docs/a.txt",
    )


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

    assert bus.types == ["FileDeleted"]
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
    first, second = bus.published
    assert first.metadata.event_id == second.metadata.event_id


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

    assert index.get(OWNER, record.file_id) == record
    assert record.key not in store.objects


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
    assert bus.types == ["FileDeleted"] * 3
    assert acknowledger.deleted == []
