"""The event-source runner: the app's event handlers, fed as Lambda feeds them.

`chalice local` runs no event handler and moto runs no Lambda code, so the
runner reads the sources a Chalice app declares (`app.event_sources`) and
calls each handler through `app.handler_map[name]` with a Lambda-shaped event
and context, with Lambda's semantics (see `devstack.sources` for each kind).

Local speed-ups, not Lambda's behaviour: a failed SQS batch becomes visible
again after `retry_visibility_seconds` (1 s) instead of the queue's visibility
timeout, and asynchronous retries wait a second or two instead of minutes.

Run as a process (`python -m devstack runner`), it imports the app afresh, so
the supervisor restarts it to pick up code changes.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from botocore.exceptions import ClientError
from chalice.app import (
    Chalice,
    CloudWatchEventConfig,
    S3EventConfig,
    ScheduledEventConfig,
    SQSEventConfig,
)

from devstack import config as stack_config
from devstack import logs, schedule
from devstack.invoke import AsyncInvoke, Function, Invoker
from devstack.provision import Target, provision_cw_source
from devstack.resources import StackNames
from devstack.sources import (
    ERROR_BACKOFF_SECONDS,
    CloudWatchSource,
    QueuePoller,
    S3Source,
    ScheduleSource,
    Source,
    SqsSource,
)

log = logging.getLogger(__name__)

DEFAULT_ACCOUNT = "123456789012"


def _default_timeout(handler: str) -> int:
    return stack_config.DEFAULT_LAMBDA_TIMEOUT


def _default_memory(handler: str) -> int:
    return stack_config.DEFAULT_LAMBDA_MEMORY


@dataclass(frozen=True)
class RunnerSettings:
    target: Target
    names: StackNames
    # Long-poll wait per receive: short enough that `stop` is quick, long
    # enough that an idle runner sleeps in moto instead of spinning.
    poll_wait_seconds: int = 1
    # Local speed-up: a failed batch is visible again after this many seconds
    # (None: after the queue's own visibility timeout, as on AWS).
    retry_visibility_seconds: int | None = 1
    # Pauses before the 2nd and 3rd attempt of an asynchronous invoke (Lambda
    # waits about 1 and 2 minutes).
    async_retry_delays: tuple[float, ...] = (1.0, 2.0)
    timeout_for: Callable[[str], int] = field(default=_default_timeout)
    memory_for: Callable[[str], int] = field(default=_default_memory)


class SourceError(RuntimeError):
    """An event source the app declares cannot be fed locally."""


class EventSourceRunner:
    """Feeds every event source of a Chalice app, one thread per source."""

    def __init__(self, app: Chalice, settings: RunnerSettings) -> None:
        self._app = app
        self._settings = settings
        self._sqs = settings.target.client("sqs")
        self._invoker = Invoker()
        self._async = AsyncInvoke(self._invoker, settings.async_retry_delays)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._account = DEFAULT_ACCOUNT
        self.sources: list[Source] = []

    def start(self) -> None:
        self._account = self._lookup_account()
        self.sources = self._build_sources()
        for source in self.sources:
            thread = threading.Thread(
                target=self._run_source, args=(source,), name=source.label, daemon=True
            )
            thread.start()
            self._threads.append(thread)
        log.info("runner started", extra={"sources": [s.label for s in self.sources]})

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        alive = [t.name for t in self._threads if t.is_alive()]
        if alive:
            log.warning("sources still busy at stop", extra={"sources": alive})
        self._threads.clear()

    def __enter__(self) -> EventSourceRunner:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run_source(self, source: Source) -> None:
        # A bug in the runner itself must not end a source silently.
        while not self._stop.is_set():
            try:
                source.run(self._stop)
            except Exception:
                log.exception(
                    "source crashed; restarting it", extra={"source": source.label}
                )
                self._stop.wait(ERROR_BACKOFF_SECONDS)
            else:
                return

    def _lookup_account(self) -> str:
        url = self._queue_url(self._settings.names.s3_events_queue)
        if url is None:
            return DEFAULT_ACCOUNT
        return self._queue_arn(url).split(":")[4]

    def _build_sources(self) -> list[Source]:
        sources: list[Source] = []
        s3_handlers: list[tuple[S3EventConfig, Function]] = []
        for config in self._app.event_sources:
            if isinstance(config, S3EventConfig):
                s3_handlers.append((config, self._function(config.name)))
            elif isinstance(config, SQSEventConfig):
                sources.append(self._sqs_source(config))
            elif isinstance(config, CloudWatchEventConfig):
                sources.append(self._cw_source(config))
            elif isinstance(config, ScheduledEventConfig):
                sources.extend(self._schedule_source(config))
            else:
                log.warning(
                    "event source not run locally",
                    extra={"handler": config.name, "kind": type(config).__name__},
                )
        if s3_handlers:
            sources.append(self._s3_source(s3_handlers))
        return sources

    def _function(self, handler: str) -> Function:
        names = self._settings.names
        name = f"{names.app}-{names.stage}-{handler}"
        region = self._settings.target.region
        return Function(
            handler=handler,
            name=name,
            arn=f"arn:aws:lambda:{region}:{self._account}:function:{name}",
            entry=self._app.handler_map[handler],
            timeout=self._settings.timeout_for(handler),
            memory=self._settings.memory_for(handler),
        )

    def _sqs_source(self, config: SQSEventConfig) -> SqsSource:
        queue = config.queue or (config.queue_arn or "").rsplit(":", 1)[-1]
        return SqsSource(
            self._function(config.name),
            self._poller(queue, config.name),
            config,
            self._invoker,
            self._settings.target.region,
            self._settings.retry_visibility_seconds,
        )

    def _s3_source(self, handlers: list[tuple[S3EventConfig, Function]]) -> S3Source:
        names = self._settings.names
        for config, function in handlers:
            if config.bucket != names.bucket:
                log.warning(
                    "no local notifications for this bucket; handler not fed",
                    extra={"handler": function.handler, "bucket": config.bucket},
                )
        fed = [(c, f) for c, f in handlers if c.bucket == names.bucket]
        return S3Source(
            fed,
            self._poller(names.s3_events_queue, "s3 events"),
            self._poller(names.s3_failures_queue, "s3 failures"),
            self._async,
        )

    def _cw_source(self, config: CloudWatchEventConfig) -> CloudWatchSource:
        queue, failures = provision_cw_source(
            self._settings.target,
            self._settings.names,
            config.name,
            config.event_pattern,
        )
        wait = self._settings.poll_wait_seconds
        return CloudWatchSource(
            self._function(config.name),
            QueuePoller(self._sqs, queue.url, queue.arn, wait),
            QueuePoller(self._sqs, failures.url, failures.arn, wait),
            self._async,
            self._account,
        )

    def _schedule_source(self, config: ScheduledEventConfig) -> list[Source]:
        expression = config.schedule_expression
        text = expression if isinstance(expression, str) else expression.to_string()
        try:
            plan = schedule.parse(text)
        except schedule.UnsupportedSchedule as exc:
            log.warning(
                "schedule not run locally",
                extra={"handler": config.name, "expression": text, "reason": str(exc)},
            )
            return []
        names = self._settings.names
        region = self._settings.target.region
        rule = f"{names.app}-{names.stage}-{config.name}-event"
        arn = f"arn:aws:events:{region}:{self._account}:rule/{rule}"
        function = self._function(config.name)
        return [ScheduleSource(function, plan, arn, self._async, region, self._account)]

    def _poller(self, queue: str, purpose: str) -> QueuePoller:
        url = self._queue_url(queue)
        if url is None:
            raise SourceError(
                f"queue {queue} ({purpose}) does not exist on "
                f"{self._settings.target.endpoint_url}; declare it in "
                "devstack/resources.py so provisioning creates it"
            )
        return QueuePoller(
            self._sqs, url, self._queue_arn(url), self._settings.poll_wait_seconds
        )

    def _queue_url(self, queue: str) -> str | None:
        try:
            return str(self._sqs.get_queue_url(QueueName=queue)["QueueUrl"])
        except ClientError:
            return None

    def _queue_arn(self, url: str) -> str:
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["QueueArn"]
        )["Attributes"]
        return str(attributes["QueueArn"])


# --- running it as a process -------------------------------------------------


def load_app(project_dir: Path) -> Chalice:
    """Import the project's `app.app` as Lambda would (env must be set first)."""
    if str(project_dir) not in sys.path:
        sys.path.insert(0, str(project_dir))
    app: Chalice = importlib.import_module("app").app
    return app


def settings_for(stage: stack_config.StageConfig) -> RunnerSettings:
    return RunnerSettings(
        target=Target.from_env(stage.env),
        names=StackNames.from_env(stage.app_name, stage.stage, stage.env),
        timeout_for=stage.lambda_timeout,
        memory_for=stage.lambda_memory,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devstack runner",
        description="Deliver the app's events (S3, SQS, EventBridge, schedules).",
    )
    parser.add_argument("--project-dir", type=Path, default=Path.cwd())
    parser.add_argument("--moto-port", type=int, help="if not the config's")
    args = parser.parse_args(argv)
    logs.configure()
    stage = stack_config.load_stage(args.project_dir)
    if args.moto_port:
        endpoint = stack_config.endpoint_on_port(stage, args.moto_port)
        stage = stack_config.with_endpoint(stage, endpoint)
    # The app reads its settings at import, as under Lambda: set them first.
    env = stack_config.process_env(stage)
    os.environ.clear()
    os.environ.update(env)
    app = load_app(stage.project_dir)
    stop = threading.Event()
    _stop_on_signals(stop)
    with EventSourceRunner(app, settings_for(stage)):
        while not stop.wait(1.0):
            pass
    return 0


def _stop_on_signals(stop: threading.Event) -> None:
    def handle(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
