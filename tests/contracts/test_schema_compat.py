"""What the compatibility gate calls breaking, on small hand-written schemas."""

from __future__ import annotations

from typing import Any

import pytest

from tools.schema_compat import breaking_changes

Schema = dict[str, Any]
STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
NULLABLE_STRING: Schema = {"anyOf": [STRING, {"type": "null"}]}
STATUS: Schema = {"enum": ["AVAILABLE", "DELETING", "REJECTED"], "type": "string"}


def obj(required: tuple[str, ...] | None = None, **properties: Schema) -> Schema:
    """An object of `properties`, all required unless `required` says which."""
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "required": list(properties if required is None else required),
    }


def message(data: Schema, **defs: Schema) -> Schema:
    """A message whose `data` is `data`, with `defs` under $defs."""
    schema = obj(metadata=obj(type=STRING, version=INTEGER), data=data)
    return {**schema, "$defs": defs} if defs else schema


def ref(name: str) -> Schema:
    return {"$ref": f"#/$defs/{name}"}


FILE = obj(owner=STRING, name=STRING, size=INTEGER)


def test_a_schema_compared_with_itself_has_no_breaking_change() -> None:
    schema = message(ref("File"), File=FILE)

    assert breaking_changes(schema, schema) == []


def test_a_new_optional_property_is_additive_not_breaking() -> None:
    old = message(FILE)
    new = message(
        obj(("owner", "name", "size"), **FILE["properties"], colour=NULLABLE_STRING)
    )

    assert breaking_changes(old, new) == []


def test_a_new_optional_property_deep_in_a_definition_is_not_breaking() -> None:
    grown = obj(("owner", "name", "size"), **FILE["properties"], tags=STRING)

    assert breaking_changes(message(ref("F"), F=FILE), message(ref("F"), F=grown)) == []


def test_a_removed_property_is_breaking() -> None:
    new = obj(owner=STRING, size=INTEGER)

    assert breaking_changes(message(FILE), message(new)) == [
        "data.name: property removed (or renamed)"
    ]


def test_a_renamed_property_is_a_removal_and_a_new_required_property() -> None:
    new = obj(owner=STRING, title=STRING, size=INTEGER)

    assert breaking_changes(message(FILE), message(new)) == [
        "data.name: property removed (or renamed)",
        "data.title: new required property",
    ]


def test_removing_even_an_optional_property_is_breaking() -> None:
    old = obj(("owner",), owner=STRING, note=NULLABLE_STRING)

    assert breaking_changes(message(old), message(obj(owner=STRING))) == [
        "data.note: property removed (or renamed)"
    ]


def test_a_new_required_property_is_breaking() -> None:
    new = obj(**FILE["properties"], etag=STRING)

    assert breaking_changes(message(FILE), message(new)) == [
        "data.etag: new required property"
    ]


@pytest.mark.parametrize(
    ("old_required", "new_required", "change"),
    [
        (("owner",), ("owner", "name"), "data.name: became required"),
        (("owner", "name"), ("owner",), "data.name: is no longer required"),
    ],
    ids=["optional-to-required", "required-to-optional"],
)
def test_a_property_that_changes_whether_it_is_required_is_breaking(
    old_required: tuple[str, ...], new_required: tuple[str, ...], change: str
) -> None:
    old = obj(old_required, owner=STRING, name=STRING)
    new = obj(new_required, owner=STRING, name=STRING)

    assert breaking_changes(message(old), message(new)) == [change]


@pytest.mark.parametrize(
    ("old_type", "new_type", "change"),
    [
        (INTEGER, STRING, "type changed from integer to string"),
        (INTEGER, {"type": "number"}, "type changed from integer to number"),
        ({"type": "number"}, INTEGER, "type changed from number to integer"),
        (INTEGER, {}, "type changed from integer to any"),
        (INTEGER, obj(bytes=INTEGER), "type changed from integer to object"),
        (
            INTEGER,
            {"type": "array", "items": INTEGER},
            "type changed from integer to array",
        ),
    ],
    ids=["to-string", "to-number", "to-integer", "to-any", "to-object", "to-array"],
)
def test_a_changed_type_is_breaking(
    old_type: Schema, new_type: Schema, change: str
) -> None:
    old = obj(size=old_type)
    new = obj(size=new_type)

    assert breaking_changes(message(old), message(new)) == [f"data.size: {change}"]


def test_a_field_that_becomes_nullable_breaks_old_readers() -> None:
    old, new = obj(etag=STRING), obj(etag=NULLABLE_STRING)

    assert breaking_changes(message(old), message(new)) == [
        "data.etag: became nullable"
    ]


def test_a_field_that_stops_being_nullable_breaks_new_readers_of_old_messages() -> None:
    old, new = obj(etag=NULLABLE_STRING), obj(etag=STRING)

    assert breaking_changes(message(old), message(new)) == [
        "data.etag: is no longer nullable"
    ]


def test_a_nullable_field_whose_other_type_changes_says_so() -> None:
    old = obj(size={"anyOf": [INTEGER, {"type": "null"}]})
    new = obj(size=NULLABLE_STRING)

    assert breaking_changes(message(old), message(new)) == [
        "data.size: type changed from integer to string"
    ]


def test_a_type_list_and_an_any_of_of_the_same_types_are_the_same() -> None:
    old = obj(etag=NULLABLE_STRING)
    new = obj(etag={"type": ["string", "null"]})

    assert breaking_changes(message(old), message(new)) == []


def test_a_nullable_reference_is_followed_into_its_definition() -> None:
    old = message(obj(file={"anyOf": [ref("File"), {"type": "null"}]}), File=FILE)
    new_file = obj(owner=STRING, name=STRING, size=STRING)
    new = message(obj(file={"anyOf": [ref("File"), {"type": "null"}]}), File=new_file)

    assert breaking_changes(old, new) == [
        "data.file.size: type changed from integer to string"
    ]


def test_an_enum_that_loses_a_value_is_narrowed_and_breaking() -> None:
    narrowed = {"enum": ["AVAILABLE", "DELETING"], "type": "string"}
    old = message(obj(status=ref("Status")), Status=STATUS)
    new = message(obj(status=ref("Status")), Status=narrowed)

    assert breaking_changes(old, new) == [
        'data.status: enum narrowed: "REJECTED" removed'
    ]


def test_an_enum_that_gains_a_value_is_widened_and_breaking() -> None:
    widened = {"enum": [*STATUS["enum"], "PENDING"], "type": "string"}

    assert breaking_changes(
        message(obj(status=STATUS)), message(obj(status=widened))
    ) == ['data.status: enum widened: "PENDING" added']


def test_an_enum_that_became_any_string_is_widened_and_breaking() -> None:
    assert breaking_changes(
        message(obj(status=STATUS)), message(obj(status=STRING))
    ) == [
        'data.status: enum widened: no longer only "AVAILABLE", "DELETING", "REJECTED"'
    ]


def test_a_string_that_became_an_enum_is_narrowed_and_breaking() -> None:
    assert breaking_changes(
        message(obj(status=STRING)), message(obj(status=STATUS))
    ) == ['data.status: enum narrowed: now only "AVAILABLE", "DELETING", "REJECTED"']


def test_a_changed_literal_const_is_breaking() -> None:
    old = obj(kind={"const": "file", "type": "string"})
    new = obj(kind={"const": "folder", "type": "string"})

    assert breaking_changes(message(old), message(new)) == [
        'data.kind: const changed from "file" to "folder"'
    ]


def test_a_const_that_became_an_enum_of_more_values_is_widened() -> None:
    old = obj(kind={"const": "file", "type": "string"})
    new = obj(kind={"enum": ["file", "folder"], "type": "string"})

    assert breaking_changes(message(old), message(new)) == [
        'data.kind: enum widened: "folder" added'
    ]


def test_a_change_inside_a_definition_is_reported_where_each_use_is() -> None:
    old = message(obj(before=ref("File"), after=ref("File")), File=FILE)
    new = message(
        obj(before=ref("File"), after=ref("File")),
        File=obj(owner=STRING, size=INTEGER),
    )

    assert breaking_changes(old, new) == [
        "data.before.name: property removed (or renamed)",
        "data.after.name: property removed (or renamed)",
    ]


def test_a_definition_renamed_with_the_same_shape_is_not_breaking() -> None:
    old = message(ref("FileV1Data"), FileV1Data=FILE)
    new = message(ref("FileData"), FileData=FILE)

    assert breaking_changes(old, new) == []


def test_a_single_all_of_wrapper_reads_as_the_schema_it_wraps() -> None:
    old = message(obj(file=ref("File")), File=FILE)
    new = message(
        obj(file={"allOf": [ref("File")], "description": "The file."}), File=FILE
    )

    assert breaking_changes(old, new) == []


def test_an_array_whose_items_change_type_is_breaking() -> None:
    old = obj(tags={"type": "array", "items": STRING})
    new = obj(tags={"type": "array", "items": INTEGER})

    assert breaking_changes(message(old), message(new)) == [
        "data.tags[]: type changed from string to integer"
    ]


def test_a_property_removed_from_the_objects_of_an_array_is_breaking() -> None:
    old = message(obj(files={"type": "array", "items": ref("File")}), File=FILE)
    new = message(
        obj(files={"type": "array", "items": ref("File")}),
        File=obj(owner=STRING, name=STRING),
    )

    assert breaking_changes(old, new) == [
        "data.files[].size: property removed (or renamed)"
    ]


def test_a_map_whose_values_change_type_is_breaking() -> None:
    old = obj(labels={"type": "object", "additionalProperties": STRING})
    new = obj(labels={"type": "object", "additionalProperties": INTEGER})

    assert breaking_changes(message(old), message(new)) == [
        "data.labels.*: type changed from string to integer"
    ]


@pytest.mark.parametrize(
    ("old_field", "new_field", "change"),
    [
        (
            {"type": "string", "format": "date-time"},
            STRING,
            'format changed from "date-time" to null',
        ),
        (
            {"type": "integer", "minimum": 1},
            {"type": "integer", "minimum": 0},
            "minimum changed from 1 to 0",
        ),
        (
            {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            {"type": "string", "pattern": "^[0-9a-f]+$"},
            'pattern changed from "^[0-9a-f]{64}$" to "^[0-9a-f]+$"',
        ),
    ],
    ids=["format", "minimum", "pattern"],
)
def test_a_changed_format_or_bound_is_breaking(
    old_field: Schema, new_field: Schema, change: str
) -> None:
    old, new = obj(value=old_field), obj(value=new_field)

    assert breaking_changes(message(old), message(new)) == [f"data.value: {change}"]


def test_titles_descriptions_and_defaults_are_not_contract() -> None:
    old = obj(size={"type": "integer", "title": "Size", "default": 0})
    new = obj(size={"type": "integer", "title": "Bytes", "description": "Exact size."})

    assert breaking_changes(message(old), message(new)) == []


def test_a_recursive_definition_is_compared_without_looping() -> None:
    folder = obj(
        name=STRING,
        children={"type": "array", "items": ref("Folder")},
        parent={"anyOf": [ref("Folder"), {"type": "null"}]},
    )
    changed = obj(
        name=INTEGER,
        children={"type": "array", "items": ref("Folder")},
        parent={"anyOf": [ref("Folder"), {"type": "null"}]},
    )

    assert breaking_changes(
        message(ref("Folder"), Folder=folder), message(ref("Folder"), Folder=changed)
    ) == ["data.name: type changed from string to integer"]
