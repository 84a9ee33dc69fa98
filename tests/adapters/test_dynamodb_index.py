"""The DynamoDB file index against moto: claims, transitions, listings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import pytest

from chalicelib.adapters.dynamodb_index import (
    DynamoDBFileIndex,
    _name_sk,
    _record_values,
)

# Private helpers, used only to seed hundreds of items quickly: moto copies
# every table in each transaction, so 250 transactional creates take ~10 s.
# They are what the adapter itself writes for a record.
from chalicelib.adapters.dynamodb_items import to_item
from chalicelib.domain import FileRecord, FileStatus
from chalicelib.errors import ConcurrentUpdateError, NameConflictError
from chalicelib.ports import ListingPage
from tests.adapters.conftest import TABLE, QueryLog
from tests.builders import (
    ETAG,
    OTHER_OWNER,
    OWNER,
    ROOMY_QUOTA,
    add_file,
    pending_record,
)
from tests.fakes import FIXED_NOW


def _seed(dynamodb: Any, records: Iterable[FileRecord]) -> None:
    """Write records and their name claims as the adapter would, in bulk."""
    items = []
    for record in records:
        items.append(to_item(_record_values(record)))
        if record.holds_name:
            claim = {
                "pk": f"USER#{record.owner}",
                "sk": _name_sk(record.name),
                "file_id": record.file_id,
                "name": record.name,
            }
            items.append(to_item(claim))
    for start in range(0, len(items), 25):
        chunk = items[start : start + 25]
        dynamodb.batch_write_item(
            RequestItems={TABLE: [{"PutRequest": {"Item": i}} for i in chunk]}
        )


def _seeded(name: str, status: FileStatus) -> FileRecord:
    record = pending_record(name=name)
    if status is FileStatus.PENDING:
        return record
    return record.evolve(status=status, etag=ETAG, uploaded_at=FIXED_NOW)


def _every_page(
    index: DynamoDBFileIndex,
    limit: int,
    prefix: str = "",
    delimiter: str | None = None,
) -> list[ListingPage]:
    pages = []
    start = None
    while True:
        page = index.list_page(OWNER, prefix, delimiter, limit, start)
        pages.append(page)
        start = page.next_position
        if start is None:
            return pages


def _items(dynamodb: Any, sort_key_prefix: str) -> dict[str, dict[str, Any]]:
    answer = dynamodb.scan(TableName=TABLE)
    return {
        item["sk"]["S"]: item
        for item in answer["Items"]
        if item["sk"]["S"].startswith(sort_key_prefix)
    }


def _folder_counts(dynamodb: Any) -> dict[str, int]:
    return {
        item["name"]["S"]: int(item["file_count"]["N"])
        for item in _items(dynamodb, "FOLDER#").values()
    }


# --- records and name claims ------------------------------------------------


def test_a_created_record_reads_back_exactly_as_it_was_stored(
    file_index: DynamoDBFileIndex,
) -> None:
    record = replace(
        pending_record(name="docs/é.txt", sha256="ab" * 32),
        outbox=('{"metadata": {}}',),
    )

    file_index.create(record, ROOMY_QUOTA)

    assert file_index.get(OWNER, record.file_id) == record


def test_a_record_of_every_field_survives_a_transition(
    file_index: DynamoDBFileIndex,
) -> None:
    record = pending_record()
    file_index.create(record, ROOMY_QUOTA)
    available = record.evolve(
        status=FileStatus.AVAILABLE,
        etag=ETAG,
        uploaded_at=FIXED_NOW,
        sha256="cd" * 32,
        sha256_verified=True,
    )

    file_index.transition(record, available)

    assert file_index.get(OWNER, record.file_id) == available


def test_a_missing_record_reads_as_none(file_index: DynamoDBFileIndex) -> None:
    assert file_index.get(OWNER, "0" * 32) is None


def test_creating_a_second_live_file_of_the_same_name_is_a_conflict(
    file_index: DynamoDBFileIndex,
) -> None:
    file_index.create(pending_record(name="a.txt"), ROOMY_QUOTA)
    second = pending_record(name="a.txt")

    with pytest.raises(NameConflictError) as caught:
        file_index.create(second, ROOMY_QUOTA)

    assert caught.value.message == "a file named 'a.txt' already exists"
    assert caught.value.details == {"name": "a.txt"}
    assert file_index.get(OWNER, second.file_id) is None


def test_another_owner_may_use_the_same_name(file_index: DynamoDBFileIndex) -> None:
    file_index.create(pending_record(name="a.txt"), ROOMY_QUOTA)
    theirs = pending_record(name="a.txt", owner=OTHER_OWNER)

    file_index.create(theirs, ROOMY_QUOTA)

    assert file_index.get(OTHER_OWNER, theirs.file_id) == theirs


@pytest.mark.parametrize(
    "stale",
    [
        lambda r: replace(r, sequence=r.sequence + 1),
        lambda r: replace(r, status=FileStatus.AVAILABLE),
    ],
    ids=["other-sequence", "other-status"],
)
def test_a_transition_from_a_state_the_record_is_no_longer_in_is_refused(
    file_index: DynamoDBFileIndex, stale: Any
) -> None:
    record = pending_record()
    file_index.create(record, ROOMY_QUOTA)
    before = stale(record)

    with pytest.raises(ConcurrentUpdateError):
        file_index.transition(before, before.evolve(status=FileStatus.REJECTED))

    assert file_index.get(OWNER, record.file_id) == record


def test_two_transitions_from_the_same_state_let_only_the_first_through(
    file_index: DynamoDBFileIndex,
) -> None:
    record = pending_record()
    file_index.create(record, ROOMY_QUOTA)
    file_index.transition(record, record.evolve(status=FileStatus.AVAILABLE))

    with pytest.raises(ConcurrentUpdateError):
        file_index.transition(record, record.evolve(status=FileStatus.REJECTED))

    stored = file_index.get(OWNER, record.file_id)
    assert stored is not None
    assert stored.status is FileStatus.AVAILABLE


def test_a_rejected_record_frees_its_name(
    file_index: DynamoDBFileIndex, dynamodb: Any
) -> None:
    record = add_file(file_index, name="a.txt", status=FileStatus.REJECTED)

    again = pending_record(name="a.txt")
    file_index.create(again, ROOMY_QUOTA)

    claims = {c["name"]["S"]: c for c in _items(dynamodb, "NAME#").values()}
    assert claims["a.txt"]["file_id"]["S"] == again.file_id
    assert file_index.get(OWNER, record.file_id) == record


def test_clearing_the_outbox_forgets_the_events_of_that_change_only(
    file_index: DynamoDBFileIndex,
) -> None:
    record = pending_record()
    file_index.create(record, ROOMY_QUOTA)
    first = replace(record.evolve(status=FileStatus.AVAILABLE), outbox=("one",))
    file_index.transition(record, first)
    second = replace(first.evolve(status=FileStatus.DELETING), outbox=("two",))
    file_index.transition(first, second)

    file_index.clear_outbox(first)
    kept = file_index.get(OWNER, record.file_id)
    file_index.clear_outbox(second)
    cleared = file_index.get(OWNER, record.file_id)

    assert kept is not None
    assert kept.outbox == ("two",)
    assert cleared == replace(second, outbox=())


def test_clearing_the_outbox_of_a_removed_record_is_no_error(
    file_index: DynamoDBFileIndex,
) -> None:
    record = add_file(file_index, status=FileStatus.DELETING)
    file_index.remove(record)

    file_index.clear_outbox(record)

    assert file_index.get(OWNER, record.file_id) is None


def test_removing_a_record_frees_its_name_and_a_second_remove_is_refused(
    file_index: DynamoDBFileIndex, dynamodb: Any
) -> None:
    record = add_file(file_index, name="a.txt", status=FileStatus.DELETING)

    file_index.remove(record)

    assert file_index.get(OWNER, record.file_id) is None
    assert _items(dynamodb, "NAME#") == {}
    with pytest.raises(ConcurrentUpdateError):
        file_index.remove(record)


def test_a_stale_remove_leaves_the_record_alone(
    file_index: DynamoDBFileIndex,
) -> None:
    record = add_file(file_index, status=FileStatus.AVAILABLE)
    newer = record.evolve(status=FileStatus.DELETING)
    file_index.transition(record, newer)

    with pytest.raises(ConcurrentUpdateError):
        file_index.remove(record)

    assert file_index.get(OWNER, record.file_id) == newer


# --- folders ---------------------------------------------------------------


def test_folders_count_the_available_files_below_them(
    file_index: DynamoDBFileIndex, dynamodb: Any
) -> None:
    add_file(file_index, name="docs/2026/a.txt")
    add_file(file_index, name="docs/2026/b.txt")
    add_file(file_index, name="docs/c.txt")
    add_file(file_index, name="docs/pending.txt", status=FileStatus.PENDING)

    assert _folder_counts(dynamodb) == {"docs/": 3, "docs/2026/": 2}


def test_a_folder_entry_goes_when_its_last_file_leaves(
    file_index: DynamoDBFileIndex, dynamodb: Any
) -> None:
    first = add_file(file_index, name="docs/2026/a.txt")
    second = add_file(file_index, name="docs/2026/b.txt")
    keep = add_file(file_index, name="docs/keep.txt")

    deleting = first.evolve(status=FileStatus.DELETING)
    file_index.transition(first, deleting)
    file_index.remove(deleting)
    after_one = _folder_counts(dynamodb)
    file_index.remove(second)
    after_two = _folder_counts(dynamodb)

    assert after_one == {"docs/": 2, "docs/2026/": 1}
    assert after_two == {"docs/": 1}
    assert keep.name in [
        r.name for r in file_index.list_page(OWNER, "", None, 10, None).files
    ]


def test_a_folder_emptied_and_filled_again_is_listed_again(
    file_index: DynamoDBFileIndex,
) -> None:
    record = add_file(file_index, name="docs/a.txt")
    file_index.transition(record, record.evolve(status=FileStatus.DELETING))

    add_file(file_index, name="docs/b.txt")

    page = file_index.list_page(OWNER, "", "/", 10, None)
    assert page.folders == ["docs/"]


def test_an_undone_delete_mark_puts_the_file_back_in_its_folder(
    file_index: DynamoDBFileIndex, dynamodb: Any
) -> None:
    record = add_file(file_index, name="docs/a.txt")
    marked = record.evolve(status=FileStatus.DELETING)
    file_index.transition(record, marked)

    file_index.transition(marked, replace(record, sequence=marked.sequence + 1))

    assert _folder_counts(dynamodb) == {"docs/": 1}
    assert [f.name for f in file_index.list_page(OWNER, "", None, 5, None).files] == [
        "docs/a.txt"
    ]


# --- listing ----------------------------------------------------------------


def test_a_listing_holds_only_available_files_sorted_by_name(
    file_index: DynamoDBFileIndex,
) -> None:
    for name in ("b.txt", "a.txt", "É.txt", "Z.txt"):
        add_file(file_index, name=name)
    add_file(file_index, name="a-pending", status=FileStatus.PENDING)
    add_file(file_index, name="a-deleting", status=FileStatus.DELETING)
    add_file(file_index, name="a-rejected", status=FileStatus.REJECTED)
    add_file(file_index, name="a-theirs", owner=OTHER_OWNER)

    page = file_index.list_page(OWNER, "", None, 10, None)

    assert [r.name for r in page.files] == ["Z.txt", "a.txt", "b.txt", "É.txt"]
    assert page.folders == []
    assert page.next_position is None


def test_a_prefix_without_delimiter_lists_every_file_below_it(
    file_index: DynamoDBFileIndex,
) -> None:
    for name in ("docs/a.txt", "docs/2026/b.txt", "docsy.txt", "pics/c.png"):
        add_file(file_index, name=name)

    page = file_index.list_page(OWNER, "docs/", None, 10, None)

    assert [r.name for r in page.files] == ["docs/2026/b.txt", "docs/a.txt"]


def test_a_delimiter_lists_a_folders_files_and_immediate_subfolders_only(
    file_index: DynamoDBFileIndex,
) -> None:
    for name in (
        "top.txt",
        "docs/a.txt",
        "docs/2026/b.txt",
        "docs/2026/q1/c.txt",
        "docsy.txt",
    ):
        add_file(file_index, name=name)

    top = file_index.list_page(OWNER, "", "/", 10, None)
    docs = file_index.list_page(OWNER, "docs/", "/", 10, None)
    partial = file_index.list_page(OWNER, "docs/20", "/", 10, None)
    starts_with_docs = file_index.list_page(OWNER, "docs", "/", 10, None)

    assert (top.folders, [r.name for r in top.files]) == (
        ["docs/"],
        ["docsy.txt", "top.txt"],
    )
    assert (docs.folders, [r.name for r in docs.files]) == (
        ["docs/2026/"],
        ["docs/a.txt"],
    )
    assert (partial.folders, partial.files) == (["docs/2026/"], [])
    assert (starts_with_docs.folders, [r.name for r in starts_with_docs.files]) == (
        ["docs/"],
        ["docsy.txt"],
    )


def test_folder_pages_continue_where_the_last_one_stopped(
    file_index: DynamoDBFileIndex,
) -> None:
    for name in ("a/x.txt", "b.txt", "c/y.txt", "d.txt", "e/z.txt"):
        add_file(file_index, name=name)

    pages = _every_page(file_index, limit=2, delimiter="/")

    assert [(p.folders, [r.name for r in p.files]) for p in pages] == [
        (["a/"], ["b.txt"]),
        (["c/"], ["d.txt"]),
        (["e/"], []),
    ]


def test_250_files_in_pages_of_100_come_as_100_100_and_50_each_file_once(
    file_index: DynamoDBFileIndex, dynamodb: Any, query_log: QueryLog
) -> None:
    names = [f"file-{n:03d}.txt" for n in range(250)]
    _seed(dynamodb, (_seeded(name, FileStatus.AVAILABLE) for name in names))

    pages = _every_page(file_index, limit=100)

    assert [len(p.files) for p in pages] == [100, 100, 50]
    assert [r.name for p in pages for r in p.files] == names
    assert pages[-1].next_position is None
    assert query_log.limits == [101, 101, 101]
    assert max(query_log.scanned) <= 101


def test_hidden_records_between_available_ones_neither_shorten_nor_pad_a_page(
    file_index: DynamoDBFileIndex, dynamodb: Any, query_log: QueryLog
) -> None:
    hidden = [FileStatus.PENDING, FileStatus.REJECTED, FileStatus.DELETING]
    records = []
    for n in range(60):
        records.append(_seeded(f"f{n:03d}-ok", FileStatus.AVAILABLE))
        records += [_seeded(f"f{n:03d}-{status.lower()}", status) for status in hidden]
    _seed(dynamodb, records)

    pages = _every_page(file_index, limit=25)

    assert [len(p.files) for p in pages] == [25, 25, 10]
    assert [r.name for p in pages for r in p.files] == [
        f"f{n:03d}-ok" for n in range(60)
    ]
    assert all(p.next_position for p in pages[:-1])
    assert max(query_log.scanned) <= 26


def test_a_listing_that_fills_its_last_page_exactly_ends_without_a_position(
    file_index: DynamoDBFileIndex, dynamodb: Any
) -> None:
    _seed(dynamodb, (_seeded(f"f{n}", FileStatus.AVAILABLE) for n in range(6)))

    pages = _every_page(file_index, limit=3)

    assert [len(p.files) for p in pages] == [3, 3]
