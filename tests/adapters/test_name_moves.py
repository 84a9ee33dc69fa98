"""Name claims moving with a record: renames, the trash and restores.

Every test runs on the DynamoDB adapter over moto and on the in-memory fake
the service tests use, so the fake cannot drift from the real thing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from chalicelib.adapters.dynamodb_index import DynamoDBFileIndex
from chalicelib.domain import FileRecord, FileStatus
from chalicelib.errors import ConcurrentUpdateError, NameConflictError
from chalicelib.ports import FileIndex
from tests.adapters.conftest import QueryLog
from tests.builders import OTHER_OWNER, OWNER, ROOMY_QUOTA, add_file, pending_record
from tests.fakes import FIXED_NOW, InMemoryFileIndex


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


# --- the trash ------------------------------------------------------------------


def _trash(index: FileIndex, record: FileRecord, at: datetime) -> FileRecord:
    trashed = record.evolve(status=FileStatus.TRASHED, status_since=at)
    index.transition(record, trashed)
    return trashed


def test_a_trashed_file_leaves_the_listing_and_its_name_but_keeps_its_usage(
    index: FileIndex,
) -> None:
    record = add_file(index, "docs/a.txt", size=10)
    used = index.usage(OWNER)

    trashed = _trash(index, record, FIXED_NOW)

    assert index.get(OWNER, record.file_id) == trashed
    assert _names(index) == []
    assert _names(index, delimiter="/") == []
    assert index.usage(OWNER) == used
    assert _name_is_free(index, "docs/a.txt")
    page = index.trash_page(OWNER, 10, None)
    assert [r.file_id for r in page.files] == [record.file_id]
    assert page.next_position is None


def test_the_trash_pages_newest_first_and_holds_only_the_owners_trashed_files(
    index: FileIndex,
) -> None:
    ids = []
    for minute in range(3):
        record = add_file(index, f"{minute}.txt")
        _trash(index, record, FIXED_NOW + timedelta(minutes=minute))
        ids.append(record.file_id)
    add_file(index, "kept.txt")
    _trash(index, add_file(index, "x.txt", owner=OTHER_OWNER), FIXED_NOW)

    first = index.trash_page(OWNER, 2, None)
    second = index.trash_page(OWNER, 2, first.next_position)

    assert [r.file_id for r in first.files + second.files] == ids[::-1]
    assert second.next_position is None


def test_a_restore_claims_the_name_again_or_is_told_it_is_taken(
    index: FileIndex,
) -> None:
    record = add_file(index, "docs/a.txt")
    trashed = _trash(index, record, FIXED_NOW)
    taker = add_file(index, "docs/a.txt")

    with pytest.raises(NameConflictError):
        index.transition(trashed, trashed.evolve(status=FileStatus.AVAILABLE))
    restored = trashed.evolve(status=FileStatus.AVAILABLE, name="docs/a (1).txt")
    index.transition(trashed, restored)

    assert _names(index) == ["docs/a (1).txt", "docs/a.txt"]
    assert index.trash_page(OWNER, 10, None).files == []
    assert not _name_is_free(index, "docs/a (1).txt")
    assert index.get(OWNER, taker.file_id) == taker


def test_a_trashed_file_deleted_for_good_never_touches_the_name_it_gave_up(
    index: FileIndex,
) -> None:
    record = add_file(index, "a.txt", size=10)
    trashed = _trash(index, record, FIXED_NOW)
    taker = add_file(index, "a.txt", size=5)
    deleting = trashed.evolve(status=FileStatus.DELETING, name_claimed=False)

    index.transition(trashed, deleting)
    stored = index.get(OWNER, record.file_id)
    index.remove(deleting)

    assert stored == deleting
    assert not _name_is_free(index, "a.txt")
    assert index.usage(OWNER).bytes == 5
    assert index.get(OWNER, taker.file_id) == taker


def test_trashed_files_wait_in_the_attention_index_by_when_they_were_trashed(
    index: FileIndex,
) -> None:
    old = _trash(index, add_file(index, "old.txt"), FIXED_NOW)
    _trash(index, add_file(index, "new.txt"), FIXED_NOW + timedelta(days=2))

    due = index.needing_attention(FileStatus.TRASHED, FIXED_NOW + timedelta(days=1), 10)

    assert [r.file_id for r in due] == [old.file_id]


def test_a_trash_page_reads_no_record_outside_the_trash(
    file_index: DynamoDBFileIndex, query_log: QueryLog
) -> None:
    for minute in range(3):
        _trash(file_index, add_file(file_index, f"{minute}.txt"), FIXED_NOW)
        add_file(file_index, f"kept-{minute}.txt")

    file_index.trash_page(OWNER, 2, None)

    assert query_log.scanned == [3]
