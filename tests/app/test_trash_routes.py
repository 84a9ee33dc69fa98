"""The trash through the app on moto: trash, list, restore, delete for good."""

from __future__ import annotations

from tests.app.conftest import BOB, FileManager, Stack


def _listed(files: FileManager) -> list[str]:
    return [item["name"] for item in files.get("/files").json_body["items"]]


def test_a_file_goes_to_the_trash_and_comes_back_with_its_bytes_untouched(
    files: FileManager, stack: Stack
) -> None:
    file_id = files.add("docs/a.txt")
    keys = stack.object_keys()
    stack.published()

    trashed = files.post(f"/files/{file_id}/trash")
    in_trash = files.get("/trash").json_body
    restored = files.post(f"/files/{file_id}/restore")

    assert trashed.status_code == 200, trashed.json_body
    assert trashed.json_body["status"] == "TRASHED"
    assert trashed.json_body["trashed_at"]
    assert [item["file_id"] for item in in_trash["items"]] == [file_id]
    assert in_trash["next_cursor"] is None
    assert in_trash["retention_days"] == 30
    assert restored.status_code == 200, restored.json_body
    assert (restored.json_body["status"], restored.json_body["name"]) == (
        "AVAILABLE",
        "docs/a.txt",
    )
    assert _listed(files) == ["docs/a.txt"]
    assert files.get("/trash").json_body["items"] == []
    assert stack.object_keys() == keys
    assert stack.published_types() == ["FileRestored", "FileTrashed"]


def test_a_restore_onto_a_taken_name_takes_a_numbered_one_and_the_feed_says_so(
    files: FileManager, stack: Stack
) -> None:
    file_id = files.add("report.pdf")
    files.post(f"/files/{file_id}/trash")
    files.add("report.pdf")

    restored = files.post(f"/files/{file_id}/restore")
    files.run_change_feed()

    assert restored.json_body["name"] == "report (1).pdf"
    changes = files.get("/changes").json_body["changes"]
    mine = [
        (c["type"], c["name"], c["previous_name"])
        for c in changes
        if c["file_id"] == file_id
    ]
    assert mine == [
        ("created", "report.pdf", None),
        ("trashed", "report.pdf", None),
        ("restored", "report (1).pdf", "report.pdf"),
    ]


def test_deleting_a_trashed_file_deletes_it_for_good(
    files: FileManager, stack: Stack
) -> None:
    file_id = files.add("a.txt")
    files.post(f"/files/{file_id}/trash")

    answer = files.delete(file_id)
    files.run_delete_consumer()

    assert answer.status_code == 202
    assert files.get(f"/files/{file_id}").status_code == 404
    assert stack.object_keys() == []
    assert files.get("/trash").json_body["items"] == []
    assert files.get("/usage").json_body["files"]["used"] == 0


def test_state_and_owner_are_checked_on_trash_and_restore(
    files: FileManager,
) -> None:
    file_id = files.add("a.txt")

    not_trashed = files.post(f"/files/{file_id}/restore")
    theirs = files.post(f"/files/{file_id}/trash", sub=BOB)
    with_query = files.post(f"/files/{file_id}/trash?now=1")
    bad_limit = files.get("/trash?limit=0")

    assert (not_trashed.status_code, not_trashed.json_body["Code"]) == (
        409,
        "FileStateConflict",
    )
    assert (theirs.status_code, theirs.json_body["Code"]) == (404, "FileNotFound")
    assert with_query.status_code == 400
    assert bad_limit.status_code == 400
    assert files.get(f"/files/{file_id}").json_body["status"] == "AVAILABLE"


def test_a_body_on_a_route_that_reads_none_is_a_400_and_changes_nothing(
    files: FileManager, stack: Stack
) -> None:
    file_id = files.add("a.txt")
    headers = files.headers(**{"Content-Type": "application/json"})

    for method, path in (
        ("post", f"/files/{file_id}/trash"),
        ("post", f"/files/{file_id}/restore"),
        ("delete", f"/files/{file_id}"),
    ):
        answer = getattr(files.client.http, method)(
            path, headers=headers, body='{"x": 1}'
        )
        assert answer.status_code == 400, (path, answer.json_body)
        assert answer.json_body["Message"] == "this route takes no request body"

    assert files.get(f"/files/{file_id}").json_body["status"] == "AVAILABLE"
