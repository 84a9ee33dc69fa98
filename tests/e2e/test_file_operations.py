"""A mixed session of file operations over HTTP, then an audit of the result.

One user renames, moves, trashes, restores and deletes files on the whole
local stack; then the change feed, the listings, the trash and the bucket
must tell the same story: every byte where the index says it is, and no
object without a record to own it.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.e2e.helpers import (
    CONTENT,
    HTTP_TIMEOUT,
    Inspector,
    User,
    available_file,
    new_user,
    subject_of,
)
from tests.e2e.stack import aws_client, wait_until

pytestmark = pytest.mark.e2e


def _call(
    stack: dict[str, Any], user: User, method: str, path: str, **kwargs: Any
) -> requests.Response:
    return requests.request(
        method,
        stack["api_url"] + path,
        headers=user.headers,
        timeout=HTTP_TIMEOUT,
        **kwargs,
    )


def _ok(answer: requests.Response, status: int = 200) -> Any:
    assert answer.status_code == status, answer.text
    return answer.json()


def _every_page(stack: dict[str, Any], user: User, path: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = _ok(_call(stack, user, "GET", path, params=params))
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


def _feed(stack: dict[str, Any], user: User, cursor: str) -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = []
    while True:
        page = _ok(_call(stack, user, "GET", "/changes", params={"cursor": cursor}))
        changes += page["changes"]
        cursor = page["cursor"]
        if not page["has_more"]:
            return changes


def test_renames_trash_and_restores_leave_feed_listings_and_bucket_agreeing(
    stack: dict[str, Any],
) -> None:
    user = new_user(stack, "fileops")
    start = _ok(_call(stack, user, "GET", "/changes/latest"))["cursor"]
    report = available_file(stack, user, "inbox/report.txt")
    notes = available_file(stack, user, "inbox/notes.txt")
    photo = available_file(stack, user, "photo.txt")
    scrap = available_file(stack, user, "scrap.txt")

    # Move the report, trash the notes and take their name, restore them.
    moved = _ok(
        _call(
            stack,
            user,
            "PATCH",
            f"/files/{report['file_id']}",
            json={"name": "archive/2026/report.txt"},
        )
    )
    _ok(_call(stack, user, "POST", f"/files/{notes['file_id']}/trash"))
    taker = available_file(stack, user, "inbox/notes.txt")
    restored = _ok(_call(stack, user, "POST", f"/files/{notes['file_id']}/restore"))
    # Trash the photo and leave it there; trash the scrap and delete it.
    _ok(_call(stack, user, "POST", f"/files/{photo['file_id']}/trash"))
    _ok(_call(stack, user, "POST", f"/files/{scrap['file_id']}/trash"))
    _ok(_call(stack, user, "DELETE", f"/files/{scrap['file_id']}"), 202)
    Inspector(stack).settle()

    assert moved["name"] == "archive/2026/report.txt"
    assert restored["name"] == "inbox/notes (1).txt"
    listed = {f["name"]: f["file_id"] for f in _every_page(stack, user, "/files")}
    assert listed == {
        "archive/2026/report.txt": report["file_id"],
        "inbox/notes (1).txt": notes["file_id"],
        "inbox/notes.txt": taker["file_id"],
    }
    folders = _ok(_call(stack, user, "GET", "/files", params={"delimiter": "/"}))
    assert [f["name"] for f in folders["folders"]] == ["archive/", "inbox/"]
    trash = _every_page(stack, user, "/trash")
    assert [f["file_id"] for f in trash] == [photo["file_id"]]
    assert _call(stack, user, "GET", f"/files/{scrap['file_id']}").status_code == 404

    # The feed tells each file's story, in its own order.
    stories: dict[str, list[tuple[str, str, str | None]]] = {}
    for change in _feed(stack, user, start):
        stories.setdefault(change["file_id"], []).append(
            (
                change["sequence"],
                change["type"],
                change["name"],
                change["previous_name"],
            )
        )
    told = {
        file_id: [entry[1:] for entry in sorted(entries)]
        for file_id, entries in stories.items()
    }
    assert told == {
        report["file_id"]: [
            ("created", "inbox/report.txt", None),
            ("renamed", "archive/2026/report.txt", "inbox/report.txt"),
        ],
        notes["file_id"]: [
            ("created", "inbox/notes.txt", None),
            ("trashed", "inbox/notes.txt", None),
            ("restored", "inbox/notes (1).txt", "inbox/notes.txt"),
        ],
        taker["file_id"]: [("created", "inbox/notes.txt", None)],
        photo["file_id"]: [
            ("created", "photo.txt", None),
            ("trashed", "photo.txt", None),
        ],
        scrap["file_id"]: [
            ("created", "scrap.txt", None),
            ("trashed", "scrap.txt", None),
            ("deleted", "scrap.txt", None),
        ],
    }

    # Every byte where the index says it is, and nothing orphaned.
    owner = subject_of(user.token)
    s3 = aws_client(stack, "s3")
    listing = s3.list_objects_v2(Bucket=stack["bucket"], Prefix=f"files/{owner}/")
    keys = {entry["Key"] for entry in listing.get("Contents", [])}
    kept = [report, notes, taker, photo]
    assert keys == {f"files/{owner}/{f['file_id']}" for f in kept}
    for key in keys:
        body = s3.get_object(Bucket=stack["bucket"], Key=key)["Body"].read()
        assert body == CONTENT
    usage = _ok(_call(stack, user, "GET", "/usage"))
    assert usage["files"]["used"] == len(kept)
    assert usage["bytes"]["used"] == len(kept) * len(CONTENT)

    def downloaded() -> bytes | None:
        details = _ok(_call(stack, user, "GET", f"/files/{notes['file_id']}"))
        answer = requests.get(details["download_url"], timeout=HTTP_TIMEOUT)
        return answer.content if answer.status_code == 200 else None

    assert wait_until(downloaded, "the restored file to download") == CONTENT
