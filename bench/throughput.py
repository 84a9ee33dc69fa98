"""Consumer throughput: messages a second through the handlers, in-process.

Each handler runs over moto's in-process `mock_aws`, and its floor is the
very same AWS calls made directly: the calls the handler made are recorded
with their arguments, the table and bucket are put back as they were before
the handler ran, and the recorded calls are made again with plain boto3
clients. The ratio is what our code (parsing, domain rules, logging, the
envelope) costs on top of the calls it cannot avoid making.

One round makes N uploads, runs the S3 handler over them, asks to delete
every file, and then runs each SQS consumer over the messages those steps
queued, at each batch size, from the same starting state.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore import xform_name
from botocore.exceptions import ClientError
from moto import mock_aws

from bench import report
from bench.aws import provision, restore, snapshot
from bench.context import Context
from bench.harness import InProcess, new_user
from bench.recorder import Recorder
from bench.report import Row
from bench.stage import environment, stage_env
from chalicelib import bootstrap

BATCHES = (1, 10)
Messages = dict[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class Case:
    handler: str
    queue: str | None = None
    batch: int = 1

    @property
    def row_id(self) -> str:
        if self.queue is None:
            return f"tput {self.handler} (S3 event)"
        return f"tput {self.handler} b={self.batch}"


@dataclass(frozen=True)
class Timing:
    messages: int
    handler_s: float
    direct_s: float
    calls: int
    failed_replays: int


def cases(ctx: Context) -> list[Case]:
    found = [Case(ctx.handlers.s3)] if ctx.handlers.s3 else []
    for queue, handler in ctx.handlers.sqs.items():
        found += [Case(handler, queue, batch) for batch in BATCHES]
    return found


def plan(ctx: Context) -> list[str]:
    return [case.row_id for case in cases(ctx)]


def run(ctx: Context) -> list[Row]:
    if ctx.handlers.s3 is None:
        raise RuntimeError("the app declares no S3 handler to make files with")
    recorder = Recorder().install()
    env = stage_env(ctx.jwks_url, None)
    try:
        with environment(env):
            rounds = [
                Round(ctx, env, recorder).run() for _ in range(ctx.sizes.tput_reps)
            ]
    finally:
        recorder.uninstall()
        bootstrap.reset()
    return [case_row(case, [r[case] for r in rounds]) for case in cases(ctx)]


@contextmanager
def fresh_app(ctx: Context, env: dict[str, str]) -> Iterator[InProcess]:
    """The app on an empty moto (moto copies a whole table per transaction)."""
    with mock_aws():
        bootstrap.reset()
        yield InProcess(ctx.module, ctx.identity, provision(env, ctx.handlers.sqs))


class Round:
    def __init__(self, ctx: Context, env: dict[str, str], recorder: Recorder) -> None:
        self.ctx = ctx
        self.env = env
        self.recorder = recorder
        self.count = ctx.sizes.tput_messages

    def run(self) -> dict[Case, Timing]:
        with fresh_app(self.ctx, self.env) as app:
            return self._run(app)

    def _run(self, app: InProcess) -> dict[Case, Timing]:
        sub = new_user()
        created = [app.create(sub, f"tput/{i}.txt") for i in range(self.count)]
        uploads = [app.upload(c) for c in created]
        s3_case = Case(str(app.handlers.s3))
        timings: dict[Case, Timing] = {}
        timings[s3_case], queued = self.measure(app, s3_case.handler, uploads)
        for c in created:
            app.request_delete(sub, c["file_id"])
        for queue in app.handlers.sqs:
            queued[queue] = queued[queue] or app.resources.receive(queue, self.count)
            if len(queued[queue]) != self.count:
                raise RuntimeError(f"{queue}: {len(queued[queue])} messages came")
        start = snapshot(app.resources)
        for case in cases(self.ctx)[1:]:
            restore(app.resources, start)
            events = batches(app, case, queued[str(case.queue)])
            timings[case], _ = self.measure(app, case.handler, events)
        return timings

    def measure(
        self, app: InProcess, handler: str, events: list[dict[str, Any]]
    ) -> tuple[Timing, Messages]:
        """Run the handler, then its recorded calls directly from the same state."""
        before = snapshot(app.resources)
        with self.recorder.capture() as calls, quiet_gc():
            started = time.perf_counter()
            for event in events:
                app.invoke(handler, event)
            handler_s = time.perf_counter() - started
        produced = {q: app.resources.receive(q, 1000) for q in app.handlers.sqs}
        restore(app.resources, before)
        clients = {c.service: app.resources.client(c.service) for c in calls}
        methods = [
            (getattr(clients[c.service], xform_name(c.operation)), c) for c in calls
        ]
        direct_s, failed = replay(methods)
        app.resources.drain()
        timing = Timing(self.count, handler_s, direct_s, len(calls), failed)
        return timing, produced


def batches(
    app: InProcess, case: Case, messages: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    queue = str(case.queue)
    return [
        app.consumer_event(queue, messages[start : start + case.batch])
        for start in range(0, len(messages), case.batch)
    ]


def replay(methods: list[tuple[Any, Any]]) -> tuple[float, int]:
    """Make the recorded calls again, directly; their time and failures."""
    failed = 0
    with quiet_gc():
        started = time.perf_counter()
        for method, call in methods:
            try:
                method(**call.params)
            except ClientError:
                failed += 1
        return time.perf_counter() - started, failed


@contextmanager
def quiet_gc() -> Iterator[None]:
    """No collector pause inside a timed block (as `timeit` does)."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def case_row(case: Case, timings: list[Timing]) -> Row:
    handler_s = report.median([t.handler_s for t in timings])
    direct_s = report.median([t.direct_s for t in timings])
    messages = timings[0].messages
    failed = sum(t.failed_replays for t in timings)
    unit = "events" if case.queue is None else "messages"
    notes = (
        f"median of {len(timings)} rounds of {messages} {unit}; floor: the same "
        f"{timings[0].calls} AWS calls made directly"
    )
    if failed:
        notes += f" ({failed} replayed calls failed)"
    return Row(
        case.row_id,
        report.per_second(messages / handler_s),
        report.per_second(messages / direct_s),
        report.times(report.ratio(handler_s, direct_s)),
        notes=notes,
    )
