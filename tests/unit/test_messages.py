"""Commands and events: strict where we produce them, lenient where we read."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from chalicelib.errors import UnknownMessageError
from chalicelib.messages import (
    CATALOGUE,
    PRODUCERS,
    PUBLISHED_VERSIONS,
    SOURCE,
    SUBSCRIPTIONS,
    DeleteFileData,
    DeleteFileV1,
    FileCreatedV1,
    FileCreatedV2,
    FileDeletedV1,
    FileRejectedV1,
    Message,
    decode_outbox,
    from_forwarded_event,
    messages_about,
    parse_message,
)
from tests.builders import forwarded_event, message_of, pending_record, record_for
from tests.fakes import FIXED_NOW

UNKNOWN = "added_by_a_newer_producer"
MODELS = sorted(CATALOGUE.values(), key=lambda m: (m.TYPE, m.VERSION))
MODEL_IDS = [f"{m.TYPE}-v{m.VERSION}" for m in MODELS]


def _object_paths(value: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """The path of every JSON object in `value`, the outermost first."""
    if not isinstance(value, dict):
        return []
    paths = [path]
    for key, child in value.items():
        paths += _object_paths(child, (*path, key))
    return paths


def _with_unknown_fields(body: dict[str, Any]) -> set[tuple[str, ...]]:
    """Add a field nobody knows to every object in `body`; where they went."""
    added = set()
    for path in _object_paths(body):
        target = body
        for key in path:
            target = target[key]
        target[UNKNOWN] = {"nested": True}
        added.add((*path, UNKNOWN))
    return added


# --- the envelope --------------------------------------------------------------


def test_a_message_carries_what_consumers_need_to_route_and_trace_it() -> None:
    message = message_of(DeleteFileV1, sequence=3, trace_id="trace-1")

    assert message.metadata.type == "DeleteFile"
    assert message.metadata.version == 1
    assert message.metadata.source == SOURCE
    assert message.metadata.trace_id == "trace-1"
    assert message.metadata.sequence == 3
    assert message.metadata.time == FIXED_NOW
    assert message.metadata.file_id == message.data.file_id


def test_the_same_change_of_the_same_file_always_gets_the_same_event_id() -> None:
    record = pending_record()

    first = message_of(DeleteFileV1, record, trace_id="a", sequence=4)
    again = message_of(DeleteFileV1, record, trace_id="b", sequence=4)
    later = message_of(DeleteFileV1, record, trace_id="a", sequence=5)
    deleted = message_of(FileDeletedV1, record, trace_id="a", sequence=4)

    assert first.metadata.event_id == again.metadata.event_id
    assert later.metadata.event_id != first.metadata.event_id
    assert deleted.metadata.event_id != first.metadata.event_id


def test_another_file_at_the_same_sequence_gets_another_event_id() -> None:
    first = message_of(DeleteFileV1, pending_record(), sequence=1)
    second = message_of(DeleteFileV1, pending_record(), sequence=1)

    assert first.metadata.event_id != second.metadata.event_id


def test_a_message_cannot_be_changed_once_made() -> None:
    message = message_of(DeleteFileV1)

    with pytest.raises(ValidationError, match="frozen"):
        message.metadata.sequence = 9  # type: ignore[misc]


def test_the_event_types_say_what_happened_and_the_command_what_to_do() -> None:
    kinds = {(m.TYPE, m.VERSION): m.KIND for m in MODELS}

    assert kinds == {
        ("DeleteFile", 1): "command",
        ("FileCreated", 1): "event",
        ("FileCreated", 2): "event",
        ("FileDeleted", 1): "event",
        ("FileDeleted", 2): "event",
        ("FileRejected", 1): "event",
        ("FileRenamed", 1): "event",
        ("FileRestored", 1): "event",
        ("FileTrashed", 1): "event",
    }


def test_each_catalogue_entry_is_the_model_of_its_own_type_and_version() -> None:
    assert all(key == (m.TYPE, m.VERSION) for key, m in CATALOGUE.items())
    assert all(m.model_fields["data"].annotation is not Any for m in MODELS)


# --- every published version, each its own event ----------------------------


@pytest.mark.parametrize("message_type", sorted(PUBLISHED_VERSIONS))
def test_the_producer_makes_one_message_per_published_version(
    message_type: str,
) -> None:
    record = record_for(message_type)

    messages = messages_about(message_type, record, "trace-p", 7, FIXED_NOW)

    assert [type(m) for m in messages] == [
        CATALOGUE[(message_type, v)] for v in PUBLISHED_VERSIONS[message_type]
    ]
    assert [m.metadata.version for m in messages] == list(
        PUBLISHED_VERSIONS[message_type]
    )
    assert {m.metadata.type for m in messages} == {message_type}
    assert {
        (m.metadata.file_id, m.metadata.sequence, m.metadata.trace_id, m.metadata.time)
        for m in messages
    } == {(record.file_id, 7, "trace-p", FIXED_NOW)}
    event_ids = [m.metadata.event_id for m in messages]
    assert len(set(event_ids)) == len(messages)


@pytest.mark.parametrize("message_type", sorted(PUBLISHED_VERSIONS))
def test_each_versions_event_id_is_the_same_every_time_the_change_is_sent(
    message_type: str,
) -> None:
    record = record_for(message_type)

    first = messages_about(message_type, record, "trace-a", 7, FIXED_NOW)
    again = messages_about(message_type, record, "trace-b", 7)

    assert [m.metadata.event_id for m in first] == [m.metadata.event_id for m in again]


def test_both_versions_of_file_created_describe_the_same_file() -> None:
    v1, v2 = messages_about("FileCreated", record_for("FileCreated"), "t", 1, FIXED_NOW)

    assert isinstance(v1, FileCreatedV1)
    assert isinstance(v2, FileCreatedV2)
    assert v1.data.owner == v2.data.owner
    assert v1.data.model_dump(exclude={"owner"}) == v2.data.file.model_dump()


def test_version_1_of_file_created_needs_an_uploaded_object() -> None:
    pending = pending_record()

    with pytest.raises(ValueError, match="a created file has an etag"):
        messages_about("FileCreated", pending, "t", 1, FIXED_NOW)


def test_every_published_version_is_in_the_catalogue_and_has_a_producer() -> None:
    published = {(t, v) for t, versions in PUBLISHED_VERSIONS.items() for v in versions}

    assert published <= set(CATALOGUE)
    assert set(PRODUCERS) == set(PUBLISHED_VERSIONS) == {t for t, _ in CATALOGUE}


def test_every_subscription_reads_published_versions_one_version_a_type() -> None:
    for subscription in SUBSCRIPTIONS.values():
        types = [m.TYPE for m in subscription.reads]
        assert len(types) == len(set(types)), subscription.consumer
        for model in subscription.reads:
            assert model.VERSION in PUBLISHED_VERSIONS[model.TYPE], model


def test_each_subscription_has_one_rule_pattern_per_version_it_reads() -> None:
    patterns = {
        name: subscription.event_patterns()
        for name, subscription in SUBSCRIPTIONS.items()
    }

    assert patterns == {
        "delete-file": {
            1: {
                "source": [SOURCE],
                "detail-type": ["DeleteFile"],
                "detail": {"metadata": {"version": [1]}},
            }
        },
        "change-feed": {
            1: {
                "source": [SOURCE],
                "detail-type": [
                    "FileRejected",
                    "FileRenamed",
                    "FileRestored",
                    "FileTrashed",
                ],
                "detail": {"metadata": {"version": [1]}},
            },
            2: {
                "source": [SOURCE],
                "detail-type": ["FileCreated", "FileDeleted"],
                "detail": {"metadata": {"version": [2]}},
            },
        },
    }


# --- strict producers, tolerant consumers ------------------------------------


@pytest.mark.parametrize("model", MODELS, ids=MODEL_IDS)
def test_the_producer_refuses_unknown_fields_at_every_level(
    model: type[Message],
) -> None:
    body = message_of(model).model_dump(mode="json")
    added = _with_unknown_fields(body)

    with pytest.raises(ValidationError) as caught:
        model.model_validate(body)

    refused = {tuple(e["loc"]) for e in caught.value.errors()}
    assert refused == added
    assert len(added) >= 3


def test_the_producer_cannot_build_data_with_a_field_it_does_not_know() -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        DeleteFileData(owner="o", file_id="f", name="n", colour="red")  # type: ignore[call-arg]


def test_an_outbox_entry_is_read_back_as_strictly_as_it_was_written() -> None:
    body = message_of(FileCreatedV2).model_dump(mode="json")
    body["data"]["file"][UNKNOWN] = 1

    with pytest.raises(ValidationError, match=rf"data\.file\.{UNKNOWN}"):
        decode_outbox(json.dumps(body))


@pytest.mark.parametrize("model", MODELS, ids=MODEL_IDS)
def test_a_consumer_reads_a_newer_producers_unknown_fields_at_every_level(
    model: type[Message],
) -> None:
    original = message_of(model)
    body = original.model_dump(mode="json")
    _with_unknown_fields(body)

    assert parse_message(model, body) == original


@pytest.mark.parametrize("model", MODELS, ids=MODEL_IDS)
def test_a_forwarded_event_with_unknown_fields_at_every_level_is_read(
    model: type[Message],
) -> None:
    original = message_of(model)
    event = json.loads(forwarded_event(original))
    _with_unknown_fields(event)

    assert from_forwarded_event(json.dumps(event), [model]) == original


def test_a_consumer_still_refuses_a_message_missing_a_required_field() -> None:
    body = message_of(FileCreatedV2).model_dump(mode="json")
    del body["data"]["file"]["size"]

    with pytest.raises(ValidationError, match=r"data\.file\.size"):
        parse_message(FileCreatedV2, body)


@pytest.mark.parametrize("model", MODELS, ids=MODEL_IDS)
def test_a_message_survives_its_json_form_through_the_outbox(
    model: type[Message],
) -> None:
    original = message_of(model)

    decoded = decode_outbox(original.to_json())

    assert type(decoded) is model
    assert decoded == original


# --- reading forwarded events ------------------------------------------------


def test_a_command_is_read_out_of_the_event_that_eventbridge_forwarded() -> None:
    original = message_of(DeleteFileV1)

    command = from_forwarded_event(forwarded_event(original), [DeleteFileV1])

    assert type(command) is DeleteFileV1
    assert command == original


def test_a_forwarded_event_is_read_by_the_model_of_its_type_and_version() -> None:
    readable = [FileCreatedV2, FileDeletedV1, FileRejectedV1, FileCreatedV1]

    for model in readable:
        message = from_forwarded_event(forwarded_event(message_of(model)), readable)
        assert type(message) is model


@pytest.mark.parametrize(
    ("sent", "readable", "refusal"),
    [
        (FileDeletedV1, [DeleteFileV1], "'FileDeleted' version 1"),
        (FileCreatedV1, [FileCreatedV2], "'FileCreated' version 1"),
        (FileCreatedV2, [FileCreatedV1, DeleteFileV1], "'FileCreated' version 2"),
    ],
    ids=["another-type", "an-older-version", "a-newer-version"],
)
def test_a_forwarded_event_the_consumer_does_not_read_is_an_unknown_message(
    sent: type[Message], readable: list[type[Message]], refusal: str
) -> None:
    body = forwarded_event(message_of(sent))

    with pytest.raises(UnknownMessageError) as caught:
        from_forwarded_event(body, readable)

    assert caught.value.message == f"no reader here for {refusal}"


@pytest.mark.parametrize(
    "detail",
    [
        {},
        {"metadata": {}},
        {"metadata": {"version": "1"}},
        {"metadata": {"version": None}},
    ],
    ids=["no-metadata", "no-version", "version-as-text", "null-version"],
)
def test_a_forwarded_event_without_a_readable_version_is_an_unknown_message(
    detail: dict[str, Any],
) -> None:
    body = json.loads(forwarded_event(message_of(DeleteFileV1)))
    body["detail"] = detail | {"data": body["detail"]["data"]}

    with pytest.raises(UnknownMessageError, match="no reader here for 'DeleteFile'"):
        from_forwarded_event(json.dumps(body), [DeleteFileV1])
