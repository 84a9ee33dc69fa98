"""Fixtures of the clients' tier: one local stack for the CLI and the page.

The stack is the one `make dev` runs, on free ports, page included (served
from another origin than the API). Each test signs in as a user of its own,
so tests never see each other's files.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from devstack.auth import add_user
from tests.e2e.helpers import HTTP_TIMEOUT
from tests.e2e.stack import ROOT, running_stack

FM = Path(sys.executable).parent / "fm"
ARTIFACTS = ROOT / ".local" / "artifacts"
FM_TIMEOUT = 120


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with running_stack(tmp_path_factory.mktemp("clients-stack")) as state:
        yield state


@dataclass(frozen=True)
class Account:
    username: str
    password: str


def new_account(stack: dict[str, Any], prefix: str) -> Account:
    account = Account(f"{prefix}-{uuid.uuid4().hex[:8]}", f"Pw-{uuid.uuid4().hex}-1a")
    add_user(stack, account.username, account.password)
    return account


@dataclass
class Fm:
    """`fm` as a user runs it, with a home of its own."""

    stack: dict[str, Any]
    home: Path
    cwd: Path

    # Unset, fm looks for a profile or a stack file instead.
    use_stack_file: bool = True

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FM_")}
        env["FM_HOME"] = str(self.home)
        if self.use_stack_file:
            env["FM_STACK"] = self.stack["state_file"]
        return env

    def run(
        self, *args: str, stdin: str | None = None, expect: int | None = 0
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(FM), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env(),
            cwd=self.cwd,
            timeout=FM_TIMEOUT,
            check=False,
        )
        if expect is not None:
            assert done.returncode == expect, (
                f"fm {' '.join(args)} exited {done.returncode}, not {expect}:\n"
                f"stdout: {done.stdout}\nstderr: {done.stderr}"
            )
        return done

    def start(self, *args: str) -> subprocess.Popen[str]:
        """`fm` running in the background (for `watch`)."""
        return subprocess.Popen(
            [str(FM), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env(),
            cwd=self.cwd,
        )

    def id_token(self) -> str:
        """The ID token fm keeps, to call the API beside it."""
        sessions = json.loads((self.home / "sessions.json").read_text())
        (session,) = sessions.values()
        return str(session["id_token"])

    def login(self, account: Account) -> None:
        self.run(
            "login", "-u", account.username, "--password-stdin", stdin=account.password
        )


@pytest.fixture
def fm(stack: dict[str, Any], tmp_path: Path) -> Fm:
    """`fm` signed in as a fresh user of the stack."""
    client = Fm(stack, tmp_path / "fm-home", tmp_path)
    client.login(new_account(stack, "cli"))
    return client


# The most one file may declare (one presigned POST's limit).
MAX_FILE_BYTES = 5 * 1024**3


def fill_byte_quota(stack: dict[str, Any], token: str) -> dict[str, Any]:
    """Declare (never upload) big files until the user's bytes are all used.

    Usage counts from the create, so this fills a quota of gigabytes in a
    few requests. Returns the usage it leaves.
    """
    headers = {"Authorization": token}
    url = f"{stack['api_url']}"
    for number in range(100):
        usage = requests.get(f"{url}/usage", headers=headers, timeout=HTTP_TIMEOUT)
        room = usage.json()["bytes"]["limit"] - usage.json()["bytes"]["used"]
        if room == 0:
            return dict(usage.json())
        created = requests.post(
            f"{url}/files",
            json={"name": f"filler-{number}.bin", "size": min(room, MAX_FILE_BYTES)},
            headers=headers,
            timeout=HTTP_TIMEOUT,
        )
        assert created.status_code == 201, created.text
    raise AssertionError("the byte quota did not fill up")
