"""The change feed's services over an in-memory log."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from chalicelib.api import ChangesQuery
from chalicelib.changes import ChangeFeed, change_of
from chalicelib.cursors import CursorCodec
from chalicelib.domain import FileRecord, FileStatus
from chalicelib.errors import CursorExpiredError, UnknownMessageError
from chalicelib.messages import CATALOGUE, SUBSCRIPTIONS, messages_about
from chalicelib.ports import Change, ChangesPage

OWNER = "owner-1"
AT = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


class ListChangeLog:
    """A change log in a list, with positions that may start past one."""

    def __init__(self, first_position: int = 1) -> None:
        self.changes: list[Change] = []
        self.next_position = first_position

    def record(self, change: Change) -> bool:
        if any(c.event_id == change.event_id for c in self.changes):
            return False
        self.changes.append(replace(change, position=self.next_position))
        self.next_position += 1
        return True

    def read(self, owner: str, after: int, limit: int) -> ChangesPage:
        later = [c for c in self.changes if c.owner == owner and c.position > after]
        page = later[:limit]
        position = page[-1].position if page else after
        return ChangesPage(page, position, has_more=len(later) > limit)

    def head(self, owner: str) -> int:
        return max((c.position for c in self.changes if c.owner == owner), default=0)


def _record(status: FileStatus = FileStatus.AVAILABLE) -> FileRecord:
    return FileRecord(
        owner=OWNER,
        file_id="a" * 32,
        name="docs/a.txt",
        size=3,
        content_type="text/plain",
        status=status,
        created_at=AT,
        sequence=1,
        uploaded_at=AT,
        etag="etag",
        rejected_reason="size differs",
    )


def _change(event_id: str) -> Change:
    return Change(OWNER, "created", "a" * 32, "a.txt", AT, 1, event_id)


@pytest.fixture
def codec() -> CursorCodec:
    return CursorCodec(b"secret")


def test_every_message_the_feed_reads_becomes_a_change() -> None:
    kinds = {}
    for model in SUBSCRIPTIONS["change-feed"].reads:
        message = model.about(_record(), "trace", 4, AT)
        kinds[model.TYPE] = change_of(message).kind

    assert kinds == {
        "FileCreated": "created",
        "FileDeleted": "deleted",
        "FileRejected": "rejected",
        "FileRenamed": "renamed",
        "FileTrashed": "trashed",
        "FileRestored": "restored",
    }


def test_a_rename_becomes_a_change_with_the_new_name_and_the_old_one() -> None:
    before = _record()
    after = before.evolve(name="archive/a.txt")
    [renamed] = messages_about(
        "FileRenamed", after, "trace", after.sequence, AT, before=before
    )

    change = change_of(renamed)

    assert change.kind == "renamed"
    assert (change.name, change.previous_name) == ("archive/a.txt", "docs/a.txt")
    assert (change.sequence, change.time) == (after.sequence, AT)


def test_a_change_keeps_the_files_sequence_and_the_events_id() -> None:
    [_, created_v2] = messages_about("FileCreated", _record(), "trace", 7, AT)

    change = change_of(created_v2)

    assert change.sequence == 7
    assert change.event_id == created_v2.metadata.event_id
    assert (change.owner, change.name) == (OWNER, "docs/a.txt")


def test_a_message_the_feed_does_not_read_is_refused() -> None:
    command = CATALOGUE[("DeleteFile", 1)].about(_record(), "trace", 2, AT)

    with pytest.raises(UnknownMessageError):
        change_of(command)


def test_a_cursor_whose_next_changes_expired_is_refused_with_410(
    codec: CursorCodec,
) -> None:
    log = ListChangeLog(first_position=1)
    feed = ChangeFeed(log, codec)
    cursor = feed.latest(OWNER).cursor
    log.next_position = 5  # changes 1 to 4 came and expired meanwhile
    log.record(_change("late"))

    with pytest.raises(CursorExpiredError) as caught:
        feed.changes(OWNER, ChangesQuery(cursor=cursor))

    assert caught.value.status == 410


def test_no_cursor_reads_from_the_oldest_change_kept(codec: CursorCodec) -> None:
    log = ListChangeLog(first_position=40)
    feed = ChangeFeed(log, codec)
    log.record(_change("e1"))

    view = feed.changes(OWNER, ChangesQuery())

    assert [c.name for c in view.changes] == ["a.txt"]
