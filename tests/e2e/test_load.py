"""The load run, short, against the tier's own stack, so that it cannot rot.

The full run (`make load`: 20 clients for two minutes) is for a developer's
`make dev`; here 4 clients for 5 seconds go through the same code, the same
settling and the same audit, and the dead-letter command confirms that
nothing waits in a dead-letter or failures queue.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.stack import ROOT

pytestmark = pytest.mark.e2e

LOAD_SCRIPT = ROOT / "scripts" / "load.py"
OPERATIONS = ("create", "upload", "list", "read", "delete")


def _load(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(LOAD_SCRIPT), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _counts(stdout: str) -> dict[str, int]:
    """The count column of the per-operation table."""
    counts = {}
    for line in stdout.splitlines():
        words = line.split()
        if words and words[0] in OPERATIONS:
            counts[words[0]] = int(words[1])
    return counts


def test_a_short_load_run_settles_and_its_audit_is_clean(
    stack: dict[str, Any],
) -> None:
    run = _load(
        "--stack", stack["state_file"], "--clients", "4", "--duration", "5",
        "--settle-timeout", "60",
    )  # fmt: skip

    output = f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}"
    assert run.returncode == 0, output
    assert "load: OK" in run.stdout, output
    assert "5xx answers: 0" in run.stdout
    counts = _counts(run.stdout)
    assert set(counts) == set(OPERATIONS), output
    assert counts["create"] > 0, output
    assert counts["upload"] == counts["create"], output
    command = [sys.executable, "-m", "devstack", "dead-letters"]
    dead = subprocess.run(
        [*command, "--state-file", stack["state_file"]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    waiting = [line for line in dead.stdout.splitlines() if "waiting" in line]
    assert waiting == [
        "delete: 0 waiting",
        "change_feed: 0 waiting",
        "s3_failures: 0 waiting",
    ], dead.stdout


@pytest.mark.parametrize(
    ("field", "url"),
    [
        ("api_url", "http://10.20.30.40:8000"),
        ("aws_endpoint_url", "http://example.com:5005"),
        ("api_url", "http://[::ffff:8.8.8.8]:8000"),
    ],
)
def test_the_load_run_refuses_a_stack_off_loopback_before_sending_anything(
    tmp_path: Path, field: str, url: str
) -> None:
    state = {"api_url": "http://127.0.0.1:8000", "aws_endpoint_url": "http://[::1]:1"}
    state[field] = url
    state_file = tmp_path / "stack.json"
    state_file.write_text(json.dumps(state))

    run = _load("--stack", str(state_file), "--clients", "1", "--duration", "1")

    assert run.returncode == 2
    assert "not on a loopback address; refused" in run.stderr
    assert run.stdout == ""
