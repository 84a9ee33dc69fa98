"""fm's own rules, without a stack: retries, refreshing, finding a stage,
naming uploads. HTTP goes through httpx's MockTransport, which answers as
the service would; everything else is the real code."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fmclient import target
from fmclient.api import Api
from fmclient.cli import cli, one_line
from fmclient.errors import ApiError, ClientError, ConfigError
from fmclient.put import plan
from fmclient.retry import Retry
from fmclient.session import Session, SessionStore

STAGE = target.Target(
    api_url="https://api.example.com/api",
    region="eu-west-1",
    user_pool_id="eu-west-1_pool",
    client_id="client",
)
CREATED = {
    "file_id": "0" * 32,
    "name": "a.txt",
    "status": "PENDING",
    "upload": {"url": "https://s3", "fields": {}, "expires_at": "2026-01-01T00:00:00Z"},
}


def jwt(exp: float, marker: str = "") -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none'})}.{part({'exp': exp, 'm': marker})}.sig"


def api_with(
    handler: Any, tmp_path: Path, session: Session | None = None
) -> tuple[Api, list[float]]:
    store = SessionStore(tmp_path / "sessions.json")
    if session is not None:
        store.save(STAGE, session)
    waits: list[float] = []
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return Api(STAGE, store, http=http, retry=Retry(sleep=waits.append)), waits


def signed_in(marker: str = "old", expires_in: float = 3600) -> Session:
    expires_at = time.time() + expires_in
    return Session("ann", jwt(expires_at, marker), "refresh", expires_at)


def test_a_throttled_create_is_retried_with_the_same_idempotency_key(
    tmp_path: Path,
) -> None:
    seen: list[httpx.Request] = []

    def service(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            return httpx.Response(429, json={"message": "Too Many Requests"})
        return httpx.Response(201, json=CREATED)

    api, waits = api_with(service, tmp_path, signed_in())

    created = api.create_file("a.txt", 1, "text/plain", "ab" * 32, "key-1")

    assert created["file_id"] == CREATED["file_id"]
    assert [r.headers["Idempotency-Key"] for r in seen] == ["key-1", "key-1"]
    assert len(waits) == 1


def test_a_retry_after_header_is_the_least_wait(tmp_path: Path) -> None:
    answers = [
        httpx.Response(503, headers={"Retry-After": "3"}),
        httpx.Response(200, json={}),
    ]
    api, waits = api_with(lambda request: answers.pop(0), tmp_path, signed_in())

    api.request("GET", "/files")

    assert waits == [3.0]


def test_retries_end_and_the_last_answer_is_told(tmp_path: Path) -> None:
    def always_busy(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            503, json={"Code": "ServiceUnavailable", "Message": "busy"}
        )

    api, waits = api_with(always_busy, tmp_path, signed_in())

    with pytest.raises(ApiError) as raised:
        api.request("GET", "/files")

    assert raised.value.code == "ServiceUnavailable"
    assert len(waits) == 4


def test_a_401_gets_one_refresh_and_one_more_try(tmp_path: Path) -> None:
    fresh = jwt(time.time() + 3600, "new")
    tokens: list[str] = []

    def service(request: httpx.Request) -> httpx.Response:
        if request.url.host.startswith("cognito-idp"):
            body = json.loads(request.content)
            assert body["AuthFlow"] == "REFRESH_TOKEN_AUTH"
            return httpx.Response(
                200, json={"AuthenticationResult": {"IdToken": fresh}}
            )
        tokens.append(request.headers["Authorization"])
        if len(tokens) == 1:
            return httpx.Response(401, json={"Code": "Unauthorized", "Message": "no"})
        return httpx.Response(200, json={"items": []})

    session = signed_in("old")
    api, _ = api_with(service, tmp_path, session)

    api.request("GET", "/files")

    assert tokens == [session.id_token, fresh]
    kept = SessionStore(tmp_path / "sessions.json").load(STAGE)
    assert kept is not None
    assert kept.id_token == fresh
    assert kept.refresh_token == "refresh"


def test_flags_win_over_a_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(target.HOME_VARIABLE, str(tmp_path))
    target.save_profile("prod", STAGE)

    resolved = target.resolve(profile="prod", overrides={"region": "us-west-2"})

    assert resolved.api_url == STAGE.api_url
    assert resolved.region == "us-west-2"
    assert resolved.cognito_url == "https://cognito-idp.us-west-2.amazonaws.com/"


def test_the_default_profile_comes_before_a_local_stack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(target.HOME_VARIABLE, str(tmp_path / "home"))
    checkout = tmp_path / "checkout"
    (checkout / ".local").mkdir(parents=True)
    (checkout / ".local" / "stack.json").write_text(
        json.dumps(
            {
                "api_url": "http://127.0.0.1:8000",
                "region": "us-east-1",
                "user_pool_id": "us-east-1_local",
                "user_pool_client_id": "local-client",
                "aws_endpoint_url": "http://127.0.0.1:5005",
                "demo_user": {"username": "demo", "password": "pw"},
            }
        )
    )
    inside = checkout / "some" / "folder"
    inside.mkdir(parents=True)

    local = target.resolve(cwd=inside)
    target.save_profile(target.DEFAULT_PROFILE, STAGE)
    deployed = target.resolve(cwd=inside)

    assert local.api_url == "http://127.0.0.1:8000"
    assert local.cognito_url == "http://127.0.0.1:5005/"
    assert local.demo_user == ("demo", "pw")
    assert deployed.api_url == STAGE.api_url


def test_the_region_defaults_to_the_pool_ids_prefix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(target.HOME_VARIABLE, str(tmp_path))

    resolved = target.resolve(
        overrides={
            "api_url": STAGE.api_url,
            "user_pool_id": "ap-south-1_AbC123",
            "client_id": "client",
        }
    )

    assert resolved.cognito_url == "https://cognito-idp.ap-south-1.amazonaws.com/"


def test_outside_the_checkout_the_stage_last_signed_in_to_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(target.HOME_VARIABLE, str(tmp_path))
    target.remember(STAGE)

    resolved = target.resolve(cwd=tmp_path)

    assert resolved.api_url == STAGE.api_url
    assert resolved.client_id == STAGE.client_id


def test_no_stage_at_all_is_one_clear_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(target.HOME_VARIABLE, str(tmp_path))

    with pytest.raises(ConfigError, match=r"^no file manager to talk to: start"):
        target.resolve(cwd=tmp_path)


def test_a_folder_keeps_its_name_and_tree_under_the_remote_folder(
    tmp_path: Path,
) -> None:
    (tmp_path / "photos" / "2026").mkdir(parents=True)
    (tmp_path / "photos" / "a.jpg").write_bytes(b"a")
    (tmp_path / "photos" / "2026" / "b.jpg").write_bytes(b"bb")
    (tmp_path / "note.txt").write_text("n")

    planned = plan([tmp_path / "photos", tmp_path / "note.txt"], "/trips/")

    assert [(p.name, p.size, p.content_type) for p in planned] == [
        ("trips/photos/a.jpg", 1, "image/jpeg"),
        ("trips/photos/2026/b.jpg", 2, "image/jpeg"),
        ("trips/note.txt", 1, "text/plain"),
    ]


def test_a_remote_name_is_for_one_file_only(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("a")
    (tmp_path / "b").write_text("b")

    with pytest.raises(ClientError, match="--name needs exactly one file"):
        plan([tmp_path / "a", tmp_path / "b"], name="x")


def test_a_destination_ending_in_a_slash_is_a_folder() -> None:
    from fmclient.cli import _destination_name

    assert _destination_name("docs/a.txt", "archive/2026/") == "archive/2026/a.txt"
    assert _destination_name("docs/a.txt", "/") == "a.txt"
    assert _destination_name("docs/a.txt", "b.txt") == "b.txt"


def test_a_restore_finds_the_most_recently_trashed_file_of_a_name(
    tmp_path: Path,
) -> None:
    trash = [
        {"items": [{"file_id": "1" * 32, "name": "x.txt"}], "next_cursor": "c1"},
        {
            "items": [
                {"file_id": "2" * 32, "name": "a.txt"},
                {"file_id": "3" * 32, "name": "a.txt"},
            ],
            "next_cursor": None,
        },
    ]
    cursors: list[str | None] = []

    def service(request: httpx.Request) -> httpx.Response:
        assert request.url.path.endswith("/trash")
        cursors.append(request.url.params.get("cursor"))
        return httpx.Response(
            200, json={**trash[0 if cursors[-1] is None else 1], "retention_days": 30}
        )

    api, _ = api_with(service, tmp_path, signed_in())

    found = api.find_trashed("a.txt")
    with pytest.raises(ApiError) as missing:
        api.find_trashed("nowhere.txt")

    assert found["file_id"] == "2" * 32
    assert cursors[:2] == [None, "c1"]
    assert missing.value.code == "FileNotFound"


@pytest.mark.parametrize(
    "args",
    [["bogus"], ["ls", "--page-size", "0"], ["put"], ["ls", "--no-such-flag"]],
    ids=["unknown-command", "bad-value", "missing-argument", "unknown-option"],
)
def test_a_mistyped_command_line_is_one_line_and_exit_2(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as ended:
        cli.main(args=args, prog_name="fm")

    err = capsys.readouterr().err
    assert ended.value.code == 2
    assert err.count("\n") == 1
    assert err.startswith("fm: error: ")
    assert "fm --help" in err


def test_help_still_prints_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as ended:
        cli.main(args=["--help"], prog_name="fm")

    assert ended.value.code == 0
    assert "Usage:" in capsys.readouterr().out


def test_a_line_break_in_a_message_is_shown_not_made() -> None:
    assert one_line("no file named 'new\nline.txt'") == (
        "no file named 'new\\nline.txt'"
    )
