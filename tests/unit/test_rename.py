"""Renaming and moving files, over in-memory fakes."""

from __future__ import annotations

import pytest

from chalicelib.api import (
    CreateFileRequest,
    FileView,
    ListFilesQuery,
    RenameFileRequest,
)
from chalicelib.domain import FileStatus
from chalicelib.errors import (
    DependencyUnavailableError,
    FileStateConflictError,
    InvalidNameError,
    NameConflictError,
    NoSuchFileError,
)
from chalicelib.files import FileService
from chalicelib.messages import FileRenamedV1
from tests.builders import OTHER_OWNER, OWNER, add_file
from tests.fakes import InMemoryFileIndex, InMemoryObjectStore, RecordingPublisher

TRACE = "trace-rename"


def _rename(
    service: FileService, file_id: str, name: str, owner: str = OWNER
) -> FileView:
    request = RenameFileRequest.model_validate({"name": name})
    return service.rename_file(owner, file_id, request, TRACE)


def _listed(service: FileService, **query: object) -> list[str]:
    listing = service.list_files(OWNER, ListFilesQuery.model_validate(query))
    return [f.name for f in listing.folders] + [i.name for i in listing.items]


def test_a_move_changes_the_name_and_folders_but_never_the_bytes(
    file_service: FileService,
    index: InMemoryFileIndex,
    store: InMemoryObjectStore,
    bus: RecordingPublisher,
) -> None:
    record = add_file(index, "inbox/report.pdf")
    add_file(index, "inbox/keep.txt")

    answer = _rename(file_service, record.file_id, "archive/2026/report.pdf")

    assert answer.name == "archive/2026/report.pdf"
    stored = index.get(OWNER, record.file_id)
    assert stored is not None
    assert stored.name == "archive/2026/report.pdf"
    assert stored.key == record.key
    assert stored.sequence == record.sequence + 1
    assert stored.outbox == ()
    assert store.deleted == []
    assert _listed(file_service, delimiter="/") == ["archive/", "inbox/"]
    assert _listed(file_service, prefix="archive/", delimiter="/") == ["archive/2026/"]
    assert _listed(file_service) == ["archive/2026/report.pdf", "inbox/keep.txt"]


def test_a_rename_publishes_file_renamed_with_the_old_and_new_names(
    file_service: FileService, index: InMemoryFileIndex, bus: RecordingPublisher
) -> None:
    record = add_file(index, "a.txt")

    _rename(file_service, record.file_id, "b.txt")

    (event,) = bus.published
    assert isinstance(event, FileRenamedV1)
    assert (event.data.previous_name, event.data.name) == ("a.txt", "b.txt")
    assert event.data.status == "AVAILABLE"
    assert event.metadata.sequence == record.sequence + 1
    assert event.metadata.trace_id == TRACE


def test_the_old_name_is_free_and_the_new_one_taken_after_a_rename(
    file_service: FileService, index: InMemoryFileIndex
) -> None:
    record = add_file(index, "a.txt")
    _rename(file_service, record.file_id, "b.txt")

    again = file_service.create_file(
        OWNER, CreateFileRequest.model_validate({"name": "a.txt", "size": 1})
    )

    assert again.name == "a.txt"
    with pytest.raises(NameConflictError):
        file_service.create_file(
            OWNER, CreateFileRequest.model_validate({"name": "b.txt", "size": 1})
        )


def test_renaming_onto_a_taken_name_is_a_conflict_that_changes_nothing(
    file_service: FileService, index: InMemoryFileIndex, bus: RecordingPublisher
) -> None:
    record = add_file(index, "a.txt")
    add_file(index, "b.txt")

    with pytest.raises(NameConflictError) as caught:
        _rename(file_service, record.file_id, "b.txt")

    assert caught.value.details == {"name": "b.txt"}
    assert index.get(OWNER, record.file_id) == record
    assert index.names[(OWNER, "a.txt")] == record.file_id
    assert bus.published == []


def test_renaming_to_the_same_name_changes_and_publishes_nothing(
    file_service: FileService, index: InMemoryFileIndex, bus: RecordingPublisher
) -> None:
    record = add_file(index, "a.txt")

    answer = _rename(file_service, record.file_id, "a.txt")

    assert answer.name == "a.txt"
    assert index.get(OWNER, record.file_id) == record
    assert bus.published == []


def test_a_file_still_uploading_may_be_renamed(
    file_service: FileService, index: InMemoryFileIndex, bus: RecordingPublisher
) -> None:
    record = add_file(index, "draft.txt", status=FileStatus.PENDING)

    _rename(file_service, record.file_id, "final.txt")

    stored = index.get(OWNER, record.file_id)
    assert stored is not None
    assert (stored.status, stored.name) == (FileStatus.PENDING, "final.txt")
    assert index.names[(OWNER, "final.txt")] == record.file_id
    assert [type(m) for m in bus.published] == [FileRenamedV1]


@pytest.mark.parametrize("status", [FileStatus.DELETING, FileStatus.REJECTED])
def test_a_file_being_deleted_or_rejected_cannot_be_renamed(
    file_service: FileService,
    index: InMemoryFileIndex,
    bus: RecordingPublisher,
    status: FileStatus,
) -> None:
    record = add_file(index, "a.txt", status=status)

    with pytest.raises(FileStateConflictError):
        _rename(file_service, record.file_id, "b.txt")

    assert index.get(OWNER, record.file_id) == record
    assert bus.published == []


def test_another_users_file_cannot_be_renamed_and_reads_as_missing(
    file_service: FileService, index: InMemoryFileIndex
) -> None:
    theirs = add_file(index, "a.txt", owner=OTHER_OWNER)

    with pytest.raises(NoSuchFileError):
        _rename(file_service, theirs.file_id, "mine.txt")

    assert index.get(OTHER_OWNER, theirs.file_id) == theirs


def test_a_new_name_obeys_the_same_rules_as_at_create() -> None:
    with pytest.raises(InvalidNameError):
        RenameFileRequest.model_validate({"name": "a/../b"})
    composed = RenameFileRequest.model_validate({"name": "cafe\u0301.txt"})
    assert composed.name == "caf\u00e9.txt"


def test_a_rename_whose_event_the_bus_refused_sends_it_when_repeated(
    file_service: FileService, index: InMemoryFileIndex, bus: RecordingPublisher
) -> None:
    record = add_file(index, "a.txt")
    bus.refuse_next()

    with pytest.raises(DependencyUnavailableError):
        _rename(file_service, record.file_id, "b.txt")
    stored = index.get(OWNER, record.file_id)
    assert stored is not None
    assert stored.name == "b.txt"
    assert len(stored.outbox) == 1

    _rename(file_service, record.file_id, "b.txt")

    assert [type(m) for m in bus.published] == [FileRenamedV1]
    after = index.get(OWNER, record.file_id)
    assert after is not None
    assert after.outbox == ()
