"""Package size: the zipped deployment package `chalice package` builds.

The project is copied to `.local/bench/package/` with a minimal `bench`
stage added to its config (the real config keeps only `local`), then
`chalice package --pkg-format terraform --stage bench OUT` runs there.
Chalice caches the dependencies' zip in that copy, so later runs are quick.
A `--quick` run packages the code without its dependencies (an empty
requirements file): it proves the command works, offline and in seconds,
and its figure is not the deployment package's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from collections import Counter
from dataclasses import replace
from pathlib import Path

from bench import report
from bench.context import Context
from bench.report import Row
from bench.stage import ROOT, STAGE, config

WORK = ROOT / ".local" / "bench" / "package"
SHIPPED = ("app.py", "chalicelib", "requirements.txt", "vendor")
LOCAL_ONLY = (
    "AUTH_MODE",
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "COGNITO_JWKS_URL",
)
MIB = 1024 * 1024
ZIP_LIMIT = 50 * MIB
UNZIPPED_LIMIT = 250 * MIB
BENCH_STAGE = "bench"
POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["logs:*"], "Resource": "*"}],
}


def plan(ctx: Context) -> list[str]:
    return ["package zip", "package unzipped"]


def run(ctx: Context) -> list[Row]:
    work = WORK / ("quick" if ctx.quick else "full")
    project = prepare_project(work / "project", with_dependencies=not ctx.quick)
    out = work / "out"
    shutil.rmtree(out, ignore_errors=True)
    started = time.monotonic()
    build(project, out)
    took = time.monotonic() - started
    found = rows(out / "deployment.zip", took)
    if ctx.quick:
        note = "--quick: code only, no dependency packaged"
        found = [report.with_note(replace(r, verdict=report.INFO), note) for r in found]
    return found


def prepare_project(project: Path, with_dependencies: bool) -> Path:
    """A copy of what Lambda ships, with a `bench` stage beside `local`."""
    chalice_dir = project / ".chalice"
    chalice_dir.mkdir(parents=True, exist_ok=True)
    for name in SHIPPED:
        copy_fresh(ROOT / name, project / name)
    if not with_dependencies:
        (project / "requirements.txt").write_text("")
    raw = config()
    env = dict(raw["stages"][STAGE].get("environment_variables", {}))
    for name in LOCAL_ONLY:
        env.pop(name, None)
    raw["stages"] = {
        BENCH_STAGE: {"api_gateway_stage": "api", "environment_variables": env}
    }
    (chalice_dir / "config.json").write_text(json.dumps(raw, indent=2))
    (chalice_dir / f"policy-{BENCH_STAGE}.json").write_text(json.dumps(POLICY))
    return project


def copy_fresh(source: Path, target: Path) -> None:
    if target.is_dir():
        shutil.rmtree(target)
    target.unlink(missing_ok=True)
    if source.is_dir():
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        shutil.copytree(source, target, ignore=ignore)
    elif source.is_file():
        shutil.copy2(source, target)


def chalice_cli() -> str:
    script = Path(sys.executable).parent / "chalice"
    found = str(script) if script.exists() else shutil.which("chalice")
    if found is None:
        raise RuntimeError("the chalice CLI is not installed in this environment")
    return found


def build(project: Path, out: Path) -> None:
    argv = [chalice_cli(), "--project-dir", str(project), "package"]
    argv += ["--pkg-format", "terraform", "--stage", BENCH_STAGE, str(out)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT")}
    done = subprocess.run(  # noqa: S603 - our own venv's chalice
        argv, cwd=project, env=env, capture_output=True, timeout=600, check=False
    )
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).decode(errors="replace")[-600:]
        raise RuntimeError(f"chalice package failed: {tail}")


def rows(package: Path, took: float) -> list[Row]:
    zipped = package.stat().st_size
    with zipfile.ZipFile(package) as archive:
        entries = archive.infolist()
    unzipped = sum(e.file_size for e in entries)
    by_top: Counter[str] = Counter()
    for entry in entries:
        by_top[entry.filename.split("/")[0]] += entry.compress_size
    largest = ", ".join(
        f"{name} {size / MIB:.1f} MiB" for name, size in by_top.most_common(4)
    )
    return [
        Row(
            "package zip",
            f"{zipped / MIB:.1f} MiB",
            "50 MiB (limit)",
            f"{zipped / ZIP_LIMIT:.0%}",
            "< 50 MiB",
            report.OK if zipped < ZIP_LIMIT else report.MISS,
            f"deployment.zip of `chalice package --pkg-format terraform`, built in "
            f"{took:.0f} s; largest (zipped): {largest}",
        ),
        Row(
            "package unzipped",
            f"{unzipped / MIB:.1f} MiB",
            "250 MiB (limit)",
            f"{unzipped / UNZIPPED_LIMIT:.0%}",
            "< 250 MiB",
            report.OK if unzipped < UNZIPPED_LIMIT else report.MISS,
            "what Lambda unpacks (its limit on code and layers together)",
        ),
    ]
