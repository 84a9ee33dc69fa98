"""Cold start: a fresh process serving its first request, beside a bare app's.

For every route and every event handler the app declares, a new Python
process imports `app.py` with the stage's environment and serves one
request (an API Gateway event) or one event, as Lambda's first invocation
would. Its floor is a new process importing `bench.floor_app` (the same
libraries, no file manager) that builds the same AWS clients and answers a
constant. Time runs from just before the process is spawned to the moment
it has answered; each time is the median of the repetitions, and each
ratio the median of the ratios of a run to the floor run made right after
it (pairs cancel the drift of a shared machine).

AWS is a moto server (`ThreadedMotoServer`) on a free loopback port in this
process, reached through AWS_ENDPOINT_URL as the local stage reaches its
moto: `mock_aws` inside the measured process would import moto there and
patch botocore, which is the very cost being measured.
"""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moto.server import ThreadedMotoServer

from bench import report
from bench.aws import provision
from bench.context import Context
from bench.harness import InProcess, new_user
from bench.report import Row
from bench.stage import ROOT, child_env, environment, stage_env
from chalicelib import bootstrap

TARGET = 1.2
SPAWN_TIMEOUT = 120


# The floor app's handler for each kind of event.
FLOOR_HANDLERS = {
    "s3": "floor_s3",
    "sqs": "floor_sqs",
    "schedule": "floor_schedule",
    "eventbridge": "floor_eventbridge",
}


@dataclass(frozen=True)
class Path_:
    """One way into the app: a route, or an event handler."""

    label: str
    kind: str
    route: tuple[str, str] | None = None
    handler: str | None = None
    queue: str | None = None

    @property
    def row_id(self) -> str:
        return f"cold {self.label}"

    @property
    def floor_handler(self) -> str | None:
        return FLOOR_HANDLERS.get(self.kind)


@dataclass
class Runs:
    measured: list[dict[str, Any]] = field(default_factory=list)
    floor: list[dict[str, Any]] = field(default_factory=list)


def paths(ctx: Context) -> list[Path_]:
    found = [Path_(f"{m} {r}", "route", route=(m, r)) for m, r in ctx.handlers.routes]
    if ctx.handlers.s3:
        found.append(
            Path_(f"{ctx.handlers.s3} (S3 event)", "s3", handler=ctx.handlers.s3)
        )
    for queue, handler in ctx.handlers.sqs.items():
        found.append(Path_(f"{handler} (SQS, 1 message)", "sqs", None, handler, queue))
    for handler in ctx.handlers.schedules:
        found.append(Path_(f"{handler} (schedule)", "schedule", handler=handler))
    for handler in ctx.handlers.eventbridge:
        found.append(Path_(f"{handler} (EventBridge)", "eventbridge", handler=handler))
    return found


def plan(ctx: Context) -> list[str]:
    return [p.row_id for p in paths(ctx)] + ["cold import", "cold clients at import"]


def run(ctx: Context) -> list[Row]:
    with moto_server() as endpoint:
        env = stage_env(ctx.jwks_url, endpoint)
        with environment(env):
            bootstrap.reset()
            resources = provision(env, ctx.handlers.sqs)
            app = InProcess(ctx.module, ctx.identity, resources)
            runner = ColdStarts(app, child_env(env))
            if not ctx.quick:
                runner.warm_up(paths(ctx)[0])
            results, failed = runner.each(paths(ctx), ctx.sizes.cold_reps)
        bootstrap.reset()
    rows = [path_row(p, runs) for p, runs in results.items()]
    return rows + failed + (summary(results) if results else [])


@contextmanager
def moto_server() -> Iterator[str]:
    port = free_port()
    # Its access log would bury the table.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ColdStarts:
    def __init__(self, app: InProcess, env: dict[str, str]) -> None:
        self._app = app
        self._env = env
        self._sub = new_user()
        self._shared_file = app.available_file(self._sub)

    def warm_up(self, path: Path_) -> None:
        """One untimed pair first, so both sides start with warm disk caches."""
        self.pair(path)

    def each(
        self, found: list[Path_], reps: int
    ) -> tuple[dict[Path_, Runs], list[Row]]:
        """Every path's runs; a path that cannot run gets an ERROR row."""
        results: dict[Path_, Runs] = {}
        failed: list[Row] = []
        for path in found:
            try:
                results[path] = self.repeat(path, reps)
            except Exception as exc:  # one broken path must not hide the others
                problem = f"{type(exc).__name__}: {exc}".replace("\n", " ")[:300]
                failed.append(report.error_row(path.row_id, problem))
        return results, failed

    def repeat(self, path: Path_, reps: int) -> Runs:
        runs = Runs()
        for _ in range(reps):
            measured, floor = self.pair(path)
            runs.measured.append(measured)
            runs.floor.append(floor)
        return runs

    def pair(self, path: Path_) -> tuple[dict[str, Any], dict[str, Any]]:
        event = self._event(path)
        measured = spawn(
            {"module": "app", "handler": path.handler, "event": event}, self._env
        )
        clients = ",".join(measured.get("clients", []))
        floor_env = {**self._env, "BENCH_FLOOR_CLIENTS": clients}
        if path.route:
            floor_env["BENCH_FLOOR_ROUTE"] = " ".join(path.route)
        floor_spec = {"module": "bench.floor_app", "handler": path.floor_handler}
        floor = spawn({**floor_spec, "event": event}, floor_env)
        return measured, floor

    def _event(self, path: Path_) -> dict[str, Any]:
        app, sub = self._app, self._sub
        if path.route:
            method, route = path.route
            # A delete, a trash or a restore uses its file up: each run
            # gets a fresh one.
            fresh = method == "DELETE" or route.endswith(("/trash", "/restore"))
            file_id = app.available_file(sub) if fresh else self._shared_file
            return app.route_event(method, route, sub, file_id)
        if path.kind == "sqs":
            messages = app.consumer_messages(str(path.queue), sub, 1)
            return app.consumer_event(str(path.queue), messages)
        if path.kind == "schedule":
            return app.scheduled_event()
        if path.kind == "eventbridge":
            pattern = app.handlers.eventbridge[str(path.handler)]
            return app.eventbridge_event(pattern, sub)
        return app.upload(app.create(sub, f"cold/{time.time_ns()}.txt"))


def spawn(spec: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as scratch:
        spec_file, result_file = Path(scratch) / "spec.json", Path(scratch) / "out.json"
        spec_file.write_text(json.dumps(spec))
        argv = [sys.executable, "-m", "bench.coldstart_child"]
        spawned = time.monotonic()
        done = subprocess.run(  # noqa: S603 - our own interpreter and module
            [*argv, str(spec_file), str(result_file)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=SPAWN_TIMEOUT,
            check=False,
        )
        if not result_file.exists():
            raise RuntimeError(
                f"cold start process failed: {done.stderr.decode()[-500:]}"
            )
        result: dict[str, Any] = json.loads(result_file.read_text())
    if "error" in result:
        raise RuntimeError(
            f"{spec['module']} {spec['handler']}: {result['error'][-800:]}"
        )
    status = result.get("status")
    if status is not None and not 200 <= status < 300:
        raise RuntimeError(f"{spec['module']} answered {status}: {result.get('body')}")
    return result | {"spawned": spawned}


def _phase(runs: list[dict[str, Any]], end: str) -> float:
    return report.median([r[end] - r["spawned"] for r in runs])


def _paired_ratio(runs: Runs, end: str) -> float:
    """The median of each run's ratio to the floor run made right after it.

    Pairing cancels what drifts between pairs on a shared machine.
    """
    pairs = zip(runs.measured, runs.floor, strict=True)
    return report.median(
        [(m[end] - m["spawned"]) / (f[end] - f["spawned"]) for m, f in pairs]
    )


def path_row(path: Path_, runs: Runs) -> Row:
    total, floor = _phase(runs.measured, "answered"), _phase(runs.floor, "answered")
    clients = sorted({c for r in runs.measured for c in r["clients"]})
    value = _paired_ratio(runs, "answered")
    imported = _phase(runs.measured, "imported")
    floor_imported = _phase(runs.floor, "imported")
    return Row(
        path.row_id,
        report.ms(total),
        report.ms(floor),
        report.times(value),
        f"<= {TARGET:.2f}x",
        report.within(value, TARGET),
        f"clients built: {', '.join(clients) or 'none'}; import "
        f"{report.ms(imported)} vs {report.ms(floor_imported)}, first answer "
        f"+{report.ms(total - imported)} vs +{report.ms(floor - floor_imported)}",
    )


def summary(results: dict[Path_, Runs]) -> list[Row]:
    every = Runs(
        [r for runs in results.values() for r in runs.measured],
        [r for runs in results.values() for r in runs.floor],
    )
    imported = _phase(every.measured, "imported")
    at_import = max(len(r["clients_at_import"]) for r in every.measured)
    built = sorted({",".join(r["clients_at_import"]) for r in every.measured})
    return [
        Row(
            "cold import",
            report.ms(imported),
            report.ms(_phase(every.floor, "imported")),
            report.times(_paired_ratio(every, "imported")),
            notes="spawn to `import app` done, vs to importing the floor app; "
            f"over all {len(every.measured)} pairs",
        ),
        Row(
            "cold clients at import",
            report.count(at_import),
            "0",
            target="0",
            verdict=report.OK if at_import == 0 else report.MISS,
            notes="AWS clients built while importing app.py (botocore "
            "Session.create_client hooked)" + ("" if at_import == 0 else f": {built}"),
        ),
    ]
