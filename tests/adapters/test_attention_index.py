"""The sparse index of records in a passing status, against moto."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalicelib.adapters.dynamodb_index import DynamoDBFileIndex
from chalicelib.domain import FileStatus
from tests.adapters.conftest import TABLE
from tests.builders import OWNER, ROOMY_QUOTA, add_file, pending_record
from tests.fakes import FIXED_NOW

LATER = FIXED_NOW + timedelta(hours=1)


def _attention_items(dynamodb: Any) -> list[dict[str, Any]]:
    answer = dynamodb.scan(TableName=TABLE, IndexName="needs_attention")
    items: list[dict[str, Any]] = answer["Items"]
    return items


def test_only_pending_and_deleting_records_are_in_the_index(
    file_index: DynamoDBFileIndex, dynamodb: Any
) -> None:
    pending = add_file(file_index, name="p.txt", status=FileStatus.PENDING)
    deleting = add_file(file_index, name="d.txt", status=FileStatus.DELETING)
    add_file(file_index, name="a.txt")
    add_file(file_index, name="r.txt", status=FileStatus.REJECTED)

    ids = {item["file_id"]["S"] for item in _attention_items(dynamodb)}

    assert ids == {pending.file_id, deleting.file_id}


def test_a_record_leaves_the_index_in_the_write_that_settles_it(
    file_index: DynamoDBFileIndex, dynamodb: Any
) -> None:
    record = add_file(file_index, status=FileStatus.PENDING)

    file_index.transition(record, record.evolve(status=FileStatus.AVAILABLE))

    assert _attention_items(dynamodb) == []


def test_records_are_read_by_status_oldest_first_and_only_when_old_enough(
    file_index: DynamoDBFileIndex,
) -> None:
    ages = [timedelta(minutes=m) for m in (30, 10, 50, 1)]
    created = []
    for number, age in enumerate(ages):
        record = pending_record(name=f"f{number}.txt", created_at=LATER - age)
        file_index.create(record, ROOMY_QUOTA)
        created.append(record)
    add_file(file_index, name="gone.txt", status=FileStatus.DELETING)

    found = file_index.needing_attention(
        FileStatus.PENDING, LATER - timedelta(minutes=5), limit=10
    )

    assert [r.file_id for r in found] == [
        created[2].file_id,
        created[0].file_id,
        created[1].file_id,
    ]
    assert found[0] == created[2]


def test_a_read_pages_through_the_index_up_to_its_limit(
    file_index: DynamoDBFileIndex,
) -> None:
    for number in range(12):
        add_file(file_index, name=f"f{number:02}.txt", status=FileStatus.PENDING)

    found = file_index.needing_attention(FileStatus.PENDING, LATER, limit=7)
    every = file_index.needing_attention(FileStatus.PENDING, LATER, limit=100)

    assert len(found) == 7
    assert len(every) == 12


def test_a_deleting_record_is_aged_from_its_mark_not_its_creation(
    file_index: DynamoDBFileIndex,
) -> None:
    available = add_file(file_index)
    marked_at = LATER - timedelta(minutes=2)
    deleting = available.evolve(status=FileStatus.DELETING, status_since=marked_at)
    file_index.transition(available, deleting)

    too_young = file_index.needing_attention(
        FileStatus.DELETING, LATER - timedelta(minutes=5), limit=10
    )
    old_enough = file_index.needing_attention(FileStatus.DELETING, LATER, limit=10)

    assert too_young == []
    assert old_enough == [deleting]
    stored = file_index.get(OWNER, deleting.file_id)
    assert stored == deleting
