"""PATCH /files/{file_id}: rename and move, through the app on moto."""

from __future__ import annotations

from typing import Any

from tests.app.conftest import BOB, FileManager, Stack


def _listed(files: FileManager, query: str = "") -> list[str]:
    page = files.get(f"/files{query}").json_body
    return [f["name"] for f in page["folders"]] + [i["name"] for i in page["items"]]


def _changes(files: FileManager) -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = files.get("/changes").json_body["changes"]
    return changes


def test_a_move_answers_the_file_renames_it_everywhere_and_keeps_its_bytes(
    files: FileManager, stack: Stack
) -> None:
    file_id = files.add("inbox/report.txt", b"the bytes")
    files.add("inbox/other.txt")
    keys_before = stack.object_keys()
    stack.published()

    answer = files.rename(file_id, "archive/2026/report.txt")

    assert answer.status_code == 200, answer.json_body
    assert answer.json_body["name"] == "archive/2026/report.txt"
    assert answer.json_body["status"] == "AVAILABLE"
    assert stack.object_keys() == keys_before
    assert _listed(files, "?delimiter=/") == ["archive/", "inbox/"]
    assert _listed(files, "?prefix=inbox/") == ["inbox/other.txt"]
    details = files.get(f"/files/{file_id}").json_body
    assert details["name"] == "archive/2026/report.txt"
    assert "report.txt" in details["download_url"]
    assert stack.published_types() == ["FileRenamed"]


def test_a_rename_shows_in_the_change_feed_with_both_names(
    files: FileManager, stack: Stack
) -> None:
    file_id = files.add("a.txt")
    files.rename(file_id, "b.txt")

    files.run_change_feed()

    assert [
        (c["type"], c["name"], c["previous_name"], c["sequence"])
        for c in _changes(files)
    ] == [("created", "a.txt", None, 1), ("renamed", "b.txt", "a.txt", 2)]


def test_renaming_onto_a_taken_name_is_a_409_that_changes_nothing(
    files: FileManager, stack: Stack
) -> None:
    file_id = files.add("a.txt")
    files.add("b.txt")
    items_before = stack.table_items()
    stack.published()

    answer = files.rename(file_id, "b.txt")

    assert answer.status_code == 409
    assert answer.json_body["Code"] == "NameConflict"
    assert answer.json_body["Details"] == {"name": "b.txt"}
    assert stack.table_items() == items_before
    assert stack.published() == []


def test_a_file_being_deleted_cannot_be_renamed(files: FileManager) -> None:
    file_id = files.add("a.txt")
    files.delete(file_id)

    answer = files.rename(file_id, "b.txt")

    assert answer.status_code == 409
    assert answer.json_body["Code"] == "FileStateConflict"


def test_the_same_name_is_a_200_that_publishes_nothing(
    files: FileManager, stack: Stack
) -> None:
    file_id = files.add("a.txt")
    stack.published()

    answer = files.rename(file_id, "a.txt")

    assert answer.status_code == 200
    assert stack.published() == []


def test_a_bad_name_or_body_is_a_400_and_another_users_file_a_404(
    files: FileManager,
) -> None:
    file_id = files.add("a.txt")

    bad_name = files.rename(file_id, "a/../b")
    extra = files.client.http.patch(
        f"/files/{file_id}",
        headers=files.headers(**{"Content-Type": "application/json"}),
        body='{"name": "b.txt", "folder": "x"}',
    )
    theirs = files.rename(file_id, "mine.txt", sub=BOB)

    assert (bad_name.status_code, bad_name.json_body["Code"]) == (400, "InvalidName")
    assert (extra.status_code, extra.json_body["Code"]) == (400, "ValidationError")
    assert (theirs.status_code, theirs.json_body["Code"]) == (404, "FileNotFound")
    assert files.get(f"/files/{file_id}").json_body["name"] == "a.txt"
