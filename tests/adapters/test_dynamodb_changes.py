"""The change feed's storage on DynamoDB (moto)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.adapters.dynamodb_changes import RETENTION_SECONDS, DynamoDBChangeLog
from chalicelib.ports import Change
from tests.adapters.conftest import TABLE

OWNER = "owner-1"
NOW = 1_800_000_000


def _change(event_id: str, owner: str = OWNER, sequence: int = 1) -> Change:
    return Change(
        owner=owner,
        kind="created",
        file_id="f" * 32,
        name=f"{event_id}.txt",
        time=datetime(2026, 12, 3, 12, 0, tzinfo=UTC),
        sequence=sequence,
        event_id=event_id,
    )


@pytest.fixture
def log(dynamodb: Any) -> DynamoDBChangeLog:
    return DynamoDBChangeLog(lambda: dynamodb, TABLE, now=lambda: NOW)


def test_changes_take_consecutive_positions_from_one(log: DynamoDBChangeLog) -> None:
    for event_id in ("e1", "e2", "e3"):
        assert log.record(_change(event_id)) is True

    page = log.read(OWNER, after=0, limit=10)

    assert [c.position for c in page.changes] == [1, 2, 3]
    assert [c.event_id for c in page.changes] == ["e1", "e2", "e3"]
    assert page.position == 3
    assert page.has_more is False
    assert log.head(OWNER) == 3


def test_the_same_event_recorded_again_changes_nothing(log: DynamoDBChangeLog) -> None:
    log.record(_change("e1"))

    again = log.record(_change("e1"))

    assert again is False
    assert log.head(OWNER) == 1
    assert len(log.read(OWNER, after=0, limit=10).changes) == 1


def test_a_page_reads_after_its_position_and_says_when_more_follow(
    log: DynamoDBChangeLog,
) -> None:
    for i in range(5):
        log.record(_change(f"e{i}"))

    page = log.read(OWNER, after=1, limit=2)

    assert [c.position for c in page.changes] == [2, 3]
    assert page.position == 3
    assert page.has_more is True


def test_an_empty_read_keeps_the_position_it_was_given(log: DynamoDBChangeLog) -> None:
    log.record(_change("e1"))

    page = log.read(OWNER, after=1, limit=10)

    assert page.changes == []
    assert page.position == 1
    assert page.has_more is False


def test_feeds_of_two_owners_never_mix(log: DynamoDBChangeLog) -> None:
    log.record(_change("a1", owner="alice"))
    log.record(_change("b1", owner="bob"))
    log.record(_change("a2", owner="alice"))

    alice = log.read("alice", after=0, limit=10)

    assert [c.event_id for c in alice.changes] == ["a1", "a2"]
    assert log.head("bob") == 1
    assert log.head("nobody") == 0


def test_changes_and_their_markers_expire_after_the_retention(
    log: DynamoDBChangeLog, dynamodb: Any
) -> None:
    log.record(_change("e1"))

    items = dynamodb.scan(TableName=TABLE)["Items"]

    expiring = [i for i in items if i["sk"]["S"] != "HEAD"]
    assert sorted(i["sk"]["S"].split("#")[0] for i in expiring) == [
        "CHANGE",
        "EVENT",
        "LATEST",
    ]
    assert {int(i["expires_at"]["N"]) for i in expiring} == {NOW + RETENTION_SECONDS}


def test_a_head_that_moved_meanwhile_is_retried(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = DynamoDBChangeLog(lambda: dynamodb, TABLE, now=lambda: NOW)
    other = DynamoDBChangeLog(lambda: dynamodb, TABLE, now=lambda: NOW)
    real_head = log.head
    raced = []

    def head_then_race(owner: str) -> int:
        position = real_head(owner)
        if not raced:
            raced.append(True)
            other.record(_change("racer"))
        return position

    monkeypatch.setattr(log, "head", head_then_race)

    assert log.record(_change("mine")) is True

    page = log.read(OWNER, after=0, limit=10)
    assert [c.event_id for c in page.changes] == ["racer", "mine"]


def _of_file(event_id: str, kind: str, sequence: int) -> Change:
    return replace(_change(event_id, sequence=sequence), kind=kind)  # type: ignore[arg-type]


def test_a_change_older_than_one_recorded_for_its_file_is_left_out(
    log: DynamoDBChangeLog,
) -> None:
    assert log.record(_of_file("deleted", "deleted", sequence=3)) is True

    assert log.record(_of_file("created", "created", sequence=1)) is False

    page = log.read(OWNER, after=0, limit=10)
    assert [(c.kind, c.sequence, c.position) for c in page.changes] == [
        ("deleted", 3, 1)
    ]
    assert log.head(OWNER) == 1


def test_a_files_changes_in_order_are_all_recorded(log: DynamoDBChangeLog) -> None:
    assert log.record(_of_file("created", "created", sequence=1)) is True
    assert log.record(_of_file("deleted", "deleted", sequence=3)) is True

    page = log.read(OWNER, after=0, limit=10)
    assert [c.kind for c in page.changes] == ["created", "deleted"]
