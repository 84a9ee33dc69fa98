"""Usage, quotas and idempotency keys, as the index keeps them.

Every test runs on the DynamoDB adapter over moto and on the in-memory fake
the service tests use, so the fake cannot drift from the real thing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.adapters.dynamodb_index import DynamoDBFileIndex
from chalicelib.domain import FileRecord, FileStatus, Quota, Usage
from chalicelib.errors import (
    DependencyUnavailableError,
    IdempotencyKeyTaken,
    NameConflictError,
    QuotaExceededError,
)
from chalicelib.ports import FileIndex, IdempotencyClaim
from tests.builders import OTHER_OWNER, OWNER, pending_record
from tests.fakes import FIXED_NOW, InMemoryFileIndex

QUOTA = Quota(max_files=3, max_bytes=100)


@pytest.fixture(params=["dynamodb", "memory"])
def index(request: pytest.FixtureRequest) -> FileIndex:
    if request.param == "memory":
        return InMemoryFileIndex()
    adapter: DynamoDBFileIndex = request.getfixturevalue("file_index")
    return adapter


def _claim(key: str = "key-1", fingerprint: str = "f-1") -> IdempotencyClaim:
    return IdempotencyClaim(
        key=key, fingerprint=fingerprint, expires_at=FIXED_NOW + timedelta(hours=24)
    )


def _available(index: FileIndex, record: FileRecord) -> FileRecord:
    available = record.evolve(status=FileStatus.AVAILABLE, etag="e")
    index.transition(record, available)
    return available


# --- usage ---------------------------------------------------------------------


def test_a_user_with_no_files_uses_nothing(index: FileIndex) -> None:
    assert index.usage(OWNER) == Usage(files=0, bytes=0)


def test_usage_counts_files_from_their_create_and_per_owner(index: FileIndex) -> None:
    index.create(pending_record(name="a.txt", size=10), QUOTA)
    index.create(pending_record(name="b.txt", size=15), QUOTA)
    index.create(pending_record(name="c.txt", size=7, owner=OTHER_OWNER), QUOTA)

    assert index.usage(OWNER) == Usage(files=2, bytes=25)
    assert index.usage(OTHER_OWNER) == Usage(files=1, bytes=7)


def test_an_upload_completing_or_a_delete_starting_leaves_usage_alone(
    index: FileIndex,
) -> None:
    record = pending_record(size=10)
    index.create(record, QUOTA)
    available = _available(index, record)
    index.transition(available, available.evolve(status=FileStatus.DELETING))

    assert index.usage(OWNER) == Usage(files=1, bytes=10)


def test_a_rejection_frees_the_files_usage(index: FileIndex) -> None:
    record = pending_record(size=10)
    index.create(record, QUOTA)

    index.transition(
        record, record.evolve(status=FileStatus.REJECTED, rejected_reason="size")
    )

    assert index.usage(OWNER) == Usage()


def test_removing_a_record_frees_its_usage_and_a_rejected_one_frees_nothing_twice(
    index: FileIndex,
) -> None:
    kept = pending_record(name="kept.txt", size=5)
    index.create(kept, QUOTA)
    gone = pending_record(name="gone.txt", size=10)
    index.create(gone, QUOTA)
    rejected = pending_record(name="rejected.txt", size=20)
    index.create(rejected, QUOTA)
    rejected_now = rejected.evolve(status=FileStatus.REJECTED)
    index.transition(rejected, rejected_now)

    index.remove(gone)
    index.remove(rejected_now)

    assert index.usage(OWNER) == Usage(files=1, bytes=5)


# --- quotas --------------------------------------------------------------------


def test_a_create_past_the_file_count_is_refused_and_changes_nothing(
    index: FileIndex,
) -> None:
    first = pending_record(name="a", size=1)
    index.create(first, QUOTA)
    for name in ("b", "c"):
        index.create(pending_record(name=name, size=1), QUOTA)
    fourth = pending_record(name="d", size=1)

    with pytest.raises(QuotaExceededError) as refused:
        index.create(fourth, QUOTA)

    assert refused.value.details == {
        "files": {"used": 3, "limit": 3},
        "bytes": {"used": 3, "limit": 100},
        "requested_bytes": 1,
    }
    assert index.get(OWNER, fourth.file_id) is None
    assert index.usage(OWNER) == Usage(files=3, bytes=3)
    # Its name was not claimed: once a file goes, it can be created.
    index.remove(first)
    index.create(fourth, QUOTA)
    assert index.get(OWNER, fourth.file_id) == fourth


def test_a_create_past_the_byte_count_is_refused_but_one_that_fits_exactly_is_not(
    index: FileIndex,
) -> None:
    index.create(pending_record(name="a", size=60), QUOTA)

    with pytest.raises(QuotaExceededError):
        index.create(pending_record(name="b", size=41), QUOTA)
    index.create(pending_record(name="c", size=40), QUOTA)

    assert index.usage(OWNER) == Usage(files=2, bytes=100)


def test_a_file_larger_than_the_whole_quota_is_refused_on_a_fresh_user(
    index: FileIndex,
) -> None:
    with pytest.raises(QuotaExceededError):
        index.create(pending_record(size=101), QUOTA)

    assert index.usage(OWNER) == Usage()


def test_one_users_quota_is_not_another_users(index: FileIndex) -> None:
    for name in ("a", "b", "c"):
        index.create(pending_record(name=name, size=1), QUOTA)

    index.create(pending_record(name="a", size=1, owner=OTHER_OWNER), QUOTA)

    assert index.usage(OTHER_OWNER) == Usage(files=1, bytes=1)


def test_a_name_conflict_is_told_as_such_even_at_the_quota(index: FileIndex) -> None:
    for name in ("a", "b", "c"):
        index.create(pending_record(name=name, size=1), QUOTA)

    with pytest.raises(NameConflictError):
        index.create(pending_record(name="a", size=1), QUOTA)


# --- idempotency keys ------------------------------------------------------------


def test_a_key_used_again_names_the_file_of_its_first_create(index: FileIndex) -> None:
    first = pending_record(name="a.txt")
    index.create(first, QUOTA, _claim())
    again = pending_record(name="a.txt")

    with pytest.raises(IdempotencyKeyTaken) as taken:
        index.create(again, QUOTA, _claim())

    assert (taken.value.file_id, taken.value.fingerprint) == (first.file_id, "f-1")
    assert index.get(OWNER, again.file_id) is None
    assert index.usage(OWNER) == Usage(files=1, bytes=first.size)


def test_a_key_is_the_callers_own(index: FileIndex) -> None:
    index.create(pending_record(name="a.txt"), QUOTA, _claim())
    theirs = pending_record(name="a.txt", owner=OTHER_OWNER)

    index.create(theirs, QUOTA, _claim())

    assert index.get(OTHER_OWNER, theirs.file_id) == theirs


def test_an_expired_key_binds_nothing(index: FileIndex) -> None:
    index.create(pending_record(name="a.txt"), QUOTA, _claim())
    expired = IdempotencyClaim(
        key="key-2", fingerprint="f-2", expires_at=FIXED_NOW - timedelta(seconds=1)
    )
    index.create(pending_record(name="b.txt"), QUOTA, expired)
    later = pending_record(name="c.txt")

    index.create(later, QUOTA, _claim(key="key-2", fingerprint="f-3"))

    assert index.get(OWNER, later.file_id) == later


def test_a_refused_create_claims_no_key(index: FileIndex) -> None:
    index.create(pending_record(name="a.txt"), QUOTA)
    clash = pending_record(name="a.txt")

    with pytest.raises(NameConflictError):
        index.create(clash, QUOTA, _claim())
    fresh = pending_record(name="b.txt")
    index.create(fresh, QUOTA, _claim())

    assert index.get(OWNER, fresh.file_id) == fresh


# --- races on one user's counters ---------------------------------------------


def test_a_transaction_conflict_is_tried_again(
    file_index: DynamoDBFileIndex, dynamodb: Any
) -> None:
    conflicts = _ConflictsFirst(times=2)
    dynamodb.meta.events.register("before-call.dynamodb.TransactWriteItems", conflicts)

    file_index.create(pending_record(name="a.txt", size=4), QUOTA)

    assert conflicts.raised == 2
    assert file_index.usage(OWNER) == Usage(files=1, bytes=4)


def test_conflicts_that_do_not_clear_surface_as_unavailable(
    file_index: DynamoDBFileIndex, dynamodb: Any
) -> None:
    conflicts = _ConflictsFirst(times=100)
    dynamodb.meta.events.register("before-call.dynamodb.TransactWriteItems", conflicts)
    record = pending_record(name="a.txt", size=4)

    with pytest.raises(DependencyUnavailableError):
        file_index.create(record, QUOTA)

    assert conflicts.raised == 4
    assert file_index.get(OWNER, record.file_id) is None


class _ConflictsFirst:
    """Answers the first `times` transactions as DynamoDB does a lost race."""

    def __init__(self, times: int) -> None:
        self.times = times
        self.raised = 0

    def __call__(self, **_: Any) -> Any:
        if self.raised >= self.times:
            return None
        self.raised += 1
        reasons = [{"Code": "None"}, {"Code": "None"}]
        error = {
            "Error": {
                "Code": "TransactionCanceledException",
                "Message": "Transaction cancelled [TransactionConflict]",
            },
            "CancellationReasons": [*reasons, {"Code": "TransactionConflict"}],
        }
        # A (http response, parsed body) pair short-circuits the call.
        return (_Response(400), error)


class _Response:
    def __init__(self, status: int) -> None:
        self.status_code = status
        self.headers: dict[str, str] = {}
