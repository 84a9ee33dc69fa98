"""docs/events.md: written from the models, and current."""

from __future__ import annotations

import json

import pytest

from chalicelib.messages import CATALOGUE, SUBSCRIPTIONS, decode_outbox
from tools.events_page import PAGE_PATH, REFRESH, field_rows, render, sample_messages

PAGE = render()


def test_the_committed_events_page_is_what_the_models_say_now() -> None:
    committed = PAGE_PATH.read_text(encoding="utf-8")

    assert committed == PAGE, f"docs/events.md is stale: run {REFRESH}"


def test_the_page_rendered_twice_is_the_same_page() -> None:
    assert render() == PAGE


@pytest.mark.parametrize(
    "key", sorted(CATALOGUE), ids=[f"{t}-v{v}" for t, v in sorted(CATALOGUE)]
)
def test_every_version_has_a_section_and_an_example_its_producer_would_write(
    key: tuple[str, int],
) -> None:
    type_name, version = key
    example = sample_messages()[key]

    assert f"### {type_name} version {version}\n" in PAGE
    assert type(example) is CATALOGUE[key]
    assert decode_outbox(example.to_json()) == example
    assert json.dumps(example.model_dump(mode="json"), indent=2) in PAGE


def test_every_consumers_rule_pattern_is_on_the_page() -> None:
    for name, subscription in SUBSCRIPTIONS.items():
        assert f"### `{name}`\n" in PAGE
        for pattern in subscription.event_patterns().values():
            assert json.dumps(pattern, indent=2) in PAGE


def test_the_page_follows_one_delete_through_its_command_and_events() -> None:
    samples = sample_messages()
    command = samples[("DeleteFile", 1)]
    deleted = [samples[("FileDeleted", 1)], samples[("FileDeleted", 2)]]

    assert {m.metadata.trace_id for m in deleted} == {command.metadata.trace_id}
    assert {m.metadata.sequence for m in deleted} == {command.metadata.sequence + 1}


def test_a_field_with_no_description_anywhere_stops_the_page() -> None:
    schema = {
        "type": "object",
        "properties": {"colour": {"type": "string"}},
        "required": ["colour"],
    }

    with pytest.raises(KeyError, match="'colour' has no description"):
        list(field_rows(schema, schema))
