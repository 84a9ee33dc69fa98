"""Calling a handler as Lambda calls it.

A handler gets a Lambda-shaped event and a context object, runs under the
function's timeout, and its outcome is logged as one JSON line per delivery.
`AsyncInvoke` adds what Lambda does for asynchronous callers (S3,
EventBridge, schedules): two retries, then the on-failure destination.

One invocation runs at a time (a lock), as one Lambda execution environment
never runs two: app code may keep module-level state that assumes it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

log = logging.getLogger(__name__)


class MessageSink(Protocol):
    """Where parked events go (an SQS queue)."""

    name: str

    def send(self, body: str) -> None: ...


class LambdaContext:
    """What a Lambda handler's `context` offers, for one invocation."""

    def __init__(self, function_name: str, arn: str, timeout: int, memory: int) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = arn
        self.memory_limit_in_mb = memory
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"local/[$LATEST]{uuid.uuid4().hex}"
        self._deadline = time.monotonic() + timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass(frozen=True)
class Function:
    """One handler as Lambda would deploy it."""

    handler: str
    name: str
    arn: str
    entry: Callable[[dict[str, Any], Any], Any]
    timeout: int
    memory: int


@dataclass(frozen=True)
class Outcome:
    ok: bool
    request_id: str
    error: BaseException | None = None
    error_kind: str = ""


class Invoker:
    """Calls handlers one at a time and logs one line per delivery."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def invoke(
        self, function: Function, event: dict[str, Any], **fields: Any
    ) -> Outcome:
        context = LambdaContext(
            function.name, function.arn, function.timeout, function.memory
        )
        with self._lock:
            started = time.monotonic()
            outcome = self._call(function, event, context)
            duration = time.monotonic() - started
        if outcome.ok and duration > function.timeout:
            # Lambda would have stopped it and reported an error.
            outcome = Outcome(False, context.aws_request_id, None, "timeout")
        self._log(function, outcome, duration, fields)
        return outcome

    @staticmethod
    def _call(function: Function, event: dict[str, Any], context: Any) -> Outcome:
        try:
            function.entry(event, context)
        except Exception as exc:  # any error fails the invoke
            return Outcome(False, context.aws_request_id, exc, "error")
        return Outcome(True, context.aws_request_id)

    @staticmethod
    def _log(
        function: Function, outcome: Outcome, duration: float, fields: dict[str, Any]
    ) -> None:
        extra = {
            "handler": function.handler,
            "function": function.name,
            "request_id": outcome.request_id,
            "outcome": "ok" if outcome.ok else outcome.error_kind,
            "duration_ms": round(duration * 1000, 1),
            **fields,
        }
        if outcome.ok:
            log.info("delivered", extra=extra)
        elif outcome.error is not None:
            exc = outcome.error
            log.error(
                "handler raised",
                extra=extra,
                exc_info=(type(exc), exc, exc.__traceback__),
            )
        else:
            log.error("handler ran past its timeout", extra=extra)


class AsyncInvoke:
    """Lambda's asynchronous invoke: three attempts, then the on-failure target."""

    def __init__(self, invoker: Invoker, delays: Sequence[float]) -> None:
        self._invoker = invoker
        self._delays = tuple(delays)

    def deliver(
        self,
        function: Function,
        event: dict[str, Any],
        stop: threading.Event,
        failures: MessageSink | None,
        **fields: Any,
    ) -> bool:
        """True when the event is done with (handled or parked).

        False only when stopping between attempts: the caller keeps the
        message, and it comes back on the next start.
        """
        attempts = 1 + len(self._delays)
        for attempt in range(1, attempts + 1):
            outcome = self._invoker.invoke(function, event, attempt=attempt, **fields)
            if outcome.ok:
                return True
            if attempt < attempts and stop.wait(self._delays[attempt - 1]):
                return False
        self._park(function, event, outcome, attempts, failures)
        return True

    @staticmethod
    def _park(
        function: Function,
        event: dict[str, Any],
        outcome: Outcome,
        attempts: int,
        failures: MessageSink | None,
    ) -> None:
        extra = {"handler": function.handler, "attempts": attempts}
        if failures is None:
            log.error("event dropped after retries", extra=extra)
            return
        record = failure_record(function, event, outcome, attempts)
        failures.send(json.dumps(record))
        log.error(
            "event sent to on-failure queue", extra={**extra, "queue": failures.name}
        )


def failure_record(
    function: Function, event: dict[str, Any], outcome: Outcome, attempts: int
) -> dict[str, Any]:
    """What Lambda sends an on-failure destination after the last retry."""
    error = outcome.error
    payload: dict[str, Any] = (
        {
            "errorMessage": str(error),
            "errorType": type(error).__name__,
            "stackTrace": traceback.format_tb(error.__traceback__),
        }
        if error is not None
        else {"errorMessage": "Task timed out", "errorType": "Timeout"}
    )
    return {
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "requestContext": {
            "requestId": outcome.request_id,
            "functionArn": f"{function.arn}:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": attempts,
        },
        "requestPayload": event,
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "responsePayload": payload,
    }
