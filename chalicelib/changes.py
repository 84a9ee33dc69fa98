"""The change feed: what happened to each user's files, in order.

A consumer of its own (its own rule on the bus, its own queue) records each
created, renamed, trashed, restored, deleted and rejected file in its
owner's feed; `GET /changes` reads
what came after a cursor, as the change feeds of Dropbox and Google Drive
do. A client that deleted a file learns here that the delete is done.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from chalicelib.api import ChangesQuery, ChangesView, ChangeView, LatestCursor
from chalicelib.batches import MessageAcknowledger, QueueMessage, process_batch
from chalicelib.cursors import CursorCodec
from chalicelib.errors import CursorExpiredError, UnknownMessageError
from chalicelib.messages import (
    SUBSCRIPTIONS,
    FileCreatedV2,
    FileDeletedV2,
    FileRejectedV1,
    FileRenamedV1,
    FileRestoredV1,
    FileTrashedV1,
    Message,
    from_forwarded_event,
)
from chalicelib.ports import Change, ChangeLog
from chalicelib.tracing import traced

logger = logging.getLogger(__name__)

_SCOPE = {"feed": "changes"}


def _created(event: FileCreatedV2) -> Change:
    file = event.data.file
    return Change(
        owner=event.data.owner,
        kind="created",
        file_id=file.file_id,
        name=file.name,
        time=file.uploaded_at or event.metadata.time,
        sequence=event.metadata.sequence,
        event_id=event.metadata.event_id,
    )


def _deleted(event: FileDeletedV2) -> Change:
    return Change(
        owner=event.data.owner,
        kind="deleted",
        file_id=event.data.file.file_id,
        name=event.data.file.name,
        time=event.data.deleted_at,
        sequence=event.metadata.sequence,
        event_id=event.metadata.event_id,
    )


def _rejected(event: FileRejectedV1) -> Change:
    return Change(
        owner=event.data.owner,
        kind="rejected",
        file_id=event.data.file_id,
        name=event.data.name,
        time=event.data.rejected_at,
        sequence=event.metadata.sequence,
        event_id=event.metadata.event_id,
    )


def _renamed(event: FileRenamedV1) -> Change:
    return Change(
        owner=event.data.owner,
        kind="renamed",
        file_id=event.data.file_id,
        name=event.data.name,
        previous_name=event.data.previous_name,
        time=event.data.renamed_at,
        sequence=event.metadata.sequence,
        event_id=event.metadata.event_id,
    )


def _trashed(event: FileTrashedV1) -> Change:
    return Change(
        owner=event.data.owner,
        kind="trashed",
        file_id=event.data.file_id,
        name=event.data.name,
        time=event.data.trashed_at,
        sequence=event.metadata.sequence,
        event_id=event.metadata.event_id,
    )


def _restored(event: FileRestoredV1) -> Change:
    return Change(
        owner=event.data.owner,
        kind="restored",
        file_id=event.data.file_id,
        name=event.data.name,
        previous_name=event.data.previous_name,
        time=event.data.restored_at,
        sequence=event.metadata.sequence,
        event_id=event.metadata.event_id,
    )


def change_of(event: Message) -> Change:
    """The feed entry for one event the feed reads."""
    match event:
        case FileCreatedV2():
            return _created(event)
        case FileDeletedV2():
            return _deleted(event)
        case FileRejectedV1():
            return _rejected(event)
        case FileRenamedV1():
            return _renamed(event)
        case FileTrashedV1():
            return _trashed(event)
        case FileRestoredV1():
            return _restored(event)
    raise UnknownMessageError(f"the change feed does not read {event.metadata.type}")


_READS = SUBSCRIPTIONS["change-feed"].reads


@dataclass
class ChangeRecorder:
    """The change feed's consumer."""

    log: ChangeLog
    acknowledger: MessageAcknowledger

    def consume(self, messages: Sequence[QueueMessage]) -> None:
        process_batch(messages, self._consume_one, self.acknowledger)

    def _consume_one(self, message: QueueMessage) -> None:
        event = from_forwarded_event(message.body, _READS)
        with traced(event.metadata.trace_id):
            change = change_of(event)
            try:
                recorded = self.log.record(change)
            except Exception:
                logger.exception(
                    "change not recorded", extra={"event_id": change.event_id}
                )
                raise
            logger.info(
                "change recorded" if recorded else "change left out",
                extra={
                    "event_id": change.event_id,
                    "file_id": change.file_id,
                    "change": change.kind,
                    "sequence": change.sequence,
                },
            )


def _view(change: Change) -> ChangeView:
    return ChangeView(
        type=change.kind,
        file_id=change.file_id,
        name=change.name,
        previous_name=change.previous_name,
        time=change.time,
        sequence=change.sequence,
    )


@dataclass
class ChangeFeed:
    """What the API reads of the feed."""

    log: ChangeLog
    cursors: CursorCodec

    def changes(self, owner: str, query: ChangesQuery) -> ChangesView:
        after = self._position(owner, query.cursor)
        page = self.log.read(owner, after, query.limit)
        # Positions have no gaps, so a jump means the changes just after the
        # cursor have expired: the client must list again from scratch.
        # Without a cursor, the feed starts at the oldest change it keeps.
        expired = page.changes and page.changes[0].position > after + 1
        if query.cursor is not None and expired:
            raise CursorExpiredError(
                "the changes after this cursor have expired; list the files "
                "again and start from GET /changes/latest"
            )
        return ChangesView(
            changes=[_view(c) for c in page.changes],
            cursor=self._cursor(owner, page.position),
            has_more=page.has_more,
        )

    def latest(self, owner: str) -> LatestCursor:
        return LatestCursor(cursor=self._cursor(owner, self.log.head(owner)))

    def _cursor(self, owner: str, position: int) -> str:
        return self.cursors.encode(owner, _SCOPE, {"after": str(position)})

    def _position(self, owner: str, cursor: str | None) -> int:
        if cursor is None:
            return 0
        return int(self.cursors.decode(owner, _SCOPE, cursor)["after"])
