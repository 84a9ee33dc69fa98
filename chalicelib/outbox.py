"""Publishing what a state change committed to its record's outbox.

A change and its events are written together, then the events go to the bus,
then the outbox is cleared. A crash anywhere in between leaves the events in
the outbox, and the next delivery of the same message publishes them again
under the same event ids, so consumers can drop the copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from chalicelib.domain import FileRecord
from chalicelib.messages import Message, decode_outbox
from chalicelib.ports import EventPublisher, FileIndex


def with_outbox(record: FileRecord, *messages: Message) -> FileRecord:
    return replace(record, outbox=tuple(m.to_json() for m in messages))


def transition_with_events(
    index: FileIndex,
    bus: EventPublisher,
    before: FileRecord,
    after: FileRecord,
    messages: Sequence[Message],
) -> FileRecord:
    """Commit `after` with `messages` in its outbox, then publish them.

    Events an earlier change left in `before`'s outbox go out first: the new
    outbox replaces the old one, and they must not be lost with it.
    """
    flush_outbox(before, index, bus)
    committed = with_outbox(after, *messages)
    index.transition(before, committed)
    flush_outbox(committed, index, bus)
    return committed


def flush_outbox(record: FileRecord, index: FileIndex, bus: EventPublisher) -> None:
    if not record.outbox:
        return
    bus.publish([decode_outbox(raw) for raw in record.outbox])
    index.clear_outbox(record)
