"""Child processes that leave nothing behind.

Each child runs in its own session (so its own process group): a Ctrl-C at
the terminal reaches only the supervisor, which then stops the children in
order, and stopping a child signals its whole group, so `chalice local`'s
reloader worker goes with its parent. On Linux a child also gets SIGTERM if
its parent dies, which covers a supervisor killed without a chance to clean
up (its own children still go, by the same rule, when it handles SIGTERM).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


def _parent_death_signal() -> Callable[[], None] | None:
    """A pre-exec hook asking Linux to SIGTERM the child when we die."""
    if not sys.platform.startswith("linux"):
        return None
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return None
    # Loaded now, not in the forked child, where loading could deadlock.
    prctl = ctypes.CDLL(libc_name, use_errno=True).prctl

    def hook() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    return hook


DIE_WITH_PARENT = _parent_death_signal()


class Child:
    """One child process (and its process group)."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        log_path: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def returncode(self) -> int | None:
        return self._process.poll() if self._process else None

    def start(self) -> Child:
        output: Any = None
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            # Each start begins a fresh log, so logs never pile up.
            self._log_file = self.log_path.open("wb")
            output = self._log_file
        self._process = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT if output is not None else None,
            start_new_session=True,
            preexec_fn=DIE_WITH_PARENT,
        )
        log.info("started", extra={"child": self.name, "pid": self._process.pid})
        return self

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the group, wait, then SIGKILL what is left."""
        if self._process is None:
            return
        pgid = self._process.pid
        _signal_group(pgid, signal.SIGTERM)
        if not _wait_group(self._process, pgid, timeout):
            log.warning("did not stop; killing", extra={"child": self.name})
            _signal_group(pgid, signal.SIGKILL)
            _wait_group(self._process, pgid, 5.0)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        log.info(
            "stopped",
            extra={"child": self.name, "returncode": self._process.returncode},
        )


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signum)


def _wait_group(process: subprocess.Popen[bytes], pgid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return False
    while group_alive(pgid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def group_alive(pgid: int) -> bool:
    """Whether any live (non-zombie) process is left in the group."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Fields after the parenthesised command: state, ppid, pgrp, ...
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def answers(url: str, timeout: float = 1.0) -> bool:
    """Whether an HTTP server answers at `url`, whatever the status."""
    try:
        with urllib.request.urlopen(url, timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False


class StartupError(RuntimeError):
    """A child did not come up."""


def wait_until(
    ready: Callable[[], bool],
    *,
    what: str,
    timeout: float,
    child: Child | None = None,
    interval: float = 0.1,
) -> None:
    """Poll `ready` until it holds; fail early if `child` exits."""
    deadline = time.monotonic() + timeout
    while not ready():
        if child is not None and not child.alive():
            raise StartupError(
                f"{what}: {child.name} exited with code {child.returncode}"
                + (f" (see {child.log_path})" if child.log_path else "")
            )
        if time.monotonic() > deadline:
            raise StartupError(f"{what}: not ready after {timeout:.0f} s")
        time.sleep(interval)
