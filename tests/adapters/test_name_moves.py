"""Name claims moving with a record: renames (and, later, trash and restore).

Every test runs on the DynamoDB adapter over moto and on the in-memory fake
the service tests use, so the fake cannot drift from the real thing.
"""

from __future__ import annotations

import pytest

from chalicelib.adapters.dynamodb_index import DynamoDBFileIndex
from chalicelib.domain import FileRecord, FileStatus
from chalicelib.errors import ConcurrentUpdateError, NameConflictError
from chalicelib.ports import FileIndex
from tests.builders import OWNER, ROOMY_QUOTA, add_file, pending_record
from tests.fakes import InMemoryFileIndex


@pytest.fixture(params=["dynamodb", "memory"])
def index(request: pytest.FixtureRequest) -> FileIndex:
    if request.param == "memory":
        return InMemoryFileIndex()
    adapter: DynamoDBFileIndex = request.getfixturevalue("file_index")
    return adapter


def _names(
    index: FileIndex, prefix: str = "", delimiter: str | None = None
) -> list[str]:
    page = index.list_page(OWNER, prefix, delimiter, 100, None)
    return page.folders + [record.name for record in page.files]


def _name_is_free(index: FileIndex, name: str) -> bool:
    try:
        index.create(pending_record(name=name), ROOMY_QUOTA)
    except NameConflictError:
        return False
    return True


def test_a_rename_moves_the_claim_listing_and_folder_counts_in_one_write(
    index: FileIndex,
) -> None:
    record = add_file(index, "inbox/a.txt")
    add_file(index, "inbox/b.txt")
    renamed = record.evolve(name="archive/2026/a.txt")

    index.transition(record, renamed)

    assert index.get(OWNER, record.file_id) == renamed
    assert _names(index) == ["archive/2026/a.txt", "inbox/b.txt"]
    assert _names(index, delimiter="/") == ["archive/", "inbox/"]
    assert _names(index, "archive/", "/") == ["archive/2026/"]
    assert _names(index, "archive/2026/", "/") == ["archive/2026/a.txt"]
    assert _name_is_free(index, "inbox/a.txt")
    assert not _name_is_free(index, "archive/2026/a.txt")


def test_moving_the_last_file_out_of_a_folder_drops_the_folder(
    index: FileIndex,
) -> None:
    record = add_file(index, "old/a.txt")

    index.transition(record, record.evolve(name="new/a.txt"))

    assert _names(index, delimiter="/") == ["new/"]


def test_a_rename_onto_a_held_name_is_a_name_conflict_and_writes_nothing(
    index: FileIndex,
) -> None:
    record = add_file(index, "a.txt")
    add_file(index, "b.txt")

    with pytest.raises(NameConflictError) as caught:
        index.transition(record, record.evolve(name="b.txt"))

    assert caught.value.details == {"name": "b.txt"}
    assert index.get(OWNER, record.file_id) == record
    assert _names(index) == ["a.txt", "b.txt"]
    assert not _name_is_free(index, "a.txt")


def test_a_rename_of_a_record_changed_meanwhile_is_a_concurrent_update(
    index: FileIndex,
) -> None:
    record = add_file(index, "a.txt")
    add_file(index, "b.txt")
    index.transition(record, record.evolve(name="c.txt"))

    # Stale, and onto a held name: the stale record is what the caller learns.
    with pytest.raises(ConcurrentUpdateError):
        index.transition(record, record.evolve(name="b.txt"))


def test_renaming_a_pending_file_moves_its_claim_and_lists_nothing(
    index: FileIndex,
) -> None:
    record: FileRecord = add_file(index, "a.txt", status=FileStatus.PENDING)

    index.transition(record, record.evolve(name="b.txt"))

    assert _names(index) == []
    assert _name_is_free(index, "a.txt")
    assert not _name_is_free(index, "b.txt")
