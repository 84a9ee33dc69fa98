"""POST /files: metadata in, a pending record and a presigned form out."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.app.conftest import ALICE, BOB, FileManager, Stack

CASE_1_NAME = "reports/Q3 results (final)+v2: é.pdf"
JSON = {"Content-Type": "application/json"}


def _post(files: FileManager, body: bytes | str, **headers: str) -> Any:
    return files.client.http.post(
        "/files", headers=files.headers(**(JSON | headers)), body=body
    )


def _policy(created: dict[str, Any]) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(
        base64.b64decode(created["upload"]["fields"]["policy"])
    )
    return decoded


def test_creating_a_file_answers_201_with_a_form_for_exactly_its_bytes(
    files: FileManager, stack: Stack
) -> None:
    answer = files.create("docs/report.pdf", size=1234, content_type="application/pdf")

    body = answer.json_body
    assert answer.status_code == 201
    assert answer.headers["Content-Type"] == "application/json"
    assert re.fullmatch(r"[0-9a-f]{32}", body["file_id"])
    assert (body["name"], body["status"]) == ("docs/report.pdf", "PENDING")
    fields = body["upload"]["fields"]
    assert fields["key"] == f"files/{ALICE}/{body['file_id']}"
    conditions = _policy(body)["conditions"]
    assert ["content-length-range", 1234, 1234] in conditions
    assert {"Content-Type": "application/pdf"} in conditions
    assert {"key": fields["key"]} in conditions
    expires_at = datetime.fromisoformat(body["upload"]["expires_at"])
    assert expires_at <= datetime.now(UTC) + timedelta(minutes=15)
    assert stack.object_keys() == []


def test_a_created_file_reads_as_pending_without_a_download_url(
    files: FileManager, stack: Stack
) -> None:
    created = files.create("a.txt").json_body

    answer = files.get(f"/files/{created['file_id']}")

    assert answer.status_code == 200
    assert answer.json_body["status"] == "PENDING"
    assert answer.json_body["download_url"] is None
    assert answer.json_body["uploaded_at"] is None


def test_a_name_is_stored_in_its_composed_form(
    files: FileManager, stack: Stack
) -> None:
    answer = files.create("cafe\u0301.txt")

    assert answer.json_body["name"] == "café.txt"


def test_a_name_already_taken_is_a_409_naming_it(
    files: FileManager, stack: Stack
) -> None:
    files.create(CASE_1_NAME)

    answer = files.create(CASE_1_NAME)

    assert answer.status_code == 409
    assert answer.json_body == {
        "Code": "NameConflict",
        "Message": f"a file named {CASE_1_NAME!r} already exists",
        "Details": {"name": CASE_1_NAME},
    }


def test_another_user_may_use_a_name_someone_else_has(
    files: FileManager, stack: Stack
) -> None:
    files.create("same.txt", sub=ALICE)

    answer = files.create("same.txt", sub=BOB)

    assert answer.status_code == 201


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("../etc/passwd", "segment 1 of the name is '..', which is not allowed"),
        (
            "a//b",
            "segment 2 of the name is empty (no leading, trailing or doubled '/')",
        ),
        (
            "/abs",
            "segment 1 of the name is empty (no leading, trailing or doubled '/')",
        ),
        ("a/./b", "segment 2 of the name is '.', which is not allowed"),
        ("", "name is empty"),
        ("n" * 2000, "name is 2000 bytes of UTF-8; the limit is 1024"),
        ("a\x00b", "name contains the control character U+0000"),
        ("a\nb", "name contains the control character U+000A"),
    ],
    ids=["dotdot", "double-slash", "absolute", "dot", "empty", "long", "nul", "nl"],
)
def test_a_broken_name_is_a_400_saying_which_rule_and_stores_nothing(
    files: FileManager, stack: Stack, name: str, message: str
) -> None:
    answer = files.create(name)

    assert answer.status_code == 400
    assert answer.json_body == {"Code": "InvalidName", "Message": message}
    assert stack.table_items() == []


def test_a_dotted_name_that_is_no_path_trick_is_fine(
    files: FileManager, stack: Stack
) -> None:
    answer = files.create("a..b.txt")

    assert answer.status_code == 201


@pytest.mark.parametrize(
    ("fields", "problems"),
    [
        (
            {"expires_in": 604800},
            [{"field": "expires_in", "problem": "Extra inputs are not permitted"}],
        ),
        (
            {"size": "5"},
            [{"field": "size", "problem": "Input should be a valid integer"}],
        ),
        (
            {"size": 5.0},
            [{"field": "size", "problem": "Input should be a valid integer"}],
        ),
        (
            {"size": True},
            [{"field": "size", "problem": "Input should be a valid integer"}],
        ),
        (
            {"size": -1},
            [
                {
                    "field": "size",
                    "problem": "Input should be greater than or equal to 0",
                }
            ],
        ),
        (
            {"size": 5 * 1024**3 + 1},
            [
                {
                    "field": "size",
                    "problem": "Input should be less than or equal to 5368709120",
                }
            ],
        ),
        (
            {"name": 7},
            [{"field": "name", "problem": "Input should be a valid string"}],
        ),
        (
            {"sha256": "AB" * 32},
            [
                {
                    "field": "sha256",
                    "problem": "String should match pattern '^[0-9a-f]{64}$'",
                }
            ],
        ),
    ],
    ids=[
        "unknown-field",
        "size-as-text",
        "size-as-float",
        "size-as-bool",
        "negative-size",
        "over-5-gb",
        "name-as-number",
        "uppercase-sha",
    ],
)
def test_a_body_with_unknown_fields_or_wrong_types_is_a_400_with_details(
    files: FileManager,
    stack: Stack,
    fields: dict[str, Any],
    problems: list[dict[str, str]],
) -> None:
    body = {"name": "a.txt", "size": 5} | fields

    answer = _post(files, json.dumps(body))

    assert answer.status_code == 400
    summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
    assert answer.json_body == {
        "Code": "ValidationError",
        "Message": f"request body is not valid: {summary}",
        "Details": problems,
    }
    assert stack.table_items() == []


def test_a_body_missing_required_fields_names_each_of_them(
    files: FileManager, stack: Stack
) -> None:
    answer = _post(files, "{}")

    assert answer.status_code == 400
    assert answer.json_body["Details"] == [
        {"field": "name", "problem": "Field required"},
        {"field": "size", "problem": "Field required"},
    ]


def test_a_content_type_that_is_no_media_type_is_refused(
    files: FileManager, stack: Stack
) -> None:
    answer = files.create("a.txt", content_type="text/html\r\nX-Evil: 1")

    assert answer.status_code == 400
    assert answer.json_body["Code"] == "ValidationError"
    assert answer.json_body["Details"][0]["field"] == "content_type"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[1, 2]", "request body must be a JSON object"),
        ('"a.txt"', "request body must be a JSON object"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_a_400(
    files: FileManager, stack: Stack, body: str, message: str
) -> None:
    answer = _post(files, body)

    assert answer.status_code == 400
    assert answer.json_body == {"Code": "BadRequest", "Message": message}


def test_a_body_that_is_not_json_is_a_400(files: FileManager, stack: Stack) -> None:
    answer = _post(files, "{name: a.txt}")

    assert answer.status_code == 400
    assert answer.json_body["Code"] == "BadRequest"
    assert answer.json_body["Message"].startswith("request body is not valid JSON: ")


def test_a_body_that_is_not_declared_json_is_a_415(
    files: FileManager, stack: Stack
) -> None:
    answer = _post(
        files,
        json.dumps({"name": "a.txt", "size": 1}),
        **{"Content-Type": "text/plain"},
    )

    assert answer.status_code == 415
    assert answer.json_body == {
        "Code": "UnsupportedMediaType",
        "Message": "request body must be application/json",
    }


def test_a_7_mb_body_is_a_json_413_and_stores_nothing(
    files: FileManager, stack: Stack
) -> None:
    body = json.dumps({"name": "big.bin", "size": 1, "data": "x" * (7 * 1024**2)})

    answer = _post(files, body)

    assert answer.status_code == 413
    assert answer.json_body["Code"] == "PayloadTooLarge"
    assert answer.json_body["Message"].startswith(
        f"request body is {len(body)} bytes; the limit is 16384"
    )
    assert stack.table_items() == []


@pytest.mark.parametrize(
    "body",
    [
        '{"name": "a.txt", "size": ' + "9" * 5000 + "}",
        "[" * 5000 + "]" * 5000,
    ],
    ids=["5000-digit-number", "nested-5000-deep"],
)
def test_json_that_python_cannot_read_is_a_400_not_a_500(
    files: FileManager, stack: Stack, body: str
) -> None:
    answer = _post(files, body)

    assert answer.status_code == 400
    assert answer.json_body["Code"] == "BadRequest"
    assert answer.json_body["Message"].startswith("request body is not valid JSON: ")
    assert stack.table_items() == []


def test_a_name_of_the_longest_allowed_size_in_a_folder_as_long_can_be_stored(
    files: FileManager, stack: Stack
) -> None:
    folder = "f" * 1021 + "/"
    name = folder + "nn"

    file_id = files.add(name)

    listing = files.get("/files?" + urlencode({"prefix": folder, "delimiter": "/"}))
    assert len(name.encode()) == 1024
    assert [i["file_id"] for i in listing.json_body["items"]] == [file_id]
    assert files.get("/files?delimiter=/").json_body["folders"] == [{"name": folder}]


def test_a_name_one_byte_over_the_limit_is_a_400(
    files: FileManager, stack: Stack
) -> None:
    answer = files.create("n" * 1025)

    assert answer.status_code == 400
    assert answer.json_body == {
        "Code": "InvalidName",
        "Message": "name is 1025 bytes of UTF-8; the limit is 1024",
    }


def test_a_name_escaping_a_lone_surrogate_in_json_is_a_400(
    files: FileManager, stack: Stack
) -> None:
    answer = _post(files, '{"name": "a\\ud800.txt", "size": 1}')

    assert answer.status_code == 400
    assert answer.json_body == {
        "Code": "InvalidName",
        "Message": "name is not valid UTF-8 (lone surrogate)",
    }


def test_the_body_limit_is_16_kib_exactly(files: FileManager, stack: Stack) -> None:
    def body_of(size: int) -> str:
        body = json.dumps({"name": "a.txt", "size": 1, "content_type": "text/plain"})
        return body[:-1] + " " * (size - len(body)) + "}"

    at_limit = _post(files, body_of(16 * 1024))
    over_limit = _post(files, body_of(16 * 1024 + 1))

    assert at_limit.status_code == 201
    assert over_limit.status_code == 413


def test_a_key_given_twice_in_the_body_is_a_400_and_stores_nothing(
    files: FileManager, stack: Stack
) -> None:
    answer = _post(files, '{"name": "a.txt", "size": 1, "name": "b.txt"}')

    assert answer.status_code == 400
    assert answer.json_body["Code"] == "BadRequest"
    assert "'name' is given more than once" in answer.json_body["Message"]
    assert stack.table_items() == []


def test_a_body_in_utf_16_is_a_400_as_json_is_utf_8(
    files: FileManager, stack: Stack
) -> None:
    body = json.dumps({"name": "a.txt", "size": 1}).encode("utf-16")

    answer = _post(files, body)

    assert answer.status_code == 400
    assert answer.json_body["Message"].startswith("request body is not valid JSON: ")
    assert stack.table_items() == []
