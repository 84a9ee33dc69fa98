"""GET /files: one page of available files, folders, and signed cursors."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

import pytest

from tests.app.conftest import BOB, TABLE, FileManager, Stack

ANOTHER_LISTING = "cursor belongs to another listing or feed, or to another user"
NOT_OURS = "cursor is not one this API issued"


def _list(files: FileManager, sub: str | None = None, **query: Any) -> Any:
    path = "/files"
    if query:
        path += "?" + urlencode(query, quote_via=quote)
    return files.get(path) if sub is None else files.get(path, sub=sub)


def _names(answer: Any) -> list[str]:
    return [f["name"] for f in answer.json_body["folders"]] + [
        i["name"] for i in answer.json_body["items"]
    ]


def test_an_empty_listing_has_its_whole_shape(files: FileManager, stack: Stack) -> None:
    answer = _list(files)

    assert answer.status_code == 200
    assert answer.json_body == {"items": [], "folders": [], "next_cursor": None}


def test_a_listing_shows_available_files_with_their_metadata_only(
    files: FileManager, stack: Stack
) -> None:
    file_id = files.add("b.txt", b"hello")
    files.add("a.txt", b"hi")
    files.create("a-pending.txt")
    files.add("theirs.txt", sub=BOB)

    answer = _list(files)

    assert [i["name"] for i in answer.json_body["items"]] == ["a.txt", "b.txt"]
    item = answer.json_body["items"][1]
    assert item["file_id"] == file_id
    assert (item["size"], item["content_type"], item["status"]) == (
        5,
        "text/plain",
        "AVAILABLE",
    )
    assert item["created_at"].endswith("Z")
    assert item["uploaded_at"] is not None
    assert "download_url" not in item


def test_a_delimiter_lists_one_folder_and_its_immediate_subfolders(
    files: FileManager, stack: Stack
) -> None:
    for name in ("top.txt", "docs/a.txt", "docs/2026/b.txt", "docs/2026/q1/c.txt"):
        files.add(name)

    top = _list(files, delimiter="/")
    docs = _list(files, delimiter="/", prefix="docs/")
    everything = _list(files, prefix="docs/")

    assert (top.json_body["folders"], _names(top)) == (
        [{"name": "docs/"}],
        ["docs/", "top.txt"],
    )
    assert _names(docs) == ["docs/2026/", "docs/a.txt"]
    assert _names(everything) == [
        "docs/2026/b.txt",
        "docs/2026/q1/c.txt",
        "docs/a.txt",
    ]


def test_pages_follow_their_cursors_to_the_end_showing_each_file_once(
    files: FileManager, stack: Stack
) -> None:
    names = [f"f{n}.txt" for n in range(5)]
    for name in names:
        files.add(name)

    pages, cursor = [], None
    while True:
        query: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        answer = _list(files, **query)
        pages.append([i["name"] for i in answer.json_body["items"]])
        cursor = answer.json_body["next_cursor"]
        if cursor is None:
            break

    assert pages == [names[0:2], names[2:4], names[4:5]]


@pytest.fixture
def cursor(files: FileManager, stack: Stack) -> str:
    for n in range(3):
        files.add(f"docs/{n}.txt")
    next_cursor: str = _list(files, limit=1).json_body["next_cursor"]
    return next_cursor


def _swap_middle(cursor: str) -> str:
    middle = len(cursor) // 4
    return (
        cursor[:middle] + ("A" if cursor[middle] != "A" else "B") + cursor[middle + 1 :]
    )


@pytest.mark.parametrize(
    ("alter", "message"),
    [
        (_swap_middle, NOT_OURS),
        (lambda c: c[:-6], NOT_OURS),
        (lambda c: "not-a-cursor", NOT_OURS),
    ],
    ids=["altered-in-the-middle", "cut-short", "garbage"],
)
def test_an_altered_cursor_is_a_400(
    files: FileManager, cursor: str, alter: Any, message: str
) -> None:
    answer = _list(files, limit=1, cursor=alter(cursor))

    assert answer.status_code == 400
    assert answer.json_body == {"Code": "InvalidCursor", "Message": message}


def test_another_users_cursor_is_a_400(files: FileManager, cursor: str) -> None:
    answer = _list(files, sub=BOB, limit=1, cursor=cursor)

    assert answer.status_code == 400
    assert answer.json_body == {"Code": "InvalidCursor", "Message": ANOTHER_LISTING}


def test_a_cursor_for_another_prefix_or_delimiter_is_a_400(
    files: FileManager, cursor: str
) -> None:
    other_prefix = _list(files, limit=1, cursor=cursor, prefix="docs/")
    other_delimiter = _list(files, limit=1, cursor=cursor, delimiter="/")

    assert other_prefix.json_body["Code"] == "InvalidCursor"
    assert other_delimiter.json_body["Code"] == "InvalidCursor"


@pytest.mark.parametrize("limit", ["0", "1001", "abc", "+5", " 5", "1_0", "-1", ""])
def test_a_page_size_outside_1_to_1000_or_not_in_digits_is_a_400(
    files: FileManager, stack: Stack, limit: str
) -> None:
    answer = _list(files, limit=limit)

    assert answer.status_code == 400
    assert answer.json_body["Code"] == "ValidationError"
    assert [d["field"] for d in answer.json_body["Details"]] == ["limit"]


@pytest.mark.parametrize("limit", ["1", "1000"])
def test_a_page_size_of_1_to_1000_is_fine(
    files: FileManager, stack: Stack, limit: str
) -> None:
    answer = _list(files, limit=limit)

    assert answer.status_code == 200


def test_a_delimiter_other_than_a_slash_is_a_400(
    files: FileManager, stack: Stack
) -> None:
    answer = _list(files, delimiter="|")

    assert answer.status_code == 400
    assert answer.json_body["Details"] == [
        {"field": "delimiter", "problem": "String should match pattern '^/$'"}
    ]


def test_an_unknown_query_parameter_is_a_400(files: FileManager, stack: Stack) -> None:
    answer = _list(files, sort="name")

    assert answer.status_code == 400
    assert answer.json_body == {
        "Code": "ValidationError",
        "Message": "query is not valid: sort: Extra inputs are not permitted",
        "Details": [{"field": "sort", "problem": "Extra inputs are not permitted"}],
    }


def test_a_prefix_matches_names_whatever_unicode_form_it_is_typed_in(
    files: FileManager, stack: Stack
) -> None:
    files.add("cafe\u0301/menu.txt")

    decomposed = _list(files, prefix="cafe\u0301/")
    composed = _list(files, prefix="café/", delimiter="/")

    assert [i["name"] for i in decomposed.json_body["items"]] == ["café/menu.txt"]
    assert [i["name"] for i in composed.json_body["items"]] == ["café/menu.txt"]


def test_every_cursor_the_api_issues_is_one_it_accepts_even_for_long_names(
    files: FileManager, stack: Stack
) -> None:
    # Folders near the name limit, of characters JSON must escape, make the
    # longest positions an index can hand back.
    parent = '"' * 985 + "/"
    for child in ("a", "b", "c"):
        files.add(parent + child * 30 + "/f")

    first = _list(files, prefix=parent, delimiter="/", limit=1)
    second = _list(
        files,
        prefix=parent,
        delimiter="/",
        limit=1,
        cursor=first.json_body["next_cursor"],
    )

    assert len(first.json_body["next_cursor"]) > 5000
    assert first.json_body["folders"] == [{"name": parent + "a" * 30 + "/"}]
    assert second.status_code == 200, second.json_body
    assert second.json_body["folders"] == [{"name": parent + "b" * 30 + "/"}]


def test_when_the_index_is_unavailable_the_answer_is_a_json_503_to_retry(
    files: FileManager, stack: Stack
) -> None:
    stack.dynamodb.delete_table(TableName=TABLE)

    answer = _list(files)

    assert answer.status_code == 503
    assert answer.json_body == {
        "Code": "ServiceUnavailable",
        "Message": "list files: the index failed (ResourceNotFoundException)",
    }
    assert len(answer.headers["X-Trace-Id"]) == 32


def test_a_query_parameter_given_twice_is_a_400_that_names_it(
    files: FileManager, stack: Stack
) -> None:
    answer = files.get("/files?limit=1&limit=2")

    assert answer.status_code == 400
    assert answer.json_body == {
        "Code": "BadRequest",
        "Message": "query parameter 'limit' is given more than once",
    }
