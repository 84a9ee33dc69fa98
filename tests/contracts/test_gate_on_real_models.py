"""The gate's verdict on real catalogue models, changed the way people change
them: rebuilt with `pydantic.create_model`, then checked against the schema
committed for their version."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, create_model

from chalicelib.domain import FileStatus
from chalicelib.messages import (
    FileCreatedV1,
    FileCreatedV2,
    FileDetails,
    Message,
    Metadata,
)
from tools.event_schemas import committed
from tools.schema_compat import breaking_changes

REMOVED = object()


def rebuilt(model: type[BaseModel], **changes: Any) -> type[BaseModel]:
    """`model` made again under its own name and config, with fields changed:
    `name=(type, default)` replaces or adds a field, `name=REMOVED` drops it."""
    fields: dict[str, Any] = {
        name: (field.annotation, field) for name, field in model.model_fields.items()
    }
    for name, change in changes.items():
        if change is REMOVED:
            del fields[name]
        else:
            fields[name] = change
    return create_model(model.__name__, __config__=model.model_config, **fields)


def with_data(message: type[Message], **changes: Any) -> type[BaseModel]:
    data = message.model_fields["data"].annotation
    assert isinstance(data, type)
    assert issubclass(data, BaseModel)
    return rebuilt(message, data=(rebuilt(data, **changes), ...))


def schema_of_model(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(mode="serialization")


def verdict(message: type[Message], variant: type[BaseModel]) -> list[str]:
    """What the gate says of `variant` replacing `message`'s committed schema."""
    path = committed()[(message.TYPE, message.VERSION)]
    return breaking_changes(json.loads(path.read_text()), schema_of_model(variant))


def test_a_model_rebuilt_unchanged_passes_the_gate() -> None:
    assert verdict(FileCreatedV1, with_data(FileCreatedV1)) == []
    assert verdict(FileCreatedV2, rebuilt(FileCreatedV2)) == []


def test_a_new_optional_field_passes_the_gate() -> None:
    variant = with_data(FileCreatedV1, thumbnail_url=(str | None, None))

    assert verdict(FileCreatedV1, variant) == []


def test_a_removed_field_fails_the_gate() -> None:
    variant = with_data(FileCreatedV1, etag=REMOVED)

    assert verdict(FileCreatedV1, variant) == [
        "data.etag: property removed (or renamed)"
    ]


def test_a_field_of_another_type_fails_the_gate() -> None:
    variant = with_data(FileCreatedV1, size=(str, ...))

    assert verdict(FileCreatedV1, variant) == [
        "data.size: type changed from integer to string"
    ]


def test_a_field_of_another_type_deep_in_a_nested_model_fails_the_gate() -> None:
    details = rebuilt(FileDetails, size=(float, ...))
    variant = with_data(FileCreatedV2, file=(details, ...))

    assert verdict(FileCreatedV2, variant) == [
        "data.file.size: type changed from integer to number"
    ]


def test_a_field_made_nullable_fails_the_gate() -> None:
    variant = with_data(FileCreatedV1, etag=(str | None, ...))

    assert verdict(FileCreatedV1, variant) == ["data.etag: became nullable"]


def test_a_new_required_field_fails_the_gate() -> None:
    variant = with_data(FileCreatedV1, checksum_algorithm=(str, ...))

    assert verdict(FileCreatedV1, variant) == [
        "data.checksum_algorithm: new required property"
    ]


def test_a_narrowed_enum_fails_the_gate_where_adding_the_enum_did_not() -> None:
    with_status = with_data(FileCreatedV1, status=(FileStatus | None, None))
    narrowed = with_data(
        FileCreatedV1, status=(Literal["AVAILABLE", "DELETING"] | None, None)
    )

    assert verdict(FileCreatedV1, with_status) == []
    assert breaking_changes(
        schema_of_model(with_status), schema_of_model(narrowed)
    ) == ['data.status: enum narrowed: "PENDING", "REJECTED", "TRASHED" removed']


def test_a_changed_literal_in_the_envelope_fails_the_gate() -> None:
    pinned = rebuilt(
        FileCreatedV2,
        metadata=(
            rebuilt(Metadata, source=(Literal["filemanager"], "filemanager")),
            ...,
        ),
    )
    moved = rebuilt(
        FileCreatedV2,
        metadata=(rebuilt(Metadata, source=(Literal["files"], "files")), ...),
    )

    assert verdict(FileCreatedV2, pinned) == [
        'metadata.source: enum narrowed: now only "filemanager"'
    ]
    assert breaking_changes(schema_of_model(pinned), schema_of_model(moved)) == [
        'metadata.source: const changed from "filemanager" to "files"'
    ]
