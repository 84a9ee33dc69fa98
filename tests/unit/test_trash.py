"""The trash over in-memory fakes: trash, list, restore, purge, delete."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.api import (
    CreateFileRequest,
    ListFilesQuery,
    RenameFileRequest,
    TrashQuery,
)
from chalicelib.deletes import DeleteProcessor
from chalicelib.domain import FileRecord, FileStatus, Usage
from chalicelib.errors import (
    FileStateConflictError,
    InvalidCursorError,
    NameConflictError,
    NoSuchFileError,
)
from chalicelib.files import RESTORE_NAME_ATTEMPTS, FileService
from chalicelib.housekeeping import TRASH_RETENTION, Sweeper
from chalicelib.messages import DeleteFileV1, FileRestoredV1, FileTrashedV1
from chalicelib.names import numbered_names
from chalicelib.uploads import UploadProcessor
from tests.builders import OTHER_OWNER, OWNER, add_file, forwarded_event, queued
from tests.fakes import (
    FIXED_NOW,
    FixedClock,
    InMemoryFileIndex,
    InMemoryObjectStore,
    RecordingPublisher,
)

TRACE = "trace-trash"


@pytest.fixture
def sweeper(
    index: InMemoryFileIndex, store: InMemoryObjectStore, bus: RecordingPublisher
) -> Sweeper:
    uploads = UploadProcessor(index=index, store=store, bus=bus)
    return Sweeper(
        index=index, store=store, bus=bus, uploads=uploads, presign_ttl_seconds=900
    )


def _listed(service: FileService) -> list[str]:
    listing = service.list_files(OWNER, ListFilesQuery())
    return [item.name for item in listing.items]


def _stored(index: InMemoryFileIndex, record: FileRecord) -> FileRecord:
    stored = index.get(record.owner, record.file_id)
    assert stored is not None
    return stored


def _create(service: FileService, name: str) -> str:
    request = CreateFileRequest.model_validate({"name": name, "size": 1})
    return service.create_file(OWNER, request).file_id


# --- trash --------------------------------------------------------------------


def test_a_trashed_file_leaves_listings_frees_its_name_and_keeps_its_bytes(
    file_service: FileService,
    index: InMemoryFileIndex,
    store: InMemoryObjectStore,
    bus: RecordingPublisher,
    clock: FixedClock,
) -> None:
    record = add_file(index, "docs/report.pdf", size=10)
    store.put(record.key, size=10)
    used = index.usage(OWNER)

    answer = file_service.trash_file(OWNER, record.file_id, TRACE)

    assert (answer.status, answer.trashed_at) == (FileStatus.TRASHED, clock.now)
    assert _listed(file_service) == []
    assert index.folders == {}
    assert record.key in store.objects
    assert index.usage(OWNER) == used == Usage(files=1, bytes=10)
    assert _create(file_service, "docs/report.pdf")
    (event,) = bus.published
    assert isinstance(event, FileTrashedV1)
    assert (event.data.name, event.data.trashed_at) == ("docs/report.pdf", clock.now)
    assert _stored(index, record).outbox == ()


def test_trashing_a_trashed_file_again_answers_the_same_and_publishes_nothing(
    file_service: FileService, index: InMemoryFileIndex, bus: RecordingPublisher
) -> None:
    record = add_file(index)
    first = file_service.trash_file(OWNER, record.file_id, TRACE)

    again = file_service.trash_file(OWNER, record.file_id, TRACE)

    assert again == first
    assert len(bus.published) == 1


@pytest.mark.parametrize(
    "status", [FileStatus.PENDING, FileStatus.DELETING, FileStatus.REJECTED]
)
def test_only_an_available_file_goes_to_the_trash(
    file_service: FileService,
    index: InMemoryFileIndex,
    bus: RecordingPublisher,
    status: FileStatus,
) -> None:
    record = add_file(index, status=status)

    with pytest.raises(FileStateConflictError):
        file_service.trash_file(OWNER, record.file_id, TRACE)

    assert index.get(OWNER, record.file_id) == record
    assert bus.published == []


def test_another_users_file_cannot_be_trashed_or_restored(
    file_service: FileService, index: InMemoryFileIndex
) -> None:
    theirs = add_file(index, owner=OTHER_OWNER)

    with pytest.raises(NoSuchFileError):
        file_service.trash_file(OWNER, theirs.file_id, TRACE)
    with pytest.raises(NoSuchFileError):
        file_service.restore_file(OWNER, theirs.file_id, TRACE)

    assert index.get(OTHER_OWNER, theirs.file_id) == theirs


def test_a_trashed_file_cannot_be_renamed(
    file_service: FileService, index: InMemoryFileIndex
) -> None:
    record = add_file(index)
    file_service.trash_file(OWNER, record.file_id, TRACE)

    with pytest.raises(FileStateConflictError):
        file_service.rename_file(
            OWNER, record.file_id, RenameFileRequest(name="other.pdf"), TRACE
        )


def test_a_late_upload_event_does_not_bring_a_trashed_file_back(
    file_service: FileService,
    index: InMemoryFileIndex,
    store: InMemoryObjectStore,
    upload_processor: UploadProcessor,
) -> None:
    record = add_file(index, size=10)
    store.put(record.key, size=10)
    file_service.trash_file(OWNER, record.file_id, TRACE)

    upload_processor.object_created(record.key, TRACE)

    assert _stored(index, record).status is FileStatus.TRASHED
    assert record.key in store.objects


# --- listing the trash --------------------------------------------------------


def test_the_trash_lists_only_the_callers_trashed_files_newest_first_in_pages(
    file_service: FileService, index: InMemoryFileIndex, clock: FixedClock
) -> None:
    trashed = []
    for minute in range(5):
        record = add_file(index, f"f{minute}.txt")
        clock.now = FIXED_NOW + timedelta(minutes=minute)
        file_service.trash_file(OWNER, record.file_id, TRACE)
        trashed.append(record.file_id)
    add_file(index, "kept.txt")
    other = add_file(index, "theirs.txt", owner=OTHER_OWNER)
    file_service.trash_file(OTHER_OWNER, other.file_id, TRACE)

    seen, cursor = [], None
    while True:
        page = file_service.list_trash(
            OWNER, TrashQuery.model_validate({"limit": 2, "cursor": cursor})
        )
        seen += [item.file_id for item in page.items]
        assert page.retention_days == 30
        cursor = page.next_cursor
        if cursor is None:
            break

    assert seen == list(reversed(trashed))
    assert max(index.reads) <= 3


def test_a_trash_cursor_is_refused_for_another_user_and_for_listing_files(
    file_service: FileService, index: InMemoryFileIndex
) -> None:
    for name in ("a.txt", "b.txt"):
        file_service.trash_file(OWNER, add_file(index, name).file_id, TRACE)
    cursor = file_service.list_trash(
        OWNER, TrashQuery.model_validate({"limit": 1})
    ).next_cursor
    assert cursor is not None

    with pytest.raises(InvalidCursorError):
        file_service.list_trash(OTHER_OWNER, TrashQuery(cursor=cursor))
    with pytest.raises(InvalidCursorError):
        file_service.list_files(OWNER, ListFilesQuery(cursor=cursor))


# --- restore ------------------------------------------------------------------


def test_a_restored_file_is_back_under_its_name_with_its_folders(
    file_service: FileService, index: InMemoryFileIndex, bus: RecordingPublisher
) -> None:
    record = add_file(index, "docs/report.pdf")
    file_service.trash_file(OWNER, record.file_id, TRACE)

    answer = file_service.restore_file(OWNER, record.file_id, TRACE)

    assert (answer.status, answer.name) == (FileStatus.AVAILABLE, "docs/report.pdf")
    assert answer.trashed_at is None
    assert _listed(file_service) == ["docs/report.pdf"]
    assert index.folders == {(OWNER, "docs/"): 1}
    assert index.names[(OWNER, "docs/report.pdf")] == record.file_id
    restored = bus.published[-1]
    assert isinstance(restored, FileRestoredV1)
    assert (restored.data.name, restored.data.previous_name) == (
        "docs/report.pdf",
        "docs/report.pdf",
    )


def test_a_restore_whose_name_was_taken_meanwhile_takes_a_numbered_name(
    file_service: FileService, index: InMemoryFileIndex, bus: RecordingPublisher
) -> None:
    record = add_file(index, "docs/report.pdf")
    file_service.trash_file(OWNER, record.file_id, TRACE)
    add_file(index, "docs/report.pdf")
    add_file(index, "docs/report (1).pdf")

    answer = file_service.restore_file(OWNER, record.file_id, TRACE)

    assert answer.name == "docs/report (2).pdf"
    assert _listed(file_service) == [
        "docs/report (1).pdf",
        "docs/report (2).pdf",
        "docs/report.pdf",
    ]
    restored = bus.published[-1]
    assert isinstance(restored, FileRestoredV1)
    assert restored.data.previous_name == "docs/report.pdf"


def test_a_restore_with_every_numbered_name_taken_is_a_conflict(
    file_service: FileService, index: InMemoryFileIndex
) -> None:
    record = add_file(index, "a.txt")
    file_service.trash_file(OWNER, record.file_id, TRACE)
    add_file(index, "a.txt")
    for name in numbered_names("a.txt", RESTORE_NAME_ATTEMPTS):
        add_file(index, name)

    with pytest.raises(NameConflictError):
        file_service.restore_file(OWNER, record.file_id, TRACE)

    assert _stored(index, record).status is FileStatus.TRASHED


def test_only_a_trashed_file_can_be_restored(
    file_service: FileService, index: InMemoryFileIndex
) -> None:
    record = add_file(index)

    with pytest.raises(FileStateConflictError):
        file_service.restore_file(OWNER, record.file_id, TRACE)


# --- for good -----------------------------------------------------------------


def test_deleting_a_trashed_file_deletes_it_for_good_without_touching_its_old_name(
    file_service: FileService,
    index: InMemoryFileIndex,
    store: InMemoryObjectStore,
    bus: RecordingPublisher,
    delete_processor: DeleteProcessor,
) -> None:
    record = add_file(index, "a.txt", size=10)
    store.put(record.key, size=10)
    file_service.trash_file(OWNER, record.file_id, TRACE)
    newcomer = _create(file_service, "a.txt")

    file_service.request_delete(OWNER, record.file_id, TRACE)
    delete_processor.consume([queued(forwarded_event(bus.of_type("DeleteFile")[0]))])

    assert index.get(OWNER, record.file_id) is None
    assert record.key not in store.objects
    assert index.names[(OWNER, "a.txt")] == newcomer
    assert index.usage(OWNER) == Usage(files=1, bytes=1)


def test_the_sweep_sends_a_trashed_file_past_its_retention_to_be_deleted(
    file_service: FileService,
    sweeper: Sweeper,
    index: InMemoryFileIndex,
    bus: RecordingPublisher,
) -> None:
    old, young = add_file(index, "old.txt"), add_file(index, "young.txt")
    file_service.trash_file(OWNER, old.file_id, TRACE)
    newcomer = add_file(index, "old.txt").file_id
    later = FIXED_NOW + TRASH_RETENTION + timedelta(minutes=1)
    file_service.clock = FixedClock(FIXED_NOW + timedelta(minutes=2))
    file_service.trash_file(OWNER, young.file_id, TRACE)

    report = sweeper.sweep(later, TRACE)

    assert report.purged == [old.file_id]
    purged = _stored(index, old)
    assert (purged.status, purged.holds_name) == (FileStatus.DELETING, False)
    assert purged.in_status_since == later
    assert index.names[(OWNER, "old.txt")] == newcomer
    (command,) = bus.of_type("DeleteFile")
    assert isinstance(command, DeleteFileV1)
    assert command.data.file_id == old.file_id
    assert _stored(index, young).status is FileStatus.TRASHED
