"""The file service over in-memory fakes: create, list, describe, delete."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

import pytest

from chalicelib.api import CreateFileRequest, ListFilesQuery
from chalicelib.domain import FileRecord, FileStatus, object_key
from chalicelib.errors import (
    DependencyUnavailableError,
    InvalidCursorError,
    NameConflictError,
    NoSuchFileError,
)
from chalicelib.files import FileService
from chalicelib.messages import DeleteFileV1, Message
from tests.builders import OTHER_OWNER, OWNER, add_file, every_version
from tests.fakes import (
    FixedClock,
    InMemoryFileIndex,
    InMemoryObjectStore,
    RecordingPublisher,
)
from tests.unit.conftest import PRESIGN_TTL

SHA = "ab" * 32


def _request(name: str = "docs/report.pdf", **fields: object) -> CreateFileRequest:
    body: dict[str, object] = {
        "name": name,
        "size": 10,
        "content_type": "application/pdf",
    }
    return CreateFileRequest.model_validate(body | fields)


def _names(service: FileService, **query: object) -> list[str]:
    listing = service.list_files(OWNER, ListFilesQuery.model_validate(query))
    return [f.name for f in listing.folders] + [i.name for i in listing.items]


# --- create ---------------------------------------------------------------


def test_creating_a_file_stores_a_pending_record_and_answers_an_upload_form(
    file_service: FileService,
    index: InMemoryFileIndex,
    store: InMemoryObjectStore,
    clock: FixedClock,
) -> None:
    created = file_service.create_file(OWNER, _request(sha256=SHA))

    record = index.get(OWNER, created.file_id)
    assert record is not None
    assert record.status is FileStatus.PENDING
    assert record.name == "docs/report.pdf"
    assert (record.size, record.content_type, record.sha256) == (
        10,
        "application/pdf",
        SHA,
    )
    assert record.created_at == clock.now
    assert created.status is FileStatus.PENDING
    assert created.upload.fields["key"] == object_key(OWNER, created.file_id)
    assert created.upload.expires_at == clock.now + timedelta(seconds=PRESIGN_TTL)
    (upload,) = store.uploads
    assert upload.key == record.key
    assert (upload.size, upload.content_type, upload.sha256) == (
        10,
        "application/pdf",
        SHA,
    )
    assert upload.expires_in == PRESIGN_TTL


def test_the_object_key_comes_from_owner_and_id_never_from_the_name(
    file_service: FileService,
) -> None:
    created = file_service.create_file(OWNER, _request(name="etc/passwd"))

    assert created.upload.fields["key"] == f"files/{OWNER}/{created.file_id}"
    assert "passwd" not in created.upload.fields["key"]


def test_a_name_already_taken_is_a_conflict_and_stores_nothing(
    file_service: FileService, index: InMemoryFileIndex, store: InMemoryObjectStore
) -> None:
    file_service.create_file(OWNER, _request(name="docs/report.pdf"))

    with pytest.raises(NameConflictError) as caught:
        file_service.create_file(OWNER, _request(name="docs/report.pdf"))

    assert caught.value.message == "a file named 'docs/report.pdf' already exists"
    assert caught.value.details == {"name": "docs/report.pdf"}
    assert len(index.records) == 1
    assert len(store.uploads) == 1


def test_a_name_in_its_decomposed_form_conflicts_with_its_composed_twin(
    file_service: FileService,
) -> None:
    file_service.create_file(OWNER, _request(name="café.txt"))

    with pytest.raises(NameConflictError):
        file_service.create_file(OWNER, _request(name="cafe\u0301.txt"))


def test_two_users_may_each_have_a_file_of_the_same_name(
    file_service: FileService,
) -> None:
    mine = file_service.create_file(OWNER, _request(name="notes.txt"))

    theirs = file_service.create_file(OTHER_OWNER, _request(name="notes.txt"))

    assert theirs.file_id != mine.file_id


def test_the_name_of_a_rejected_upload_is_free_again(
    file_service: FileService, index: InMemoryFileIndex
) -> None:
    add_file(index, name="notes.txt", status=FileStatus.REJECTED)

    created = file_service.create_file(OWNER, _request(name="notes.txt"))

    assert created.name == "notes.txt"


# --- list -----------------------------------------------------------------


def test_listing_shows_only_available_files_sorted_by_name(
    file_service: FileService, index: InMemoryFileIndex
) -> None:
    for name in ("b.txt", "a.txt", "c.txt"):
        add_file(index, name=name)
    add_file(index, name="aa-pending.txt", status=FileStatus.PENDING)
    add_file(index, name="ab-deleting.txt", status=FileStatus.DELETING)
    add_file(index, name="ac-rejected.txt", status=FileStatus.REJECTED)
    add_file(index, name="other-user.txt", owner=OTHER_OWNER)

    listing = file_service.list_files(OWNER, ListFilesQuery())

    assert [i.name for i in listing.items] == ["a.txt", "b.txt", "c.txt"]
    assert {i.status for i in listing.items} == {FileStatus.AVAILABLE}
    assert listing.folders == []
    assert listing.next_cursor is None


def test_listing_pages_through_every_file_once_and_ends_without_a_cursor(
    file_service: FileService, index: InMemoryFileIndex
) -> None:
    names = [f"file-{n:02d}.txt" for n in range(7)]
    for name in names:
        add_file(index, name=name)

    pages: list[list[str]] = []
    cursor = None
    while True:
        query = ListFilesQuery(limit=3, cursor=cursor)
        listing = file_service.list_files(OWNER, query)
        pages.append([i.name for i in listing.items])
        cursor = listing.next_cursor
        if cursor is None:
            break

    assert [len(p) for p in pages] == [3, 3, 1]
    assert [name for page in pages for name in page] == names
    assert max(index.reads) <= 4


def test_a_listing_that_ends_exactly_at_a_page_boundary_has_no_further_cursor(
    file_service: FileService, index: InMemoryFileIndex
) -> None:
    for n in range(4):
        add_file(index, name=f"f{n}")

    first = file_service.list_files(OWNER, ListFilesQuery(limit=2))
    second = file_service.list_files(
        OWNER, ListFilesQuery(limit=2, cursor=first.next_cursor)
    )

    assert first.next_cursor is not None
    assert [i.name for i in second.items] == ["f2", "f3"]
    assert second.next_cursor is None


def test_a_prefix_lists_the_names_that_start_with_it(
    file_service: FileService, index: InMemoryFileIndex
) -> None:
    for name in ("docs/a.txt", "docs/2026/b.txt", "docsy.txt", "pics/c.png"):
        add_file(index, name=name)

    assert _names(file_service, prefix="docs/") == ["docs/2026/b.txt", "docs/a.txt"]
    assert _names(file_service, prefix="docs") == [
        "docs/2026/b.txt",
        "docs/a.txt",
        "docsy.txt",
    ]


def test_a_delimiter_lists_one_folders_files_and_its_immediate_subfolders(
    file_service: FileService, index: InMemoryFileIndex
) -> None:
    for name in (
        "top.txt",
        "docs/a.txt",
        "docs/2026/b.txt",
        "docs/2026/q1/c.txt",
        "pics/c.png",
    ):
        add_file(index, name=name)

    top = file_service.list_files(OWNER, ListFilesQuery(delimiter="/"))
    docs = file_service.list_files(OWNER, ListFilesQuery(delimiter="/", prefix="docs/"))

    assert [f.name for f in top.folders] == ["docs/", "pics/"]
    assert [i.name for i in top.items] == ["top.txt"]
    assert [f.name for f in docs.folders] == ["docs/2026/"]
    assert [i.name for i in docs.items] == ["docs/a.txt"]


def test_folders_and_files_together_count_toward_the_page_limit(
    file_service: FileService, index: InMemoryFileIndex
) -> None:
    for name in ("a/x.txt", "b.txt", "c/y.txt", "d.txt"):
        add_file(index, name=name)

    first = file_service.list_files(OWNER, ListFilesQuery(delimiter="/", limit=3))
    rest = file_service.list_files(
        OWNER, ListFilesQuery(delimiter="/", limit=3, cursor=first.next_cursor)
    )

    assert [f.name for f in first.folders] == ["a/", "c/"]
    assert [i.name for i in first.items] == ["b.txt"]
    assert [i.name for i in rest.items] == ["d.txt"]
    assert rest.folders == []
    assert rest.next_cursor is None


def test_a_folder_whose_last_available_file_leaves_is_no_longer_listed(
    file_service: FileService, index: InMemoryFileIndex
) -> None:
    record = add_file(index, name="old/only.txt")
    add_file(index, name="keep/this.txt")

    index.transition(record, record.evolve(status=FileStatus.DELETING))

    assert _names(file_service, delimiter="/") == ["keep/"]


def test_a_cursor_is_refused_for_another_user_or_another_prefix(
    file_service: FileService, index: InMemoryFileIndex
) -> None:
    for n in range(3):
        add_file(index, name=f"docs/{n}.txt")
    cursor = file_service.list_files(OWNER, ListFilesQuery(limit=1)).next_cursor

    with pytest.raises(InvalidCursorError):
        file_service.list_files(OTHER_OWNER, ListFilesQuery(limit=1, cursor=cursor))
    with pytest.raises(InvalidCursorError):
        file_service.list_files(
            OWNER, ListFilesQuery(limit=1, cursor=cursor, prefix="docs/")
        )


def test_the_page_size_may_change_between_pages_of_one_listing(
    file_service: FileService, index: InMemoryFileIndex
) -> None:
    for n in range(5):
        add_file(index, name=f"f{n}")
    first = file_service.list_files(OWNER, ListFilesQuery(limit=1))

    rest = file_service.list_files(
        OWNER, ListFilesQuery(limit=10, cursor=first.next_cursor)
    )

    assert [i.name for i in rest.items] == ["f1", "f2", "f3", "f4"]


# --- describe -------------------------------------------------------------


def test_describing_an_available_file_gives_a_download_url_for_its_last_segment(
    file_service: FileService,
    index: InMemoryFileIndex,
    store: InMemoryObjectStore,
    clock: FixedClock,
) -> None:
    record = add_file(index, name="reports/Q3 results (final)+v2: é.pdf")

    details = file_service.describe_file(OWNER, record.file_id)

    assert details.status is FileStatus.AVAILABLE
    assert details.name == "reports/Q3 results (final)+v2: é.pdf"
    assert details.download_url is not None
    assert details.download_expires_at == clock.now + timedelta(seconds=PRESIGN_TTL)
    (download,) = store.downloads
    assert download.key == record.key
    assert download.filename == "Q3 results (final)+v2: é.pdf"
    assert download.content_type == record.content_type
    assert download.expires_in == PRESIGN_TTL


@pytest.mark.parametrize(
    "status", [FileStatus.PENDING, FileStatus.DELETING, FileStatus.REJECTED]
)
def test_describing_a_file_that_is_not_available_gives_no_download_url(
    file_service: FileService,
    index: InMemoryFileIndex,
    store: InMemoryObjectStore,
    status: FileStatus,
) -> None:
    record = add_file(index, status=status)

    details = file_service.describe_file(OWNER, record.file_id)

    assert details.status is status
    assert details.download_url is None
    assert details.download_expires_at is None
    assert store.downloads == []


def test_another_users_file_reads_exactly_like_a_missing_one(
    file_service: FileService, index: InMemoryFileIndex
) -> None:
    theirs = add_file(index, owner=OTHER_OWNER)
    missing_id = "0" * 32

    with pytest.raises(NoSuchFileError) as foreign:
        file_service.describe_file(OWNER, theirs.file_id)
    with pytest.raises(NoSuchFileError) as missing:
        file_service.describe_file(OWNER, missing_id)

    assert foreign.value.message == f"no file with id {theirs.file_id!r}"
    assert missing.value.message == f"no file with id {missing_id!r}"


@pytest.mark.parametrize("file_id", ["nope", "A" * 32, "../" + "0" * 29, ""])
def test_a_malformed_file_id_is_not_found_without_reading_the_index(
    file_service: FileService, index: InMemoryFileIndex, file_id: str
) -> None:
    index.refusals.refuse_next("get")

    with pytest.raises(NoSuchFileError):
        file_service.describe_file(OWNER, file_id)


# --- delete ---------------------------------------------------------------


def test_a_delete_marks_the_file_deleting_before_it_puts_the_command(
    file_service: FileService, index: InMemoryFileIndex, bus: RecordingPublisher
) -> None:
    record = add_file(index, name="docs/a.txt")
    seen: list[FileStatus | None] = []

    def observe(_: Sequence[Message]) -> None:
        stored = index.get(OWNER, record.file_id)
        seen.append(stored.status if stored else None)

    bus.before_publish = observe

    accepted = file_service.request_delete(OWNER, record.file_id, "trace-7")

    assert accepted.status == "DELETING"
    assert seen == [FileStatus.DELETING]
    assert bus.versions == every_version("DeleteFile")
    (command,) = bus.published
    assert isinstance(command, DeleteFileV1)
    marked = index.get(OWNER, record.file_id)
    assert marked is not None
    assert marked.status is FileStatus.DELETING
    assert command.metadata.sequence == marked.sequence
    assert command.metadata.trace_id == "trace-7"
    assert (command.data.owner, command.data.file_id, command.data.name) == (
        OWNER,
        record.file_id,
        "docs/a.txt",
    )


def test_a_file_being_deleted_is_not_listed_and_its_name_is_still_taken(
    file_service: FileService, index: InMemoryFileIndex
) -> None:
    record = add_file(index, name="a.txt")

    file_service.request_delete(OWNER, record.file_id, "t")

    assert _names(file_service) == []
    with pytest.raises(NameConflictError):
        file_service.create_file(OWNER, _request(name="a.txt"))


def test_when_the_bus_refuses_the_command_the_delete_fails_and_the_file_is_back(
    file_service: FileService, index: InMemoryFileIndex, bus: RecordingPublisher
) -> None:
    record = add_file(index, name="docs/a.txt")
    bus.refuse_next()

    with pytest.raises(DependencyUnavailableError) as caught:
        file_service.request_delete(OWNER, record.file_id, "t")

    assert caught.value.status == 503
    assert caught.value.message.endswith("try again")
    assert bus.published == []
    restored = index.get(OWNER, record.file_id)
    assert restored is not None
    assert _same_but_sequence(restored, record)
    assert restored.sequence > record.sequence
    assert _names(file_service, delimiter="/") == ["docs/"]
    assert _names(file_service) == ["docs/a.txt"]
    assert index.names[(OWNER, "docs/a.txt")] == record.file_id


def test_a_delete_retried_after_the_bus_refused_goes_through(
    file_service: FileService, index: InMemoryFileIndex, bus: RecordingPublisher
) -> None:
    record = add_file(index)
    bus.refuse_next()
    with pytest.raises(DependencyUnavailableError):
        file_service.request_delete(OWNER, record.file_id, "t")

    accepted = file_service.request_delete(OWNER, record.file_id, "t")

    assert accepted.status == "DELETING"
    assert bus.versions == every_version("DeleteFile")


def test_a_pending_file_can_be_deleted_too(
    file_service: FileService, index: InMemoryFileIndex, bus: RecordingPublisher
) -> None:
    record = add_file(index, status=FileStatus.PENDING)

    accepted = file_service.request_delete(OWNER, record.file_id, "t")

    assert accepted.status == "DELETING"
    assert bus.versions == every_version("DeleteFile")


def test_deleting_a_file_already_deleting_puts_the_same_command_again(
    file_service: FileService, index: InMemoryFileIndex, bus: RecordingPublisher
) -> None:
    record = add_file(index)
    file_service.request_delete(OWNER, record.file_id, "t")

    file_service.request_delete(OWNER, record.file_id, "t")

    assert bus.versions == every_version("DeleteFile") * 2
    first, second = bus.published
    assert first.metadata.event_id == second.metadata.event_id
    stored = index.get(OWNER, record.file_id)
    assert stored is not None
    assert stored.sequence == record.sequence + 1


def test_deleting_a_rejected_upload_removes_its_record_at_once(
    file_service: FileService, index: InMemoryFileIndex, bus: RecordingPublisher
) -> None:
    record = add_file(index, status=FileStatus.REJECTED)

    accepted = file_service.request_delete(OWNER, record.file_id, "t")

    assert accepted.status == "DELETED"
    assert index.get(OWNER, record.file_id) is None
    assert bus.published == []


def test_deleting_another_users_file_is_not_found_and_leaves_it_alone(
    file_service: FileService, index: InMemoryFileIndex, bus: RecordingPublisher
) -> None:
    theirs = add_file(index, owner=OTHER_OWNER)

    with pytest.raises(NoSuchFileError):
        file_service.request_delete(OWNER, theirs.file_id, "t")

    assert index.get(OTHER_OWNER, theirs.file_id) == theirs
    assert bus.published == []


def _same_but_sequence(one: FileRecord, other: FileRecord) -> bool:
    return replace(one, sequence=other.sequence) == other
