"""Trace ids and the JSON log lines that carry them."""

from __future__ import annotations

import json
import logging

import pytest

from chalicelib.logs import JsonLineFormatter
from chalicelib.tracing import accept_trace_id, current_trace_id, traced


@pytest.mark.parametrize("trace_id", ["a", "A-z_0.9", "x" * 64])
def test_a_well_formed_trace_id_from_the_caller_is_kept(trace_id: str) -> None:
    assert accept_trace_id(trace_id) == trace_id


@pytest.mark.parametrize(
    "candidate", [None, "", "x" * 65, "has space", "semi;colon", "é", "a\nb"]
)
def test_a_missing_or_malformed_trace_id_is_replaced_by_a_fresh_one(
    candidate: str | None,
) -> None:
    first = accept_trace_id(candidate)
    second = accept_trace_id(candidate)

    assert first != candidate
    assert len(first) == 32
    assert first != second


def test_the_current_trace_id_is_set_only_inside_its_block() -> None:
    with traced("outer"):
        with traced("inner"):
            assert current_trace_id() == "inner"
        assert current_trace_id() == "outer"

    assert current_trace_id() is None


def test_a_log_line_is_one_json_object_with_trace_id_and_extra_fields() -> None:
    record = logging.LogRecord(
        "chalicelib.files", logging.INFO, __file__, 1, "deleted %s", ("x",), None
    )
    record.file_id = "f-1"

    with traced("trace-log"):
        line = JsonLineFormatter().format(record)

    fields = json.loads(line)
    assert fields["message"] == "deleted x"
    assert fields["level"] == "INFO"
    assert fields["logger"] == "chalicelib.files"
    assert fields["trace_id"] == "trace-log"
    assert fields["file_id"] == "f-1"
    assert "\n" not in line
