"""Listing cursors: opaque, signed, and bound to one user's one query."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from chalicelib.cursors import CursorCodec
from chalicelib.errors import InvalidCursorError

QUERY = {"prefix": "docs/", "delimiter": "/"}
POSITION = {"pk": "USER#user-a", "sk": "FILE#0123", "list_sk": "docs/é.txt"}
NOT_OURS = "cursor is not one this API issued"
ANOTHER_LISTING = "cursor belongs to another listing or feed, or to another user"


def _swap_middle_character(cursor: str) -> str:
    middle = len(cursor.partition(".")[0]) // 2
    replacement = "A" if cursor[middle] != "A" else "B"
    return cursor[:middle] + replacement + cursor[middle + 1 :]


def test_a_cursor_leads_back_to_the_position_it_was_made_from(
    cursors: CursorCodec,
) -> None:
    cursor = cursors.encode("user-a", QUERY, POSITION)

    assert cursors.decode("user-a", QUERY, cursor) == POSITION


def test_a_cursor_is_url_safe_and_does_not_show_the_position_in_clear(
    cursors: CursorCodec,
) -> None:
    cursor = cursors.encode("user-a", QUERY, POSITION)

    assert set(cursor) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
    )
    assert "docs" not in cursor


@pytest.mark.parametrize(
    "alter",
    [
        _swap_middle_character,
        lambda cursor: cursor[:-5],
        lambda cursor: cursor[: len(cursor) // 2],
        lambda cursor: cursor.partition(".")[0],
        lambda cursor: "garbage",
        lambda cursor: "é" + cursor,
        lambda cursor: "...",
    ],
    ids=[
        "altered-middle",
        "cut-short",
        "cut-in-half",
        "no-signature",
        "garbage",
        "non-ascii",
        "dots",
    ],
)
def test_an_altered_cursor_is_refused(
    cursors: CursorCodec, alter: Callable[[str], str]
) -> None:
    cursor = alter(cursors.encode("user-a", QUERY, POSITION))

    with pytest.raises(InvalidCursorError) as caught:
        cursors.decode("user-a", QUERY, cursor)

    assert caught.value.message == NOT_OURS
    assert caught.value.status == 400


def test_another_users_cursor_is_refused(cursors: CursorCodec) -> None:
    cursor = cursors.encode("user-a", QUERY, POSITION)

    with pytest.raises(InvalidCursorError) as caught:
        cursors.decode("user-b", QUERY, cursor)

    assert caught.value.message == ANOTHER_LISTING


@pytest.mark.parametrize(
    "other_query",
    [
        {"prefix": "docs/2026/", "delimiter": "/"},
        {"prefix": "docs/", "delimiter": None},
        {"prefix": "", "delimiter": None},
    ],
)
def test_a_cursor_of_another_query_is_refused(
    cursors: CursorCodec, other_query: dict[str, object]
) -> None:
    cursor = cursors.encode("user-a", QUERY, POSITION)

    with pytest.raises(InvalidCursorError) as caught:
        cursors.decode("user-a", other_query, cursor)

    assert caught.value.message == ANOTHER_LISTING


def test_a_cursor_signed_with_another_secret_is_refused() -> None:
    cursor = CursorCodec(b"another deployment").encode("user-a", QUERY, POSITION)

    with pytest.raises(InvalidCursorError) as caught:
        CursorCodec(b"ours").decode("user-a", QUERY, cursor)

    assert caught.value.message == NOT_OURS
