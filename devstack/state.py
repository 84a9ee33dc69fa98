"""The running stack's coordinates on disk (`.local/stack.json`).

Written once the API answers, so its appearance means "ready" to whoever
waits for it (tests, scripts, `python -m devstack token`), and removed when the
stack stops. Each stack can have its own file, so a test stack never
overwrites the developer's.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

DEFAULT_STATE_FILE = Path(".local") / "stack.json"


class StateError(RuntimeError):
    """No usable state file: the stack is not running (or not ready)."""


def read_state(path: Path) -> dict[str, Any]:
    try:
        state: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise StateError(
            f"{path} does not exist: is the local stack running "
            "(`python -m devstack`, or `--state-file` for another one)?"
        ) from exc
    return state


def write_state(path: Path, state: dict[str, Any]) -> None:
    """Replace the file atomically, so a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(json.dumps(state, indent=2) + "\n")
    partial.replace(path)


def remove_state(path: Path, pid: int) -> None:
    """Remove the file if the stack with this pid wrote it."""
    try:
        if json.loads(path.read_text()).get("pid") == pid:
            path.unlink()
    except (FileNotFoundError, json.JSONDecodeError):
        pass
