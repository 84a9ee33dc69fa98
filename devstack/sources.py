"""The event sources a Chalice app can declare, fed from local queues.

- `on_sqs_message`: long-polls the queue, batches of up to `batch_size`; a
  batch that returns is deleted, a batch that raises is not, so it comes back
  and moto's redrive parks it in the DLQ after `maxReceiveCount` receives. A
  handler may delete some of its batch itself before raising (our partial
  batch failure, see DESIGN.md); deleting those again is harmless.
- `on_s3_event`: S3 invokes asynchronously, one record per call. moto cannot
  invoke Lambda, so the bucket notifies a local queue; each record goes to
  every matching handler (see `AsyncInvoke`). moto's `s3:TestEvent` is skipped.
- `on_cw_event`: a default-bus rule feeds a local queue per handler; one event
  per call, asynchronous semantics as for S3.
- `schedule`: fired on a timer (moto fires no schedule rule).

Each source runs in its own thread until a shared `stop` event is set; every
wait is a long poll or `stop.wait`, never a spin.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import unquote_plus

from botocore.client import BaseClient
from botocore.exceptions import BotoCoreError, ClientError
from chalice.app import S3EventConfig, SQSEventConfig

from devstack import schedule
from devstack.invoke import AsyncInvoke, Function, Invoker

log = logging.getLogger(__name__)

# SQS returns at most ten messages per receive.
SQS_MAX_MESSAGES = 10
# Back-off after a failed receive, so an unreachable endpoint is not hammered.
ERROR_BACKOFF_SECONDS = 2.0


class QueuePoller:
    """Receives from, deletes from and releases messages of one queue."""

    def __init__(self, sqs: BaseClient, url: str, arn: str, wait_seconds: int) -> None:
        self.sqs = sqs
        self.url = url
        self.arn = arn
        self.name = arn.rsplit(":", 1)[-1]
        self.wait_seconds = wait_seconds

    def receive(
        self, stop: threading.Event, count: int, wait: int | None = None
    ) -> list[dict[str, Any]]:
        try:
            response = self.sqs.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=max(1, min(count, SQS_MAX_MESSAGES)),
                WaitTimeSeconds=self.wait_seconds if wait is None else wait,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
        except (BotoCoreError, ClientError) as exc:
            log.warning("receive failed", extra={"queue": self.name, "error": str(exc)})
            stop.wait(ERROR_BACKOFF_SECONDS)
            return []
        return list(response.get("Messages", []))

    def delete(self, messages: Sequence[dict[str, Any]]) -> None:
        """Delete messages; ones the handler deleted already are fine."""
        self._batch("delete_message_batch", messages, {})

    def release(self, messages: Sequence[dict[str, Any]], seconds: int) -> None:
        """Make messages visible again after `seconds`."""
        self._batch(
            "change_message_visibility_batch", messages, {"VisibilityTimeout": seconds}
        )

    def send(self, body: str) -> None:
        self.sqs.send_message(QueueUrl=self.url, MessageBody=body)

    def _batch(
        self, operation: str, messages: Sequence[dict[str, Any]], extra: dict[str, Any]
    ) -> None:
        for start in range(0, len(messages), SQS_MAX_MESSAGES):
            chunk = messages[start : start + SQS_MAX_MESSAGES]
            entries = [
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], **extra}
                for i, m in enumerate(chunk)
            ]
            try:
                response = getattr(self.sqs, operation)(
                    QueueUrl=self.url, Entries=entries
                )
            except (BotoCoreError, ClientError) as exc:
                log.warning(operation, extra={"queue": self.name, "error": str(exc)})
                continue
            for failed in response.get("Failed", []):
                # A message the handler deleted itself has no receipt any more.
                log.debug(
                    operation,
                    extra={"queue": self.name, "code": failed.get("Code")},
                )


def sqs_event(
    messages: Sequence[dict[str, Any]], queue_arn: str, region: str
) -> dict[str, Any]:
    """The event Lambda's SQS poller hands a function."""
    return {"Records": [sqs_record(m, queue_arn, region) for m in messages]}


def sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: _lambda_attribute(value)
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def _lambda_attribute(value: dict[str, Any]) -> dict[str, Any]:
    attribute: dict[str, Any] = {
        "dataType": value["DataType"],
        "stringListValues": [],
        "binaryListValues": [],
    }
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return attribute


# --- sources -----------------------------------------------------------------


class Source(Protocol):
    label: str

    def run(self, stop: threading.Event) -> None: ...


class SqsSource:
    """`on_sqs_message`: batches, delete on success, redelivery on failure."""

    def __init__(
        self,
        function: Function,
        poller: QueuePoller,
        config: SQSEventConfig,
        invoker: Invoker,
        region: str,
        retry_visibility_seconds: int | None,
    ) -> None:
        self.label = f"sqs:{poller.name}->{function.handler}"
        self._function = function
        self._poller = poller
        self._batch_size = max(1, config.batch_size)
        self._window = config.maximum_batching_window_in_seconds or 0
        self._invoker = invoker
        self._region = region
        self._retry_visibility = retry_visibility_seconds

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            batch = self._collect(stop)
            if batch:
                self._deliver(batch)

    def _collect(self, stop: threading.Event) -> list[dict[str, Any]]:
        batch = self._poller.receive(stop, self._batch_size)
        deadline = time.monotonic() + self._window
        while batch and len(batch) < self._batch_size and not stop.is_set():
            remaining = deadline - time.monotonic()
            wait = min(self._poller.wait_seconds, math.ceil(max(remaining, 0)))
            more = self._poller.receive(stop, self._batch_size - len(batch), wait)
            if not more and remaining <= 0:
                break
            batch.extend(more)
        return batch

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        event = sqs_event(batch, self._poller.arn, self._region)
        outcome = self._invoker.invoke(
            self._function,
            event,
            source="sqs",
            queue=self._poller.name,
            records=len(batch),
            message_ids=[m["MessageId"] for m in batch],
            receive_counts=[
                m.get("Attributes", {}).get("ApproximateReceiveCount") for m in batch
            ],
        )
        if outcome.ok:
            self._poller.delete(batch)
        elif self._retry_visibility is not None:
            # Local speed-up: retry in a second, not after the queue's timeout.
            self._poller.release(batch, self._retry_visibility)


def one_by_one(
    poller: QueuePoller,
    stop: threading.Event,
    handle: Callable[[dict[str, Any], threading.Event], bool],
) -> None:
    """Handle messages one at a time; delete each that `handle` is done with."""
    while not stop.is_set():
        messages = poller.receive(stop, SQS_MAX_MESSAGES)
        for index, message in enumerate(messages):
            if stop.is_set() or not handle(message, stop):
                # Stopping: hand the rest back now rather than after the
                # visibility timeout, so a restarted runner gets them at once.
                poller.release(messages[index:], 0)
                break
            poller.delete([message])


def _json_body(message: dict[str, Any], problem: str) -> dict[str, Any] | None:
    try:
        body = json.loads(message["Body"])
    except json.JSONDecodeError:
        body = None
    if not isinstance(body, dict):
        log.error(problem, extra={"body": message["Body"][:200]})
        return None
    return body


class S3Source:
    """`on_s3_event` handlers of one bucket, fed from its notification queue."""

    def __init__(
        self,
        handlers: list[tuple[S3EventConfig, Function]],
        poller: QueuePoller,
        failures: QueuePoller,
        invoke: AsyncInvoke,
    ) -> None:
        self.label = f"s3:{poller.name}->" + ",".join(f.handler for _, f in handlers)
        self._handlers = handlers
        self._poller = poller
        self._failures = failures
        self._invoke = invoke

    def run(self, stop: threading.Event) -> None:
        one_by_one(self._poller, stop, self._handle)

    def _handle(self, message: dict[str, Any], stop: threading.Event) -> bool:
        body = _json_body(message, "not an S3 notification")
        if body is None:
            return True
        if body.get("Event") == "s3:TestEvent":
            log.info("skipped s3:TestEvent", extra={"bucket": body.get("Bucket")})
            return True
        for record in body.get("Records", []):
            for config, function in self._handlers:
                if not s3_record_matches(config, record):
                    continue
                done = self._invoke.deliver(
                    function,
                    {"Records": [record]},
                    stop,
                    self._failures,
                    source="s3",
                    event_name=record.get("eventName"),
                    key=record["s3"]["object"]["key"],
                )
                if not done:
                    return False
        return True


def s3_record_matches(config: S3EventConfig, record: dict[str, Any]) -> bool:
    """Whether S3 would send this record to a handler so configured."""
    s3 = record.get("s3", {})
    if s3.get("bucket", {}).get("name") != config.bucket:
        return False
    event_name = f"s3:{record.get('eventName', '')}"
    if not any(fnmatch.fnmatchcase(event_name, wanted) for wanted in config.events):
        return False
    # Filters apply to the key itself; notifications carry it URL-encoded.
    key = unquote_plus(s3.get("object", {}).get("key", ""))
    return key.startswith(config.prefix or "") and key.endswith(config.suffix or "")


class CloudWatchSource:
    """An `on_cw_event` handler, fed from its default-bus rule's queue."""

    def __init__(
        self,
        function: Function,
        poller: QueuePoller,
        failures: QueuePoller,
        invoke: AsyncInvoke,
        account: str,
    ) -> None:
        self.label = f"cw:{poller.name}->{function.handler}"
        self._function = function
        self._poller = poller
        self._failures = failures
        self._invoke = invoke
        self._account = account

    def run(self, stop: threading.Event) -> None:
        one_by_one(self._poller, stop, self._handle)

    def _handle(self, message: dict[str, Any], stop: threading.Event) -> bool:
        event = _json_body(message, "not an EventBridge event")
        if event is None:
            return True
        return self._invoke.deliver(
            self._function,
            self._complete(event),
            stop,
            self._failures,
            source="events",
            detail_type=event.get("detail-type"),
        )

    def _complete(self, event: dict[str, Any]) -> dict[str, Any]:
        # moto leaves out `account` (Chalice's CloudWatchEvent needs it) and
        # writes S3's event time as a number.
        event.setdefault("account", self._account)
        event.setdefault("resources", [])
        if isinstance(event.get("time"), int | float):
            event["time"] = _iso_seconds(datetime.fromtimestamp(event["time"], UTC))
        return event


class ScheduleSource:
    """A `schedule` handler, fired on a timer (moto fires no schedule rule)."""

    def __init__(
        self,
        function: Function,
        plan: schedule.Schedule,
        rule_arn: str,
        invoke: AsyncInvoke,
        region: str,
        account: str,
    ) -> None:
        self.label = f"schedule->{function.handler}"
        self._function = function
        self._plan = plan
        self._rule_arn = rule_arn
        self._invoke = invoke
        self._region = region
        self._account = account

    def run(self, stop: threading.Event) -> None:
        next_at = self._next(datetime.now(UTC))
        while next_at is not None:
            delay = (next_at - datetime.now(UTC)).total_seconds()
            if stop.wait(max(delay, 0)):
                return
            self._invoke.deliver(
                self._function, self._event(next_at), stop, None, source="schedule"
            )
            next_at = self._next(next_at)
        log.warning("schedule never fires", extra={"handler": self._function.handler})

    def _next(self, after: datetime) -> datetime | None:
        next_at = self._plan.next_after(after)
        now = datetime.now(UTC)
        if next_at is not None and next_at < now:
            # Missed while the handler ran: EventBridge does not catch up.
            next_at = self._plan.next_after(now)
        return next_at

    def _event(self, fired_at: datetime) -> dict[str, Any]:
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": self._account,
            "time": _iso_seconds(fired_at),
            "region": self._region,
            "resources": [self._rule_arn],
            "detail": {},
        }


def _iso_seconds(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
