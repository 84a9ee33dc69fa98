"""A caller's trace id follows a delete from the request, through the bus and
the delete consumer, into every event and every log line the work causes."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.logs import JsonLineFormatter
from chalicelib.messages import SUBSCRIPTIONS, from_forwarded_event
from tests.app.conftest import FileManager, Stack
from tests.builders import every_version

TRACE = "trace-follow-1"


@pytest.fixture
def log_lines(app_module: Any) -> Iterator[io.StringIO]:
    """Whatever the app's JSON log handler writes to stdout, kept aside."""
    (handler,) = (
        h
        for h in logging.getLogger("chalicelib").handlers
        if isinstance(h, logging.StreamHandler)
        and isinstance(h.formatter, JsonLineFormatter)
    )
    kept = io.StringIO()
    stdout = handler.setStream(kept)
    try:
        yield kept
    finally:
        handler.setStream(stdout)


def test_a_delete_requests_trace_id_reaches_its_events_and_every_log_line(
    files: FileManager, stack: Stack, log_lines: io.StringIO
) -> None:
    file_id = files.add("docs/a.txt")
    stack.published()

    answer = files.delete(file_id, **{"X-Trace-Id": TRACE})

    assert answer.status_code == 202
    assert answer.headers["X-Trace-Id"] == TRACE
    (queued,) = stack.receive(stack.commands, expected=1)
    command = from_forwarded_event(queued["Body"], SUBSCRIPTIONS["delete-file"].reads)
    assert (command.metadata.type, command.metadata.trace_id) == ("DeleteFile", TRACE)
    stack.published()
    log_lines.seek(0)
    log_lines.truncate()

    payload = files.client.lambda_.invoke(
        "on_delete_file", files.sqs_event([queued])
    ).payload

    assert payload is None
    deleted = stack.published()
    assert sorted(
        (e["detail-type"], e["detail"]["metadata"]["version"]) for e in deleted
    ) == every_version("FileDeleted")
    assert {e["detail"]["metadata"]["trace_id"] for e in deleted} == {TRACE}
    lines = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    assert [line["message"] for line in lines] == [
        "DeleteFile received",
        *(["published FileDeleted"] * len(every_version("FileDeleted"))),
        "file deleted",
    ]
    assert {line["trace_id"] for line in lines} == {TRACE}
    assert {line["file_id"] for line in lines} == {file_id}
