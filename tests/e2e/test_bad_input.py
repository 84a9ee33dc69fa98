"""A catalogue of bad input, sent over HTTP to the whole local stack.

Every case is one record: a request (method, path, headers, body) and the
answer it must get (status and `Code`). Each answer must be a 4xx with a
JSON body holding `Code` and `Message` and an `X-Trace-Id` header, and must
leave everything as it was: every item of every table, every object of the
bucket and the count of our events on the bus are compared before and after.

Paths and headers may name values only known once the stack runs, such as
`${a_file_id}` or `${token}`; they are filled in (URL-quoted in paths) just
before the request goes out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from string import Template
from typing import Any
from urllib.parse import quote

import pytest
import requests

from tests.e2e.helpers import (
    HTTP_TIMEOUT,
    TRACE_ID,
    Inspector,
    Snapshot,
    User,
    available_file,
    demo_user,
    error_of,
    new_user,
)

pytestmark = pytest.mark.e2e

GIB = 1024**3
MAX_BODY_BYTES = 16 * 1024
A_VALID_BODY = {"name": "valid/name.txt", "size": 12, "content_type": "text/plain"}


@dataclass(frozen=True)
class BadInput:
    """One request that must be refused, and how."""

    id: str
    method: str
    path: str
    status: int
    code: str
    body: bytes | None = None
    # Sent on top of the defaults (the demo user's token, a trace id and,
    # with a body, `Content-Type: application/json`); None removes one.
    headers: Mapping[str, str | None] = field(default_factory=dict)


def document(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def body_case(case_id: str, value: Any, code: str, status: int = 400) -> BadInput:
    """POST /files with `value` as its JSON body."""
    return BadInput(case_id, "POST", "/files", status, code, body=document(value))


def raw_case(
    case_id: str,
    raw: bytes,
    code: str,
    status: int = 400,
    headers: Mapping[str, str | None] | None = None,
) -> BadInput:
    """POST /files with exactly these bytes as its body."""
    return BadInput(case_id, "POST", "/files", status, code, raw, headers or {})


def named(case_id: str, name: str) -> BadInput:
    """POST /files declaring a file of this name."""
    return body_case(case_id, {"name": name, "size": 12}, "InvalidName")


def with_size(case_id: str, raw_size: str, code: str = "ValidationError") -> BadInput:
    """POST /files whose size is this JSON text, written as is."""
    raw = '{"name": "n.txt", "size": ' + raw_size + "}"
    return raw_case(case_id, raw.encode(), code)


def get(case_id: str, path: str, code: str, status: int = 400) -> BadInput:
    return BadInput(case_id, "GET", path, status, code)


def unauthorized(
    case_id: str, method: str, path: str, authorization: str | None
) -> BadInput:
    body = document(A_VALID_BODY) if method == "POST" else None
    headers = {"Authorization": authorization}
    return BadInput(case_id, method, path, 401, "Unauthorized", body, headers)


def not_found(case_id: str, method: str, path: str) -> BadInput:
    return BadInput(case_id, method, path, 404, "FileNotFound")


MALFORMED_JSON = [
    raw_case("json-not-closed", b'{"name": "a.txt", "size": 12', "BadRequest"),
    raw_case("json-single-quotes", b"{'name': 'a.txt', 'size': 12}", "BadRequest"),
    raw_case("json-empty-body", b"", "BadRequest"),
    raw_case("json-trailing-garbage", document(A_VALID_BODY) + b"}", "BadRequest"),
    raw_case("json-null", b"null", "BadRequest"),
    raw_case("json-array", document([A_VALID_BODY]), "BadRequest"),
    raw_case("json-string", b'"valid/name.txt"', "BadRequest"),
    raw_case("json-bad-utf8", b'{"name": "\xff\xfe.txt", "size": 12}', "BadRequest"),
    raw_case("json-utf16", json.dumps(A_VALID_BODY).encode("utf-16"), "BadRequest"),
    raw_case("json-utf8-bom", b"\xef\xbb\xbf" + document(A_VALID_BODY), "BadRequest"),
    raw_case(
        "json-duplicate-key",
        b'{"name": "a.txt", "size": 12, "name": "b.txt"}',
        "BadRequest",
    ),
    raw_case("json-nested-10000-deep", b"[" * 10_000, "BadRequest"),
]

WRONG_TYPES = [
    body_case("name-number", {"name": 42, "size": 12}, "ValidationError"),
    body_case("name-null", {"name": None, "size": 12}, "ValidationError"),
    body_case("name-list", {"name": ["a.txt"], "size": 12}, "ValidationError"),
    body_case("size-string", {"name": "a.txt", "size": "12"}, "ValidationError"),
    body_case("size-null", {"name": "a.txt", "size": None}, "ValidationError"),
    body_case("size-boolean", {"name": "a.txt", "size": True}, "ValidationError"),
    body_case("size-object", {"name": "a.txt", "size": {"v": 1}}, "ValidationError"),
    body_case(
        "content-type-number",
        {"name": "a.txt", "size": 12, "content_type": 7},
        "ValidationError",
    ),
    body_case(
        "sha256-number", {"name": "a.txt", "size": 12, "sha256": 1}, "ValidationError"
    ),
]

MISSING_AND_EXTRA_FIELDS = [
    body_case("fields-none", {}, "ValidationError"),
    body_case("size-missing", {"name": "a.txt"}, "ValidationError"),
    body_case("name-missing", {"size": 12}, "ValidationError"),
    body_case("extra-owner", {**A_VALID_BODY, "owner": "someone"}, "ValidationError"),
    body_case(
        "extra-expires-in-a-week",
        {**A_VALID_BODY, "expires_in": 7 * 24 * 3600},
        "ValidationError",
    ),
    body_case(
        "extra-file-id", {**A_VALID_BODY, "file_id": "0" * 32}, "ValidationError"
    ),
    body_case(
        "extra-status", {**A_VALID_BODY, "status": "AVAILABLE"}, "ValidationError"
    ),
    body_case("extra-capitalised-twin", {**A_VALID_BODY, "Size": 1}, "ValidationError"),
]

NUMBERS = [
    with_size("size-negative", "-1"),
    with_size("size-5-gib-and-one-byte", str(5 * GIB + 1)),
    with_size("size-10-to-the-30", "1" + "0" * 30),
    with_size("size-4301-digits", "9" * 4301, "BadRequest"),
    with_size("size-float", "1.5"),
    with_size("size-float-whole", "12.0"),
    with_size("size-exponent", "1e3"),
    with_size("size-nan", "NaN"),
    with_size("size-infinity", "Infinity"),
    with_size("size-true", "true"),
    with_size("size-false", "false"),
]

OTHER_FIELDS = [
    body_case(
        "content-type-no-slash",
        {**A_VALID_BODY, "content_type": "text"},
        "ValidationError",
    ),
    body_case(
        "content-type-header-injection",
        {**A_VALID_BODY, "content_type": "text/plain\r\nX-Evil: 1"},
        "ValidationError",
    ),
    body_case(
        "content-type-256-chars",
        {**A_VALID_BODY, "content_type": "text/" + "x" * 251},
        "ValidationError",
    ),
    body_case(
        "sha256-uppercase", {**A_VALID_BODY, "sha256": "AB" * 32}, "ValidationError"
    ),
    body_case("sha256-short", {**A_VALID_BODY, "sha256": "ab" * 31}, "ValidationError"),
]

# Case 11 of the shared cases, and the characters that hide what a name says.
HOSTILE_NAMES = [
    named("name-dot-dot-etc-passwd", "../etc/passwd"),
    named("name-double-slash", "a//b"),
    named("name-absolute", "/abs"),
    named("name-dot-segment", "a/./b"),
    named("name-dot-dot-inside", "a/../b"),
    named("name-dot-dot-alone", ".."),
    named("name-empty", ""),
    named("name-trailing-slash", "folder/"),
    named("name-2000-bytes", "é" * 1000),
    named("name-nul", "a\x00b.txt"),
    named("name-newline", "a\nb.txt"),
    named("name-tab", "a\tb.txt"),
    named("name-del", "a\x7fb.txt"),
    named("name-c1-next-line", "a\x85b.txt"),
    named("name-rtl-override", "invoice\u202etxt.exe"),
    named("name-zero-width-space", "a\u200bb.txt"),
    named("name-byte-order-mark", "\ufeffa.txt"),
    named("name-line-separator", "a\u2028b.txt"),
    named("name-noncharacter", "a\uffffb.txt"),
    named("name-trailing-space", "report.txt "),
    named("name-segment-leading-space", "docs/ report.txt"),
    named("name-33-levels-deep", "d/" * 33 + "f.txt"),
    raw_case(
        "name-lone-surrogate", b'{"name": "a\\ud800.txt", "size": 12}', "InvalidName"
    ),
]

ODD_HEADERS = [
    raw_case(
        "content-type-missing",
        document(A_VALID_BODY),
        "UnsupportedMediaType",
        415,
        {"Content-Type": None},
    ),
    raw_case(
        "content-type-text-plain",
        document(A_VALID_BODY),
        "UnsupportedMediaType",
        415,
        {"Content-Type": "text/plain"},
    ),
    raw_case(
        "content-type-form",
        b"name=a.txt&size=12",
        "UnsupportedMediaType",
        415,
        {"Content-Type": "application/x-www-form-urlencoded"},
    ),
    raw_case(
        "content-type-json-patch",
        document(A_VALID_BODY),
        "UnsupportedMediaType",
        415,
        {"Content-Type": "application/json-patch+json"},
    ),
    raw_case(
        "content-type-multipart",
        document(A_VALID_BODY),
        "UnsupportedMediaType",
        415,
        {"Content-Type": "multipart/form-data; boundary=x"},
    ),
    unauthorized("auth-missing-create", "POST", "/files", None),
    unauthorized("auth-missing-list", "GET", "/files", None),
    unauthorized("auth-missing-describe", "GET", "/files/${a_file_id}", None),
    unauthorized("auth-missing-delete", "DELETE", "/files/${a_file_id}", None),
    unauthorized("auth-missing-changes", "GET", "/changes", None),
    unauthorized("auth-missing-latest", "GET", "/changes/latest", None),
    unauthorized("auth-empty", "GET", "/files", ""),
    unauthorized("auth-garbage", "GET", "/files", "garbage"),
    unauthorized("auth-bearer-alone", "GET", "/changes/latest", "Bearer"),
    unauthorized("auth-bearer-two-spaces", "POST", "/files", "Bearer  "),
    unauthorized("auth-basic", "POST", "/files", "Basic dXNlcjpwYXNzd29yZA=="),
    unauthorized(
        "auth-bearer-twice", "DELETE", "/files/${a_file_id}", "Bearer Bearer ${token}"
    ),
    unauthorized("auth-other-scheme", "GET", "/changes", "Token ${token}"),
    unauthorized(
        "auth-truncated-token", "DELETE", "/files/${a_file_id}", "${token_cut}"
    ),
    BadInput(
        "auth-missing-before-a-bad-body",
        "POST",
        "/files",
        401,
        "Unauthorized",
        b"{not json",
        {"Authorization": None, "Content-Type": "text/plain"},
    ),
]

OVERSIZED_BODIES = [
    raw_case(
        "body-7-mb",
        document({"name": "big.txt", "size": 12, "pad": "x" * (7 * 1024 * 1024)}),
        "PayloadTooLarge",
        413,
    ),
    raw_case(
        "body-16-kib-and-one-byte",
        b" " * (MAX_BODY_BYTES + 1 - len(document(A_VALID_BODY)))
        + document(A_VALID_BODY),
        "PayloadTooLarge",
        413,
    ),
]

LISTING_QUERIES = [
    get("list-limit-zero", "/files?limit=0", "ValidationError"),
    get("list-limit-1001", "/files?limit=1001", "ValidationError"),
    get("list-limit-abc", "/files?limit=abc", "ValidationError"),
    get("list-limit-negative", "/files?limit=-1", "ValidationError"),
    get("list-limit-float", "/files?limit=1.5", "ValidationError"),
    get("list-limit-repeated", "/files?limit=1&limit=2", "BadRequest"),
    get("list-limit-empty", "/files?limit=", "ValidationError"),
    get("list-limit-plus-sign", "/files?limit=%2B5", "ValidationError"),
    get("list-limit-leading-space", "/files?limit=%205", "ValidationError"),
    get("list-limit-exponent", "/files?limit=1e3", "ValidationError"),
    get("list-limit-huge", "/files?limit=" + "9" * 30, "ValidationError"),
    get("list-limit-fullwidth-digit", "/files?limit=%EF%BC%95", "ValidationError"),
    get("list-unknown-parameter", "/files?bogus=1", "ValidationError"),
    get("list-capitalised-limit", "/files?Limit=5", "ValidationError"),
    get("list-delimiter-not-slash", "/files?delimiter=%7C", "ValidationError"),
    get("list-prefix-too-long", "/files?prefix=" + "p" * 1025, "ValidationError"),
    get("list-cursor-altered", "/files?cursor=${a_listing_altered}", "InvalidCursor"),
    get("list-cursor-truncated", "/files?cursor=${a_listing_cut}", "InvalidCursor"),
    get("list-cursor-other-user", "/files?cursor=${b_listing}", "InvalidCursor"),
    get(
        "list-cursor-other-prefix",
        "/files?prefix=cat%2F&cursor=${a_listing}",
        "InvalidCursor",
    ),
    get(
        "list-cursor-other-delimiter",
        "/files?delimiter=%2F&cursor=${a_listing}",
        "InvalidCursor",
    ),
    get("list-cursor-from-changes", "/files?cursor=${a_changes}", "InvalidCursor"),
    get("list-cursor-garbage", "/files?cursor=not-a-cursor", "InvalidCursor"),
    get("list-cursor-empty", "/files?cursor=", "InvalidCursor"),
    get("list-cursor-not-ascii", "/files?cursor=%C3%A9", "InvalidCursor"),
    get("list-cursor-too-long", "/files?cursor=" + "c" * 12_289, "ValidationError"),
    get(
        "list-cursor-repeated",
        "/files?cursor=${a_listing}&cursor=${a_listing}",
        "BadRequest",
    ),
]

CHANGES_QUERIES = [
    get("changes-limit-zero", "/changes?limit=0", "ValidationError"),
    get("changes-limit-1001", "/changes?limit=1001", "ValidationError"),
    get("changes-limit-abc", "/changes?limit=abc", "ValidationError"),
    get("changes-limit-negative", "/changes?limit=-1", "ValidationError"),
    get("changes-limit-float", "/changes?limit=1.5", "ValidationError"),
    get("changes-limit-repeated", "/changes?limit=5&limit=5", "BadRequest"),
    get("changes-unknown-parameter", "/changes?since=0", "ValidationError"),
    get(
        "changes-cursor-altered",
        "/changes?cursor=${a_changes_altered}",
        "InvalidCursor",
    ),
    get(
        "changes-cursor-truncated", "/changes?cursor=${a_changes_cut}", "InvalidCursor"
    ),
    get("changes-cursor-other-user", "/changes?cursor=${b_changes}", "InvalidCursor"),
    get("changes-cursor-from-listing", "/changes?cursor=${a_listing}", "InvalidCursor"),
    get("changes-cursor-empty", "/changes?cursor=", "InvalidCursor"),
    get("changes-cursor-too-long", "/changes?cursor=" + "c" * 1025, "ValidationError"),
]

FILE_IDS = [
    not_found("id-unknown-describe", "GET", "/files/" + "0123456789abcdef" * 2),
    not_found("id-unknown-delete", "DELETE", "/files/" + "fedcba9876543210" * 2),
    not_found("id-uppercased", "GET", "/files/${a_file_id_upper}"),
    not_found("id-one-short", "GET", "/files/${a_file_id_short}"),
    not_found("id-one-long", "DELETE", "/files/${a_file_id}0"),
    not_found("id-trailing-newline", "DELETE", "/files/${a_file_id}%0A"),
    not_found("id-leading-space", "GET", "/files/%20${a_file_id}"),
    not_found("id-path-traversal", "GET", "/files/..%2Fetc%2Fpasswd"),
    not_found("id-nul", "DELETE", "/files/%00"),
    not_found("id-not-ascii", "GET", "/files/%C3%A9"),
    not_found("id-5000-chars", "DELETE", "/files/" + "a" * 5000),
    not_found("id-of-another-user-describe", "GET", "/files/${b_file_id}"),
    not_found("id-of-another-user-delete", "DELETE", "/files/${b_file_id}"),
]

# A trace id that breaks the rules is replaced, never the reason for a refusal.
ODD_TRACE_IDS = [
    BadInput(
        "trace-id-65-chars",
        "GET",
        "/files?limit=0",
        400,
        "ValidationError",
        headers={"X-Trace-Id": "t" * 65},
    ),
    BadInput(
        "trace-id-with-spaces",
        "GET",
        "/files/%00",
        404,
        "FileNotFound",
        headers={"X-Trace-Id": "my trace id"},
    ),
    BadInput(
        "trace-id-empty",
        "DELETE",
        "/files/%00",
        404,
        "FileNotFound",
        headers={"X-Trace-Id": ""},
    ),
]

IDEMPOTENCY_KEYS = [
    raw_case(
        f"idempotency-key-{label}",
        document(A_VALID_BODY),
        "ValidationError",
        headers={"Idempotency-Key": key},
    )
    for label, key in (
        ("empty", ""),
        ("too-long", "k" * 256),
        ("with-space", "two words"),
        ("non-ascii", "cl\u00e9"),
    )
] + [
    # The world's setup created cat/keyed.txt with this key.
    raw_case(
        "idempotency-key-reused-for-another-file",
        document(A_VALID_BODY),
        "IdempotencyKeyReused",
        422,
        {"Idempotency-Key": "bad-input-used-key"},
    ),
]

QUOTAS = [
    # The world's setup filled this user's bytes with two pending 5 GiB files.
    BadInput(
        "quota-one-byte-too-many",
        "POST",
        "/files",
        403,
        "QuotaExceeded",
        document({"name": "one-more.txt", "size": 1}),
        {"Authorization": "${full_token}"},
    ),
]

USAGE = [
    unauthorized("auth-missing-usage", "GET", "/usage", None),
    unauthorized("auth-garbage-usage", "GET", "/usage", "Bearer x.y.z"),
    get("usage-with-a-query", "/usage?files=1", "ValidationError"),
    get("latest-with-a-query", "/changes/latest?cursor=x", "ValidationError"),
    get("describe-with-a-query", "/files/${a_file_id}?download=1", "ValidationError"),
    BadInput(
        "create-with-a-query",
        "POST",
        "/files?prefix=a",
        400,
        "ValidationError",
        document(A_VALID_BODY),
    ),
    BadInput(
        "trash-with-a-body",
        "POST",
        "/files/${a_file_id}/trash",
        400,
        "BadRequest",
        document({"x": 1}),
    ),
    BadInput(
        "delete-with-a-body",
        "DELETE",
        "/files/${a_file_id}",
        400,
        "BadRequest",
        document({"x": 1}),
    ),
]


def rename_case(
    case_id: str,
    body: bytes | None,
    code: str,
    status: int = 400,
    path: str = "/files/${a_file_id}",
    headers: Mapping[str, str | None] | None = None,
) -> BadInput:
    """PATCH /files/{id}, renaming one of user A's files."""
    return BadInput(case_id, "PATCH", path, status, code, body, headers or {})


RENAMES = [
    rename_case("rename-dot-dot", document({"name": "../etc/passwd"}), "InvalidName"),
    rename_case("rename-trailing-slash", document({"name": "cat/"}), "InvalidName"),
    rename_case("rename-rtl-override", document({"name": "a\u202eb"}), "InvalidName"),
    rename_case("rename-name-missing", document({}), "ValidationError"),
    rename_case("rename-name-number", document({"name": 7}), "ValidationError"),
    rename_case(
        "rename-extra-size", document({"name": "b.txt", "size": 1}), "ValidationError"
    ),
    rename_case("rename-not-json", b"{name: b.txt}", "BadRequest"),
    rename_case("rename-json-array", document(["b.txt"]), "BadRequest"),
    rename_case(
        "rename-content-type-text",
        document({"name": "b.txt"}),
        "UnsupportedMediaType",
        415,
        headers={"Content-Type": "text/plain"},
    ),
    rename_case(
        "rename-body-16-kib-and-one-byte",
        document({"name": "b.txt", "pad": "x" * MAX_BODY_BYTES}),
        "PayloadTooLarge",
        413,
    ),
    # The world's setup gave user A both cat/one.txt and cat/two.txt.
    rename_case(
        "rename-onto-a-taken-name",
        document({"name": "cat/two.txt"}),
        "NameConflict",
        409,
    ),
    rename_case(
        "rename-with-a-query",
        document({"name": "b.txt"}),
        "ValidationError",
        path="/files/${a_file_id}?overwrite=1",
    ),
    rename_case(
        "rename-unknown-id",
        document({"name": "b.txt"}),
        "FileNotFound",
        404,
        path="/files/" + "0123456789abcdef" * 2,
    ),
    rename_case(
        "rename-id-of-another-user",
        document({"name": "b.txt"}),
        "FileNotFound",
        404,
        path="/files/${b_file_id}",
    ),
    rename_case(
        "auth-missing-rename",
        document({"name": "b.txt"}),
        "Unauthorized",
        401,
        headers={"Authorization": None},
    ),
]

TRASH = [
    not_found(
        "trash-unknown-id", "POST", "/files/" + "0123456789abcdef" * 2 + "/trash"
    ),
    not_found("trash-id-of-another-user", "POST", "/files/${b_file_id}/trash"),
    not_found("trash-id-malformed", "POST", "/files/..%2Fx/trash"),
    BadInput(
        "trash-a-pending-file",
        "POST",
        "/files/${a_pending_id}/trash",
        409,
        "FileStateConflict",
    ),
    BadInput(
        "trash-with-a-query",
        "POST",
        "/files/${a_file_id}/trash?forever=1",
        400,
        "ValidationError",
    ),
    unauthorized("auth-missing-trash", "POST", "/files/${a_file_id}/trash", None),
    BadInput(
        "restore-an-available-file",
        "POST",
        "/files/${a_file_id}/restore",
        409,
        "FileStateConflict",
    ),
    not_found("restore-unknown-id", "POST", "/files/" + "f" * 32 + "/restore"),
    not_found("restore-id-of-another-user", "POST", "/files/${b_file_id}/restore"),
    unauthorized(
        "auth-garbage-restore", "POST", "/files/${a_file_id}/restore", "Bearer x.y.z"
    ),
    get("trash-list-limit-zero", "/trash?limit=0", "ValidationError"),
    get("trash-list-limit-abc", "/trash?limit=abc", "ValidationError"),
    get("trash-list-unknown-parameter", "/trash?prefix=a", "ValidationError"),
    get("trash-list-cursor-garbage", "/trash?cursor=nope", "InvalidCursor"),
    get(
        "trash-list-cursor-of-a-listing", "/trash?cursor=${a_listing}", "InvalidCursor"
    ),
    unauthorized("auth-missing-trash-list", "GET", "/trash", None),
]

CASES = (
    MALFORMED_JSON
    + WRONG_TYPES
    + MISSING_AND_EXTRA_FIELDS
    + NUMBERS
    + OTHER_FIELDS
    + HOSTILE_NAMES
    + ODD_HEADERS
    + OVERSIZED_BODIES
    + LISTING_QUERIES
    + CHANGES_QUERIES
    + FILE_IDS
    + ODD_TRACE_IDS
    + IDEMPOTENCY_KEYS
    + QUOTAS
    + USAGE
    + RENAMES
    + TRASH
)


# --- the world the cases run in -----------------------------------------------


@dataclass
class World:
    """Two users with files, their cursors, and the last snapshot taken."""

    api_url: str
    values: dict[str, str]
    inspector: Inspector
    last: Snapshot

    def fill(self, text: str, in_url: bool) -> str:
        values = (
            {k: quote(v, safe="") for k, v in self.values.items()}
            if in_url
            else self.values
        )
        return Template(text).substitute(values)


def altered(cursor: str) -> str:
    """The cursor with one character of its payload changed."""
    middle = cursor.index(".") // 2
    swapped = "B" if cursor[middle] == "A" else "A"
    return cursor[:middle] + swapped + cursor[middle + 1 :]


def first_page_cursor(api_url: str, user: User) -> str:
    answer = requests.get(
        f"{api_url}/files",
        params={"limit": 1},
        headers=user.headers,
        timeout=HTTP_TIMEOUT,
    )
    assert answer.status_code == 200, answer.text
    cursor = answer.json()["next_cursor"]
    assert cursor, "two files must make two pages"
    return str(cursor)


def changes_cursor(api_url: str, user: User) -> str:
    answer = requests.get(
        f"{api_url}/changes/latest", headers=user.headers, timeout=HTTP_TIMEOUT
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["cursor"])


@pytest.fixture(scope="module")
def world(stack: dict[str, Any]) -> World:
    api_url = stack["api_url"]
    a, b = demo_user(stack), new_user(stack, "bad-input-b")
    a_file = available_file(stack, a, "cat/one.txt")
    available_file(stack, a, "cat/two.txt")
    b_file = available_file(stack, b, "cat/one.txt")
    available_file(stack, b, "cat/two.txt")
    keyed = requests.post(
        f"{api_url}/files",
        json={"name": "cat/keyed.txt", "size": 3},
        headers=a.headers | {"Idempotency-Key": "bad-input-used-key"},
        timeout=HTTP_TIMEOUT,
    )
    assert keyed.status_code == 201, keyed.text
    full = new_user(stack, "bad-input-full")
    for half in ("half-1.bin", "half-2.bin"):
        filled = requests.post(
            f"{api_url}/files",
            json={"name": half, "size": 5 * GIB},
            headers=full.headers,
            timeout=HTTP_TIMEOUT,
        )
        assert filled.status_code == 201, filled.text
    a_listing, a_changes = first_page_cursor(api_url, a), changes_cursor(api_url, a)
    a_id = a_file["file_id"]
    values = {
        "token": a.token,
        "token_cut": a.token[:-10],
        "full_token": full.token,
        "a_file_id": a_id,
        "a_file_id_upper": a_id.upper(),
        "a_file_id_short": a_id[:-1],
        "b_file_id": b_file["file_id"],
        "a_pending_id": keyed.json()["file_id"],
        "a_listing": a_listing,
        "a_listing_altered": altered(a_listing),
        "a_listing_cut": a_listing[:-6],
        "b_listing": first_page_cursor(api_url, b),
        "a_changes": a_changes,
        "a_changes_altered": altered(a_changes),
        "a_changes_cut": a_changes[:-6],
        "b_changes": changes_cursor(api_url, b),
    }
    inspector = Inspector(stack)
    return World(api_url, values, inspector, inspector.settle())


def send(case: BadInput, world: World) -> requests.Response:
    headers: dict[str, str | None] = {
        "Authorization": "${token}",
        "X-Trace-Id": f"bad-input-{case.id}",
    }
    if case.body is not None:
        headers["Content-Type"] = "application/json"
    headers.update(case.headers)
    sent = {
        name: world.fill(value, in_url=False)
        for name, value in headers.items()
        if value is not None
    }
    return requests.request(
        case.method,
        world.api_url + world.fill(case.path, in_url=True),
        data=case.body,
        headers=sent,
        timeout=HTTP_TIMEOUT,
    )


# --- the test -----------------------------------------------------------------


def route_of(case: BadInput) -> str:
    path = case.path.split("?")[0]
    if path.startswith("/files/"):
        action = path.rsplit("/", 1)[-1]
        path = "/files/{id}" + (f"/{action}" if action in ("trash", "restore") else "")
    return f"{case.method} {path}"


def test_the_catalogue_covers_every_route_with_at_least_sixty_cases() -> None:
    assert {route_of(case) for case in CASES} == {
        "POST /files",
        "GET /files",
        "GET /files/{id}",
        "DELETE /files/{id}",
        "PATCH /files/{id}",
        "POST /files/{id}/trash",
        "POST /files/{id}/restore",
        "GET /trash",
        "GET /changes",
        "GET /changes/latest",
        "GET /usage",
    }
    assert len(CASES) >= 60
    assert all(400 <= case.status < 500 for case in CASES)
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_bad_input_is_a_json_4xx_that_changes_nothing(
    case: BadInput, world: World
) -> None:
    answer = send(case, world)

    after = world.inspector.snapshot()
    before, world.last = world.last, after
    assert answer.status_code == case.status, answer.text[:500]
    assert error_of(answer)["Code"] == case.code, answer.text[:500]
    sent_trace = case.headers.get("X-Trace-Id", f"bad-input-{case.id}")
    returned_trace = answer.headers["X-Trace-Id"]
    if sent_trace and TRACE_ID.fullmatch(sent_trace):
        assert returned_trace == sent_trace
    else:
        assert returned_trace != sent_trace
    assert after.items == before.items, "the index changed"
    assert after.objects == before.objects, "the bucket changed"
    assert after.bus_events == before.bus_events, "an event went on the bus"
