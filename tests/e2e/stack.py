"""Starting a local stack for the end-to-end tier, and waiting on it.

The stack is started with the command developers use (`python -m devstack`),
on free ports and with its own state file, so it never disturbs a developer's
stack on the default ports.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import boto3
import pytest

from devstack.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
STACK_START_TIMEOUT = 90.0
STACK_STOP_TIMEOUT = 30.0
POLL_INTERVAL = 0.2
# What an asynchronous step (an S3 event, a queued command) may take locally.
SETTLE_TIMEOUT = 30.0

T = TypeVar("T")


def wait_until(
    probe: Callable[[], T | None], what: str, timeout: float = SETTLE_TIMEOUT
) -> T:
    """Poll `probe` until it returns something truthy, or fail saying `what`."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout:.0f} s: {what}")
        time.sleep(POLL_INTERVAL)


def _log_tail(path: Path, lines: int = 40) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def _read_state(process: subprocess.Popen[bytes], state_file: Path, log: Path) -> Any:
    def ready() -> Any:
        if process.poll() is not None:
            pytest.fail(
                f"python -m devstack exited with {process.returncode}:\n"
                + _log_tail(log)
            )
        return json.loads(state_file.read_text()) if state_file.exists() else None

    return wait_until(ready, "the local stack to start", STACK_START_TIMEOUT)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM lets devstack stop moto, the runner and chalice local itself."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STACK_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def running_stack(folder: Path) -> Iterator[dict[str, Any]]:
    """A local stack writing its state and log under `folder`; its state."""
    state_file = folder / "stack.json"
    log = folder / "devstack.log"
    argv = [sys.executable, "-m", "devstack"]
    argv += ["--api-port", str(free_port()), "--moto-port", str(free_port())]
    argv += ["--web-port", str(free_port())]
    argv += ["--state-file", str(state_file), "--no-autoreload"]
    with log.open("wb") as output:
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        state = _read_state(process, state_file, log)
        yield {**state, "state_file": str(state_file), "log_file": str(log)}
    finally:
        _stop(process)


def aws_client(stack: dict[str, Any], service: str) -> Any:
    return boto3.session.Session().client(
        service,  # type: ignore[call-overload]
        endpoint_url=stack["aws_endpoint_url"],
        region_name=stack["region"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
