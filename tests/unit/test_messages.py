"""Commands and events: strict where we produce them, lenient where we read."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from chalicelib.domain import FileStatus
from chalicelib.errors import UnknownMessageError
from chalicelib.messages import (
    CATALOGUE,
    SOURCE,
    DeleteFile,
    DeleteFileData,
    FileCreated,
    FileDeleted,
    FileDeletedData,
    from_forwarded_event,
    parse_message,
)
from tests.builders import add_file, forwarded_event, pending_record
from tests.fakes import FIXED_NOW, InMemoryFileIndex


def _delete_file(sequence: int = 3, trace_id: str = "trace-1") -> DeleteFile:
    record = pending_record(name="docs/a.txt")
    data = DeleteFileData(owner=record.owner, file_id=record.file_id, name=record.name)
    return DeleteFile.about(record, data, trace_id=trace_id, sequence=sequence)


def _with_unknown_fields(message: DeleteFile) -> dict[str, Any]:
    body = message.model_dump(mode="json")
    body["priority"] = "high"
    body["metadata"]["partition"] = 7
    body["data"]["folder_id"] = "f-1"
    return body


def test_a_message_carries_what_consumers_need_to_route_and_trace_it() -> None:
    message = _delete_file(sequence=3, trace_id="trace-1")

    assert message.metadata.type == "DeleteFile"
    assert message.metadata.version == 1
    assert message.metadata.source == SOURCE
    assert message.metadata.trace_id == "trace-1"
    assert message.metadata.sequence == 3
    assert message.metadata.file_id == message.data.file_id
    assert message.metadata.time.tzinfo is not None


def test_the_same_change_of_the_same_file_always_gets_the_same_event_id() -> None:
    record = pending_record()
    data = DeleteFileData(owner=record.owner, file_id=record.file_id, name=record.name)

    first = DeleteFile.about(record, data, trace_id="a", sequence=4)
    again = DeleteFile.about(record, data, trace_id="b", sequence=4)
    later = DeleteFile.about(record, data, trace_id="a", sequence=5)
    deleted = FileDeleted.about(
        record,
        FileDeletedData(
            owner=record.owner,
            file_id=record.file_id,
            name=record.name,
            deleted_at=FIXED_NOW,
        ),
        trace_id="a",
        sequence=4,
    )

    assert first.metadata.event_id == again.metadata.event_id
    assert later.metadata.event_id != first.metadata.event_id
    assert deleted.metadata.event_id != first.metadata.event_id


def test_another_file_at_the_same_sequence_gets_another_event_id() -> None:
    one, two = pending_record(), pending_record()
    data = DeleteFileData(owner=one.owner, file_id=one.file_id, name=one.name)

    first = DeleteFile.about(one, data, trace_id="a", sequence=1)
    second = DeleteFile.about(two, data, trace_id="a", sequence=1)

    assert first.metadata.event_id != second.metadata.event_id


def test_the_producer_refuses_unknown_fields_at_every_level() -> None:
    body = _with_unknown_fields(_delete_file())

    with pytest.raises(ValidationError) as caught:
        DeleteFile.model_validate(body)

    refused = {tuple(e["loc"]) for e in caught.value.errors()}
    assert refused == {
        ("priority",),
        ("metadata", "partition"),
        ("data", "folder_id"),
    }


def test_the_producer_cannot_build_data_with_a_field_it_does_not_know() -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        DeleteFileData(owner="o", file_id="f", name="n", colour="red")


def test_a_message_cannot_be_changed_once_made() -> None:
    message = _delete_file()

    with pytest.raises(ValidationError, match="frozen"):
        message.metadata.sequence = 9  # type: ignore[misc]


def test_a_consumer_reads_a_message_from_a_newer_producer_with_extra_fields() -> None:
    original = _delete_file()

    parsed = parse_message(DeleteFile, _with_unknown_fields(original))

    assert parsed == original


def test_a_consumer_still_refuses_a_message_missing_a_required_field() -> None:
    body = _delete_file().model_dump(mode="json")
    del body["data"]["owner"]

    with pytest.raises(ValidationError, match=r"data\.owner"):
        parse_message(DeleteFile, body)


def test_a_message_survives_its_json_form_under_its_catalogue_type() -> None:
    original = _delete_file()

    body = json.loads(original.to_json())
    parsed = CATALOGUE[body["metadata"]["type"]].model_validate(body)

    assert parsed == original
    assert set(CATALOGUE) == {
        "DeleteFile",
        "FileCreated",
        "FileDeleted",
        "FileRejected",
    }


def test_a_command_is_read_out_of_the_event_that_eventbridge_forwarded() -> None:
    original = _delete_file()

    command = from_forwarded_event(forwarded_event(original), DeleteFile)

    assert command == original


def test_a_forwarded_event_of_another_type_is_an_unknown_message() -> None:
    index = InMemoryFileIndex()
    record = add_file(index, status=FileStatus.DELETING)
    event = FileDeleted.about(
        record,
        FileDeletedData(
            owner=record.owner,
            file_id=record.file_id,
            name=record.name,
            deleted_at=FIXED_NOW,
        ),
        trace_id="t",
        sequence=9,
    )

    with pytest.raises(UnknownMessageError) as caught:
        from_forwarded_event(forwarded_event(event), DeleteFile)

    assert caught.value.message == "expected DeleteFile, got 'FileDeleted'"


def test_the_event_types_say_what_happened_and_the_command_what_to_do() -> None:
    assert DeleteFile.KIND == "command"
    assert FileCreated.KIND == "event"
    assert FileDeleted.KIND == "event"
