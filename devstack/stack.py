"""Start a whole local stack from tests or scripts, and stop it again.

    with start_stack(api_port=free_port(), moto_port=free_port()) as stack:
        requests.get(f"{stack.api_url}/files", headers=stack.auth_headers())

The stack runs as `python -m devstack` in a subprocess with its own state file
(under `.local/` by default, named after the ports), so it can run next to a
developer's `make dev`. Readiness is the state file appearing: the stack
writes it only once the API answers.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from devstack import auth
from devstack.processes import DIE_WITH_PARENT, free_port
from devstack.state import StateError, read_state
from devstack.supervisor import DEVSTACK_ROOT

__all__ = ["StackHandle", "StackStartError", "free_port", "start_stack"]

START_TIMEOUT = 90.0
STOP_TIMEOUT = 20.0


class StackStartError(RuntimeError):
    """The stack did not become ready; the message ends with its log."""


class StackHandle:
    """A running stack: its coordinates and a way to stop it."""

    def __init__(
        self, process: subprocess.Popen[bytes], state_file: Path, log_file: Path
    ) -> None:
        self.process = process
        self.state_file = state_file
        self.log_file = log_file
        self.state: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        # Coordinates read as attributes: stack.api_url, stack.bucket, ...
        state = self.__dict__.get("state", {})
        if name in state:
            return state[name]
        raise AttributeError(name)

    def id_token(self, username: str | None = None, password: str | None = None) -> str:
        return auth.id_token(self.state, username, password)

    def auth_headers(
        self, username: str | None = None, password: str | None = None
    ) -> dict[str, str]:
        return {"Authorization": self.id_token(username, password)}

    def add_user(self, username: str, password: str) -> None:
        auth.add_user(self.state, username, password)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM the stack (it stops its children), then wait for it."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                # Last resort: its children are left to their parent-death signal.
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> StackHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_stack(
    api_port: int | None = None,
    moto_port: int | None = None,
    *,
    web_port: int | None = None,
    project_dir: Path | None = None,
    state_file: Path | None = None,
    autoreload: bool = False,
    timeout: float = START_TIMEOUT,
) -> StackHandle:
    """Start `python -m devstack` and return once its API answers.

    Ports default to free ones. The state file defaults to
    `<project>/.local/stack-<api_port>-<moto_port>.json`, never the
    developer's `stack.json`; the stack's output goes to the same name
    with `.log`.
    """
    project = (project_dir or DEVSTACK_ROOT).resolve()
    api_port = api_port or free_port()
    moto_port = moto_port or free_port()
    state_file = state_file or (
        project / ".local" / f"stack-{api_port}-{moto_port}.json"
    )
    log_file = state_file.with_suffix(".log")
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        state_file.unlink()
    argv = [sys.executable, "-m", "devstack", "--project-dir", str(project)]
    argv += ["--api-port", str(api_port), "--moto-port", str(moto_port)]
    argv += ["--web-port", str(web_port or free_port())]
    argv += ["--state-file", str(state_file)]
    if not autoreload:
        argv.append("--no-autoreload")
    with log_file.open("wb") as output:
        process = subprocess.Popen(
            argv,
            cwd=DEVSTACK_ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            preexec_fn=DIE_WITH_PARENT,
        )
    handle = StackHandle(process, state_file, log_file)
    try:
        handle.state = _wait_for_state(handle, timeout)
    except BaseException:
        handle.stop()
        raise
    return handle


def _wait_for_state(handle: StackHandle, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(StateError, ValueError):
            state = read_state(handle.state_file)
            if state.get("pid") == handle.process.pid:
                return state
        if not handle.alive():
            raise StackStartError(
                f"the stack exited with code {handle.process.returncode}:\n"
                + handle.log_tail()
            )
        if time.monotonic() > deadline:
            raise StackStartError(
                f"the stack was not ready after {timeout:.0f} s:\n" + handle.log_tail()
            )
        time.sleep(0.1)
