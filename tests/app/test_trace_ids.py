"""Every answer carries a trace id: the caller's if well formed, else a new one."""

from __future__ import annotations

import re

import pytest

from tests.app.conftest import FileManager, Stack

MISSING_FILE = "/files/0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("path", "status"), [("/files", 200), (MISSING_FILE, 404), ("/files?limit=0", 400)]
)
def test_a_well_formed_trace_id_is_echoed_on_success_and_on_error(
    files: FileManager, stack: Stack, path: str, status: int
) -> None:
    answer = files.get(path, **{"X-Trace-Id": "client-trace_1.2-3"})

    assert answer.status_code == status
    assert answer.headers["X-Trace-Id"] == "client-trace_1.2-3"


def test_a_trace_id_is_echoed_on_a_401_too(files: FileManager, aws: None) -> None:
    answer = files.client.http.get(
        "/files", headers={"X-Trace-Id": "t-401", "Authorization": "garbage"}
    )

    assert answer.status_code == 401
    assert answer.headers["X-Trace-Id"] == "t-401"


@pytest.mark.parametrize(
    "candidate", ["has space", "x" * 65, "semi;colon", "ünïcode", "<script>"]
)
def test_a_malformed_trace_id_is_replaced_by_a_fresh_one_not_refused(
    files: FileManager, stack: Stack, candidate: str
) -> None:
    answer = files.get("/files", **{"X-Trace-Id": candidate})

    assert answer.status_code == 200
    assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["X-Trace-Id"])


def test_without_a_trace_id_each_request_gets_its_own(
    files: FileManager, stack: Stack
) -> None:
    first = files.get("/files")
    second = files.get("/files")

    assert re.fullmatch(r"[0-9a-f]{32}", first.headers["X-Trace-Id"])
    assert first.headers["X-Trace-Id"] != second.headers["X-Trace-Id"]


def test_cors_lets_browsers_send_and_read_the_trace_id(
    files: FileManager, stack: Stack
) -> None:
    answer = files.get("/files")

    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "X-Trace-Id" in answer.headers["Access-Control-Allow-Headers"].split(",")
    assert answer.headers["Access-Control-Expose-Headers"] == "X-Trace-Id"
