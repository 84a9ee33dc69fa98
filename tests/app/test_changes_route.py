"""The change feed through the app: the consumer records, GET /changes reads."""

from __future__ import annotations

from typing import Any

from tests.app.conftest import BOB, FileManager, Stack


def _changes(files: FileManager, cursor: str | None = None, **query: Any) -> Any:
    params = {"cursor": cursor, **query} if cursor else dict(query)
    path = "/changes"
    if params:
        path += "?" + "&".join(f"{k}={v}" for k, v in params.items())
    return files.get(path)


def _summary(answer: Any) -> list[tuple[str, str, int]]:
    return [(c["type"], c["file_id"], c["sequence"]) for c in answer["changes"]]


def test_an_upload_and_a_delete_each_appear_once_in_the_feed_in_order(
    files: FileManager, stack: Stack
) -> None:
    file_id = files.add("notes/a.txt")
    files.run_change_feed()
    assert files.delete(file_id).status_code == 202
    files.run_delete_consumer()
    files.run_change_feed()

    answer = _changes(files)

    assert answer.status_code == 200
    assert _summary(answer.json_body) == [
        ("created", file_id, 1),
        ("deleted", file_id, 3),
    ]
    assert answer.json_body["changes"][0]["name"] == "notes/a.txt"
    assert answer.json_body["has_more"] is False


def test_a_cursor_returns_only_what_changed_after_it(
    files: FileManager, stack: Stack
) -> None:
    first = files.add("a.txt")
    files.run_change_feed()
    cursor = _changes(files).json_body["cursor"]
    second = files.add("b.txt")
    files.run_change_feed()

    answer = _changes(files, cursor)

    assert _summary(answer.json_body) == [("created", second, 1)]
    assert first != second


def test_the_latest_cursor_reads_no_history(files: FileManager, stack: Stack) -> None:
    files.add("old.txt")
    files.run_change_feed()

    latest = files.get("/changes/latest")
    answer = _changes(files, latest.json_body["cursor"])

    assert latest.status_code == 200
    assert answer.json_body["changes"] == []
    assert answer.json_body["has_more"] is False


def test_pages_follow_each_other_with_has_more_until_the_last(
    files: FileManager, stack: Stack
) -> None:
    ids = [files.add(f"f{i}.txt") for i in range(5)]
    files.run_change_feed()

    first = _changes(files, limit=2).json_body
    second = _changes(files, first["cursor"], limit=2).json_body
    third = _changes(files, second["cursor"], limit=2).json_body

    seen = [c["file_id"] for page in (first, second, third) for c in page["changes"]]
    assert sorted(seen) == sorted(ids)
    assert [first["has_more"], second["has_more"], third["has_more"]] == [
        True,
        True,
        False,
    ]


def test_events_delivered_twice_are_recorded_once(
    files: FileManager, stack: Stack
) -> None:
    files.add("once.txt")
    delivered = files.run_change_feed()
    before = _changes(files).json_body["changes"]

    event = files.sqs_event(delivered, stack.feed)
    files.client.lambda_.invoke("on_change_event", event)

    assert _changes(files).json_body["changes"] == before
    assert len(before) == 1


def test_a_user_sees_only_their_own_changes(files: FileManager, stack: Stack) -> None:
    files.add("private.txt")
    files.run_change_feed()

    answer = files.get("/changes", sub=BOB)

    assert answer.status_code == 200
    assert answer.json_body["changes"] == []


def test_another_users_cursor_is_refused(files: FileManager, stack: Stack) -> None:
    cursor = files.get("/changes/latest").json_body["cursor"]

    answer = files.get(f"/changes?cursor={cursor}", sub=BOB)

    assert answer.status_code == 400
    assert answer.json_body["Code"] == "InvalidCursor"


def test_a_listing_cursor_is_no_change_cursor(files: FileManager, stack: Stack) -> None:
    files.add("a.txt")
    files.add("b.txt")
    listing_cursor = files.get("/files?limit=1").json_body["next_cursor"]

    answer = _changes(files, listing_cursor)

    assert answer.status_code == 400
    assert answer.json_body["Code"] == "InvalidCursor"


def test_a_bad_limit_is_a_400_that_names_it(files: FileManager, stack: Stack) -> None:
    answer = files.get("/changes?limit=0")

    assert answer.status_code == 400
    assert answer.json_body["Code"] == "ValidationError"
    assert answer.json_body["Details"][0]["field"] == "limit"


def test_the_feed_needs_a_token(files: FileManager, stack: Stack) -> None:
    answer = files.client.http.get("/changes")

    assert answer.status_code == 401
    assert answer.json_body["Code"] == "Unauthorized"
