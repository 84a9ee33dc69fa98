"""`python -m bench --quick` runs every benchmark and prints every row.

Nothing here checks a figure: the benchmarks are measurements, not tests,
and these machines are too noisy for timed assertions. It only proves that
the command completes (no benchmark broke, so no row says ERROR) and that
the table holds every row the command plans for this app.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The quick run takes well under a minute; this is for a slow, busy machine.
QUICK_TIMEOUT = 300


def bench(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.e2e
def test_the_quick_run_completes_and_prints_every_planned_row() -> None:
    planned = bench("--quick", "--list-rows", timeout=60)
    assert planned.returncode == 0, planned.stderr
    row_ids = planned.stdout.splitlines()
    assert row_ids

    run = bench("--quick", timeout=QUICK_TIMEOUT)

    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    # Columns are padded and two spaces apart, so "b=1" never matches "b=10".
    missing = [i for i in row_ids if not any(ln.startswith(f"{i}  ") for ln in lines)]
    assert not missing, run.stdout
