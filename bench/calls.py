"""AWS calls per operation, each beside the fewest the operation needs.

Calls are counted with botocore's `before-call` hook on every client the app
builds (see `bench.recorder`), over moto's in-process `mock_aws`. A call is
one API request made by our code; retries inside botocore and the deletes
Lambda's SQS poller makes after a successful batch are not ours.
"""

from __future__ import annotations

import functools
import math
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from moto import mock_aws

from bench import report
from bench.aws import provision
from bench.context import Context
from bench.harness import InProcess, new_user
from bench.recorder import Call, Recorder
from bench.report import Row
from bench.stage import environment, stage_env
from chalicelib import bootstrap


@dataclass(frozen=True)
class Minimum:
    calls: float
    why: str


ROUTE_MINIMUMS = {
    ("POST", "/files"): Minimum(
        1,
        "one TransactWriteItems (name claim and record land together); "
        "presigning the upload is local",
    ),
    ("GET", "/files"): Minimum(1, "one Query per page"),
    ("GET", "/files/{file_id}"): Minimum(
        1, "one GetItem; presigning the download is local"
    ),
    ("DELETE", "/files/{file_id}"): Minimum(
        3,
        "GetItem (status, name), one TransactWriteItems (mark and folder "
        "counts), PutEvents (the command)",
    ),
    ("PATCH", "/files/{file_id}"): Minimum(
        4,
        "GetItem, one TransactWriteItems (record, both name claims, folder "
        "counts, outbox), PutEvents, UpdateItem (clear the outbox)",
    ),
    ("POST", "/files/{file_id}/trash"): Minimum(
        4, "GetItem, one TransactWriteItems, PutEvents, UpdateItem (outbox)"
    ),
    ("POST", "/files/{file_id}/restore"): Minimum(
        4,
        "GetItem, one TransactWriteItems (one more per numbered name "
        "tried), PutEvents, UpdateItem (outbox)",
    ),
    ("GET", "/trash"): Minimum(1, "one Query per page of the trash index"),
    ("GET", "/changes"): Minimum(1, "one Query per page"),
    ("GET", "/changes/latest"): Minimum(1, "one GetItem (the feed's head)"),
    ("GET", "/openapi.json"): Minimum(0, "a document shipped with the code"),
}
S3_MINIMUM = Minimum(
    4,
    "GetItem, HeadObject (size and type to check), one TransactWriteItems "
    "(state and outbox), PutEvents",
)
# Per message, at batch sizes 1 and 10, by the queue's setting name.
CONSUMER_MINIMUMS = {
    "DELETE_QUEUE_NAME": (
        Minimum(4, "GetItem, DeleteObject, PutEvents, TransactWriteItems"),
        Minimum(
            1.4,
            "BatchGetItem and DeleteObjects once per batch (0.1 each), "
            "PutEvents for its 20 entries (FileDeleted in two versions) in two "
            "calls (0.2), one TransactWriteItems per message",
        ),
    ),
    "CHANGE_FEED_QUEUE_NAME": (
        Minimum(2, "GetItem (the feed's head), one TransactWriteItems"),
        Minimum(
            0.2,
            "one head read and one append transaction per owner and "
            "batch (up to 100 actions)",
        ),
    ),
}
OBJECT_DELETED_MINIMUM = Minimum(
    4,
    "GetItem, HeadObject (is the object back?), PutEvents (FileDeleted), one "
    "TransactWriteItems (the record and its name)",
)
BATCHES = (1, 10)


@dataclass(frozen=True)
class Measured:
    row_id: str
    calls: float
    breakdown: str
    minimum: Minimum | None
    error: str | None = None


def consumer_minimum(queue: str, batch: int) -> Minimum | None:
    for setting, minimums in CONSUMER_MINIMUMS.items():
        if os.environ.get(setting) == queue:
            return minimums[BATCHES.index(batch)]
    return None


def plan(ctx: Context) -> list[str]:
    ids = [f"calls {m} {r}" for m, r in ctx.handlers.routes]
    if ctx.handlers.s3:
        ids.append(f"calls {ctx.handlers.s3} (S3 event)")
    for handler in ctx.handlers.sqs.values():
        ids += [f"calls {handler} b={batch}" for batch in BATCHES]
        ids.append(batching_id(handler))
    ids += [f"calls {handler} (schedule)" for handler in ctx.handlers.schedules]
    ids += [f"calls {handler} (EventBridge)" for handler in ctx.handlers.eventbridge]
    return ids


def run(ctx: Context) -> list[Row]:
    recorder = Recorder().install()
    env = stage_env(ctx.jwks_url, None)
    try:
        with environment(env), mock_aws():
            bootstrap.reset()
            app = InProcess(ctx.module, ctx.identity, provision(env, ctx.handlers.sqs))
            runs = [
                Operations(app, recorder).measure() for _ in range(ctx.sizes.calls_reps)
            ]
    finally:
        recorder.uninstall()
        bootstrap.reset()
    measured = [summarized(runs, i) for i in range(len(runs[0]))]
    return [row(m) for m in measured] + batching_rows(measured)


class Operations:
    """Each operation once, on a user with a few files, its calls recorded."""

    def __init__(self, app: InProcess, recorder: Recorder) -> None:
        self.app = app
        self.recorder = recorder
        self.sub = new_user()
        self.file_id = app.available_file(self.sub)
        for _ in range(4):
            app.available_file(self.sub)
        app.deliver_all()

    def measure(self) -> list[Measured]:
        return [guarded(row_id, action) for row_id, action in self.operations()]

    def operations(self) -> list[tuple[str, Callable[[], Measured]]]:
        handlers = self.app.handlers
        found: list[tuple[str, Callable[[], Measured]]] = [
            (f"calls {m} {r}", functools.partial(self._route, m, r))
            for m, r in handlers.routes
        ]
        if handlers.s3:
            s3 = functools.partial(self._s3_event, handlers.s3)
            found.append((f"calls {handlers.s3} (S3 event)", s3))
        for queue, handler in handlers.sqs.items():
            found += [
                (
                    f"calls {handler} b={b}",
                    functools.partial(self._consumer, queue, handler, b),
                )
                for b in BATCHES
            ]
        found += [
            (f"calls {h} (schedule)", functools.partial(self._scheduled, h))
            for h in handlers.schedules
        ]
        found += [
            (f"calls {h} (EventBridge)", functools.partial(self._eventbridge, h, p))
            for h, p in handlers.eventbridge.items()
        ]
        return found

    def _scheduled(self, handler: str) -> Measured:
        event = self.app.scheduled_event()
        calls = self._calls(lambda: self.app.invoke(handler, event))
        why = "an idle run: one Query per status and shard of the attention index"
        return Measured(
            f"calls {handler} (schedule)",
            len(calls),
            f"{breakdown(calls)} ({why})",
            None,
        )

    def _eventbridge(self, handler: str, pattern: dict[str, Any]) -> Measured:
        event = self.app.eventbridge_event(pattern, self.sub)
        calls = self._calls(lambda: self.app.invoke(handler, event))
        known = event["detail-type"] == "Object Deleted"
        return Measured(
            f"calls {handler} (EventBridge)",
            len(calls),
            breakdown(calls)
            + (" (an AVAILABLE file's object deleted by hand)" if known else ""),
            OBJECT_DELETED_MINIMUM if known else None,
        )

    def _calls(self, action: Callable[[], object]) -> list[Call]:
        with self.recorder.capture() as calls:
            action()
        return list(calls)

    def _route(self, method: str, route: str) -> Measured:
        uses_up = method == "DELETE" or route.endswith(("/trash", "/restore"))
        file_id = self.app.available_file(self.sub) if uses_up else self.file_id
        event = self.app.route_event(method, route, self.sub, file_id)
        calls = self._calls(lambda: _succeed(self.app.call(event).status))
        return Measured(
            f"calls {method} {route}",
            len(calls),
            breakdown(calls),
            ROUTE_MINIMUMS.get((method, route)),
        )

    def _s3_event(self, handler: str) -> Measured:
        event = self.app.upload(self.app.create(self.sub, f"calls/{new_user()}.txt"))
        calls = self._calls(lambda: self.app.invoke(handler, event))
        return Measured(
            f"calls {handler} (S3 event)", len(calls), breakdown(calls), S3_MINIMUM
        )

    def _consumer(self, queue: str, handler: str, batch: int) -> Measured:
        messages = self.app.consumer_messages(queue, self.sub, batch)
        event = self.app.consumer_event(queue, messages)
        calls = self._calls(lambda: self.app.invoke(handler, event))
        return Measured(
            f"calls {handler} b={batch}",
            len(calls) / batch,
            f"per batch of {batch}: {breakdown(calls)}",
            consumer_minimum(queue, batch),
        )


def _succeed(status: int) -> None:
    if not 200 <= status < 300:
        raise RuntimeError(f"the route answered {status}")


def breakdown(calls: list[Call]) -> str:
    counted = Counter(f"{c.service}.{c.operation}" for c in calls)
    return ", ".join(f"{name} x{n}" for name, n in counted.items()) or "no call"


def guarded(row_id: str, action: Callable[[], Measured]) -> Measured:
    """The operation's calls, or what stopped it (one must not hide the rest)."""
    try:
        return action()
    except Exception as exc:
        problem = f"{type(exc).__name__}: {exc}".replace("\n", " ")[:300]
        return Measured(row_id, math.nan, "", None, error=problem)


def summarized(runs: list[list[Measured]], index: int) -> Measured:
    """The last run's breakdown with the median count over all runs."""
    errors = [run[index].error for run in runs if run[index].error]
    if errors:
        return replace(runs[-1][index], error=errors[0])
    value = report.median([run[index].calls for run in runs])
    return replace(runs[-1][index], calls=value)


def row(measured: Measured) -> Row:
    if measured.error:
        return report.error_row(measured.row_id, measured.error)
    minimum, value = measured.minimum, measured.calls
    if minimum is None:
        return Row(measured.row_id, report.count(value), "?", notes=measured.breakdown)
    return Row(
        measured.row_id,
        report.count(value),
        f"{minimum.calls:g} (min)",
        report.times(report.ratio(value, minimum.calls)) if minimum.calls else "-",
        "= min",
        report.OK if value <= minimum.calls else report.MISS,
        f"{measured.breakdown}. Minimum: {minimum.why}",
    )


def batching_id(handler: str) -> str:
    return f"calls {handler} b=10 vs b=1"


def batching_rows(measured: list[Measured]) -> list[Row]:
    """Whether calls per message fall from batches of 1 to batches of 10."""
    by_id = {m.row_id: m for m in measured}
    rows = []
    for m in measured:
        handler, _, batch = m.row_id.removeprefix("calls ").rpartition(" b=")
        big = by_id.get(f"calls {handler} b=10")
        if batch != "1" or big is None or m.error or big.error:
            continue
        falls = big.calls < m.calls
        rows.append(
            Row(
                batching_id(handler),
                f"{big.calls:g} vs {m.calls:g}",
                "-",
                report.times(report.ratio(big.calls, m.calls)),
                "falls",
                report.OK if falls else report.MISS,
                "calls per message at batch 10 vs batch 1: "
                + ("batch APIs pay off" if falls else "no batch API is used"),
            )
        )
    return rows
