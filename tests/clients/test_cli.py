"""fm against a whole local stack, run as a user runs it: a command in a
shell, its output read back, its files compared byte for byte."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.clients.conftest import Fm, fill_byte_quota, new_account
from tests.e2e.helpers import HTTP_TIMEOUT
from tests.e2e.stack import wait_until

pytestmark = pytest.mark.e2e


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_folder(root: Path) -> dict[str, Path]:
    """A small tree: text, nested folders, a binary larger than one chunk."""
    files = {
        "notes.txt": b"first line\nsecond line\n",
        "photos/cat.jpg": os.urandom(1_500_000),
        "photos/2026/dog.png": os.urandom(4096),
        "empty.bin": b"",
        "naïve café.md": "# ünïcode\n".encode(),
    }
    made = {}
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        made[name] = path
    return made


def test_a_folder_goes_up_and_comes_back_the_same(fm: Fm, tmp_path: Path) -> None:
    source = tmp_path / "trip"
    local = make_folder(source)

    put = fm.run("--json", "put", str(source), "--to", "holiday", "-j", "3")

    uploaded = {entry["name"]: entry for entry in json.loads(put.stdout)}
    assert set(uploaded) == {f"holiday/trip/{name}" for name in local}
    for name, path in local.items():
        entry = uploaded[f"holiday/trip/{name}"]
        assert entry["status"] == "AVAILABLE"
        assert entry["sha256"] == sha256(path)

    top = json.loads(fm.run("ls", "holiday/trip", "--json").stdout)
    assert [f["name"] for f in top["folders"]] == ["holiday/trip/photos/"]
    assert {i["name"] for i in top["items"]} == {
        "holiday/trip/notes.txt",
        "holiday/trip/empty.bin",
        "holiday/trip/naïve café.md",
    }
    every = json.loads(fm.run("ls", "-R", "--page-size", "2", "--json").stdout)
    assert every["pages"] == 3
    assert sorted(i["name"] for i in every["items"]) == sorted(uploaded)

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    for name, path in local.items():
        got = json.loads(
            fm.run("get", f"holiday/trip/{name}", str(downloads), "--json").stdout
        )
        assert got["sha256_checked"] is True
        assert Path(got["path"]).read_bytes() == path.read_bytes()


def test_ls_shows_folders_first_and_a_long_format(fm: Fm, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a" * 1234)
    fm.run("put", str(tmp_path / "a.txt"), "--to", "docs/2026")
    fm.run("put", str(tmp_path / "a.txt"), "--to", "docs")

    short = fm.run("ls", "docs").stdout.splitlines()
    long = fm.run("ls", "-l", "docs").stdout

    assert short == ["2026/", "a.txt"]
    assert "1.2 kB" in long
    assert hashlib.sha256(b"a" * 1234).hexdigest()[:12] in long


def test_rm_returns_once_the_change_feed_says_deleted(
    fm: Fm, stack: dict[str, Any], tmp_path: Path
) -> None:
    (tmp_path / "x.txt").write_text("x")
    (tmp_path / "y.txt").write_text("y")
    put = json.loads(
        fm.run("--json", "put", str(tmp_path / "x.txt"), str(tmp_path / "y.txt")).stdout
    )
    token = fm.id_token()

    removed = json.loads(fm.run("--json", "rm", "x.txt", "y.txt").stdout)

    assert [entry["status"] for entry in removed] == ["DELETED", "DELETED"]
    # Waiting on the feed means the records are already gone: no polling here.
    for entry in put:
        answer = requests.get(
            f"{stack['api_url']}/files/{entry['file_id']}",
            headers={"Authorization": token},
            timeout=HTTP_TIMEOUT,
        )
        assert answer.status_code == 404
    assert fm.run("ls").stdout == ""


def test_rm_r_deletes_a_whole_folder(fm: Fm, tmp_path: Path) -> None:
    make_folder(tmp_path / "tree")
    fm.run("put", str(tmp_path / "tree"))
    (tmp_path / "keep.txt").write_text("keep")
    fm.run("put", str(tmp_path / "keep.txt"))

    removed = json.loads(fm.run("--json", "rm", "-r", "tree").stdout)

    assert len(removed) == 5
    assert fm.run("ls", "-R").stdout.split() == ["keep.txt"]


def test_watch_follows_the_change_feed(fm: Fm, tmp_path: Path) -> None:
    (tmp_path / "w.txt").write_text("watched")
    watcher = fm.start(
        "--json", "watch", "--from-start", "--count", "2", "--timeout", "60"
    )
    fm.run("put", str(tmp_path / "w.txt"))
    fm.run("rm", "w.txt")

    out, err = watcher.communicate(timeout=90)

    assert watcher.returncode == 0, err
    changes = [json.loads(line) for line in out.splitlines()]
    assert [(c["type"], c["name"]) for c in changes] == [
        ("created", "w.txt"),
        ("deleted", "w.txt"),
    ]


def test_info_tells_what_the_index_knows(fm: Fm, tmp_path: Path) -> None:
    (tmp_path / "i.txt").write_text("info")
    fm.run("put", str(tmp_path / "i.txt"))

    details = json.loads(fm.run("info", "i.txt", "--json").stdout)
    by_id = json.loads(fm.run("info", details["file_id"], "--json").stdout)

    assert details["status"] == "AVAILABLE"
    assert details["size"] == 4
    assert details["sha256"] == hashlib.sha256(b"info").hexdigest()
    assert details["download_url"]
    assert by_id["name"] == "i.txt"


def test_a_stage_saved_as_a_profile_works_without_the_stack_file(
    fm: Fm, stack: dict[str, Any], tmp_path: Path
) -> None:
    deployed = Fm(stack, fm.home, tmp_path, use_stack_file=False)
    account = new_account(stack, "profile")
    (tmp_path / "p.txt").write_text("profile")
    deployed.run(
        "configure",
        "mine",
        "--api-url",
        stack["api_url"],
        "--region",
        stack["region"],
        "--user-pool-id",
        stack["user_pool_id"],
        "--client-id",
        stack["user_pool_client_id"],
        "--cognito-endpoint",
        stack["aws_endpoint_url"],
    )

    deployed.run(
        "--profile",
        "mine",
        "login",
        "-u",
        account.username,
        "--password-stdin",
        stdin=account.password,
    )
    deployed.run("--profile", "mine", "put", str(tmp_path / "p.txt"))

    assert deployed.run("--profile", "mine", "ls").stdout.split() == ["p.txt"]
    # Without a profile, fm goes back to the stage it last signed in to.
    assert deployed.run("ls").stdout.split() == ["p.txt"]


def test_an_expired_id_token_is_refreshed_without_asking(fm: Fm) -> None:
    sessions_file = fm.home / "sessions.json"
    sessions = json.loads(sessions_file.read_text())
    ((key, session),) = sessions.items()
    session["expires_at"] = 0
    sessions_file.write_text(json.dumps(sessions))

    fm.run("ls")

    renewed = json.loads(sessions_file.read_text())[key]
    assert renewed["expires_at"] > 0
    assert renewed["refresh_token"] == session["refresh_token"]
    assert oct(sessions_file.stat().st_mode & 0o777) == "0o600"


def test_a_revoked_session_asks_to_sign_in_again(fm: Fm) -> None:
    sessions_file = fm.home / "sessions.json"
    sessions = json.loads(sessions_file.read_text())
    for session in sessions.values():
        session["expires_at"] = 0
        session["refresh_token"] = "revoked"
    sessions_file.write_text(json.dumps(sessions))

    ended = fm.run("ls", expect=3)
    again = fm.run("ls", expect=3)

    assert ended.stderr.splitlines() == [
        "fm: error: your session ended (Refresh Token has been revoked): "
        "sign in again with `fm login`"
    ]
    assert "not signed in" in again.stderr


def test_errors_are_one_line_with_a_non_zero_exit(fm: Fm, tmp_path: Path) -> None:
    (tmp_path / "c.txt").write_text("conflict")
    fm.run("put", str(tmp_path / "c.txt"))

    missing = fm.run("get", "no/such/file.txt", expect=1)
    conflict = fm.run("put", str(tmp_path / "c.txt"), expect=1)
    fm.run("logout")
    signed_out = fm.run("ls", expect=3)

    assert missing.stderr == (
        "fm: error: no file named 'no/such/file.txt' (FileNotFound)\n"
    )
    assert conflict.stderr.count("\n") == 1
    assert conflict.stderr.startswith("fm: error: c.txt: ")
    assert "(NameConflict, HTTP 409)" in conflict.stderr
    assert signed_out.stderr.count("\n") == 1
    assert "run `fm login`" in signed_out.stderr


def test_get_refuses_bytes_that_differ_from_the_indexed_sha256(
    fm: Fm, stack: dict[str, Any], tmp_path: Path
) -> None:
    # moto does not check a declared SHA-256 (S3 does), so a wrong one is
    # recorded: exactly the damage a download must catch.
    token = fm.id_token()
    content = b"the real bytes"
    created = requests.post(
        f"{stack['api_url']}/files",
        json={
            "name": "tampered.txt",
            "size": len(content),
            "content_type": "text/plain",
            "sha256": hashlib.sha256(b"other bytes").hexdigest(),
        },
        headers={"Authorization": token},
        timeout=HTTP_TIMEOUT,
    ).json()
    form = created["upload"]
    requests.post(
        form["url"],
        data=form["fields"],
        files={"file": ("tampered.txt", content, "text/plain")},
        timeout=HTTP_TIMEOUT,
    ).raise_for_status()
    wait_until(
        lambda: "tampered.txt" in fm.run("ls").stdout, "tampered.txt to be listed"
    )

    refused = fm.run("get", "tampered.txt", expect=4)

    assert "SHA-256" in refused.stderr
    assert refused.stderr.count("\n") == 1
    assert list(tmp_path.glob("*tampered*")) == []


def test_usage_reports_files_and_bytes(fm: Fm, tmp_path: Path) -> None:
    (tmp_path / "u.txt").write_text("12345")
    fm.run("put", str(tmp_path / "u.txt"))

    usage = json.loads(fm.run("usage", "--json").stdout)
    text = fm.run("usage").stdout

    assert usage["files"]["used"] == 1
    assert usage["bytes"]["used"] == 5
    assert usage["files"]["limit"] >= 1
    assert text.startswith("files  1 of ")
    assert "bytes  5 bytes of " in text


def test_a_put_over_quota_says_where_the_user_stands(
    fm: Fm, stack: dict[str, Any], tmp_path: Path
) -> None:
    usage = fill_byte_quota(stack, fm.id_token())
    (tmp_path / "one-more.txt").write_text("x")

    refused = fm.run("put", str(tmp_path / "one-more.txt"), expect=1)

    limit = usage["bytes"]["limit"]
    assert refused.stderr.splitlines() == [
        f"fm: error: one-more.txt: over your quota: you store "
        f"{usage['files']['used']:,} of {usage['files']['limit']:,} files and "
        f"{limit:,} of {limit:,} bytes, and this file needs 1 more; delete some "
        "first (QuotaExceeded, HTTP 403)"
    ]


def test_mv_trash_and_restore_a_file(fm: Fm, tmp_path: Path) -> None:
    (tmp_path / "r.txt").write_text("report")
    (tmp_path / "s.txt").write_text("second")
    fm.run("put", str(tmp_path / "r.txt"), str(tmp_path / "s.txt"))

    renamed = fm.run("mv", "r.txt", "docs/report.txt")
    moved = json.loads(fm.run("mv", "docs/report.txt", "archive/", "--json").stdout)
    trashed = fm.run("trash", "archive/report.txt", "s.txt")
    listed = fm.run("ls", "-R").stdout
    in_trash = json.loads(fm.run("ls", "--trash", "--page-size", "1", "--json").stdout)
    long = fm.run("ls", "--trash", "-l", "archive").stdout
    # Its name taken meanwhile, the file comes back under a numbered one.
    fm.run("put", str(tmp_path / "s.txt"))
    restored = fm.run("restore", "archive/report.txt", in_trash["items"][0]["file_id"])

    assert renamed.stdout == "r.txt → docs/report.txt\n"
    assert moved["name"] == "archive/report.txt"
    assert moved["status"] == "AVAILABLE"
    assert trashed.stdout.splitlines() == [
        "trashed   archive/report.txt",
        "trashed   s.txt",
    ]
    assert listed == ""
    assert in_trash["pages"] == 2
    assert in_trash["retention_days"] >= 1
    assert [i["name"] for i in in_trash["items"]] == ["s.txt", "archive/report.txt"]
    assert all(i["status"] == "TRASHED" for i in in_trash["items"])
    assert "archive/report.txt" in long
    assert "s.txt" not in long
    assert restored.stdout.splitlines() == [
        "restored  archive/report.txt",
        "restored  s.txt as s (1).txt",
    ]
    assert fm.run("ls", "-R").stdout.splitlines() == [
        "archive/report.txt",
        "s (1).txt",
        "s.txt",
    ]


def test_mv_and_restore_errors_are_one_line(fm: Fm, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "b.txt").write_text("b")
    fm.run("put", str(tmp_path / "a.txt"), str(tmp_path / "b.txt"))

    taken = fm.run("mv", "a.txt", "b.txt", expect=1)
    not_trashed = fm.run("restore", "a.txt", expect=1)

    assert taken.stderr.count("\n") == 1
    assert "(NameConflict)" in taken.stderr
    assert not_trashed.stderr == (
        "fm: error: no file named 'a.txt' in the trash (FileNotFound)\n"
    )


def test_watch_tells_renames_trashes_and_restores(fm: Fm, tmp_path: Path) -> None:
    (tmp_path / "w.txt").write_text("watched")
    fm.run("put", str(tmp_path / "w.txt"))
    # From the start: a fresh user's feed holds only what this test does.
    watcher = fm.start("watch", "--from-start", "--count", "4", "--timeout", "60")
    fm.run("mv", "w.txt", "v.txt")
    fm.run("trash", "v.txt")
    fm.run("restore", "v.txt")

    out, err = watcher.communicate(timeout=90)

    assert watcher.returncode == 0, err
    assert [line.split("  ", 1)[1] for line in out.splitlines()] == [
        "created  w.txt",
        "renamed  w.txt → v.txt",
        "trashed  v.txt",
        "restored v.txt",
    ]
