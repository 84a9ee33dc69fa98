"""The event-source runner keeps Lambda's contract, shown with a tiny fake app.

The fake app is not app.py: its handlers record what they receive and fail on
purpose, so each test pins one piece of Lambda's behaviour.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote_plus

import pytest
from chalice import Chalice
from chalice.app import CloudWatchEvent, S3Event, SQSEvent

from devstack import resources
from devstack.invoke import AsyncInvoke, Function, Invoker
from devstack.provision import ProvisionedStack, Target
from devstack.runner import EventSourceRunner, RunnerSettings
from devstack.schedule import Rate
from devstack.sources import ScheduleSource
from tests.devstack.conftest import wait_for

POISON = "poison"


class Recorder:
    """What the fake handlers saw, safe to read from the test thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: list[dict[str, Any]] = []
        self.fail_first_batch = False
        self.fail_s3 = False

    def add(self, call: dict[str, Any]) -> None:
        with self._lock:
            self.calls.append(call)

    def of(self, kind: str) -> list[dict[str, Any]]:
        with self._lock:
            return [c for c in self.calls if c["kind"] == kind]


def fake_app(
    names: resources.StackNames, sqs: Any, queue_url: str, seen: Recorder
) -> Chalice:
    app = Chalice(app_name="fake")

    @app.on_sqs_message(queue=names.delete_queue, batch_size=10)
    def consume(event: SQSEvent) -> None:
        records = list(event)
        seen.add(
            {
                "kind": "sqs",
                "bodies": [r.body for r in records],
                "event": event.to_dict(),
                "context": event.context,
            }
        )
        if seen.fail_first_batch and len(seen.of("sqs")) == 1:
            raise RuntimeError("the whole batch fails once")
        good = [r for r in records if r.body != POISON]
        if len(good) == len(records):
            return
        # Our partial batch failure: delete what succeeded, then raise.
        for record in good:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=record.receipt_handle)
        raise RuntimeError("one message is poison")

    @app.on_s3_event(bucket=names.bucket, events=["s3:ObjectCreated:*"], suffix=".txt")
    def uploaded(event: S3Event) -> None:
        seen.add({"kind": "s3", "event": event.to_dict(), "key": event.key})
        if seen.fail_s3:
            raise RuntimeError("cannot process uploads")

    @app.on_cw_event({"source": ["test.source"]})
    def noticed(event: CloudWatchEvent) -> None:
        seen.add({"kind": "cw", "detail": event.detail, "account": event.account})

    return app


@pytest.fixture
def seen() -> Recorder:
    return Recorder()


@pytest.fixture
def sqs(target: Target) -> Any:
    return target.client("sqs")


@pytest.fixture
def runner(
    target: Target,
    names: resources.StackNames,
    stack: ProvisionedStack,
    sqs: Any,
    seen: Recorder,
) -> Iterator[EventSourceRunner]:
    app = fake_app(names, sqs, stack.delete_queue_url, seen)
    settings = RunnerSettings(
        target=target, names=names, async_retry_delays=(0.05, 0.05)
    )
    runner = EventSourceRunner(app, settings)
    yield runner
    runner.stop()


def _send(sqs: Any, url: str, *bodies: str) -> None:
    sqs.send_message_batch(
        QueueUrl=url,
        Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies)],
    )


def _count(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
        ],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def test_sqs_batch_is_delivered_once_and_deleted(
    runner: EventSourceRunner, stack: ProvisionedStack, sqs: Any, seen: Recorder
) -> None:
    _send(sqs, stack.delete_queue_url, "a", "b", "c")
    runner.start()

    wait_for(lambda: seen.of("sqs"), what="a batch")
    wait_for(lambda: _count(sqs, stack.delete_queue_url) == 0, what="an empty queue")
    (call,) = seen.of("sqs")
    assert sorted(call["bodies"]) == ["a", "b", "c"]
    record = call["event"]["Records"][0]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"].endswith(f":{stack.delete_queue}")
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"messageId", "receiptHandle", "md5OfBody", "awsRegion"} <= record.keys()
    context = call["context"]
    assert context.function_name == "filemanager-local-consume"
    assert context.aws_request_id
    assert 0 < context.get_remaining_time_in_millis() <= 60_000


def test_a_raising_batch_comes_back_whole(
    runner: EventSourceRunner, stack: ProvisionedStack, sqs: Any, seen: Recorder
) -> None:
    seen.fail_first_batch = True
    _send(sqs, stack.delete_queue_url, "a", "b")
    runner.start()

    wait_for(lambda: len(seen.of("sqs")) >= 2, what="a redelivery")
    wait_for(lambda: _count(sqs, stack.delete_queue_url) == 0, what="an empty queue")
    first, second = seen.of("sqs")[:2]
    assert sorted(first["bodies"]) == sorted(second["bodies"]) == ["a", "b"]
    counts = {
        r["attributes"]["ApproximateReceiveCount"] for r in second["event"]["Records"]
    }
    assert counts == {"2"}


def test_a_poison_message_alone_ends_in_the_dlq(
    runner: EventSourceRunner, stack: ProvisionedStack, sqs: Any, seen: Recorder
) -> None:
    _send(sqs, stack.delete_queue_url, "a", POISON, "b")
    runner.start()

    wait_for(lambda: _count(sqs, stack.delete_dlq_url) == 1, what="the DLQ")
    wait_for(lambda: _count(sqs, stack.delete_queue_url) == 0, what="an empty queue")
    calls = seen.of("sqs")
    assert sorted(calls[0]["bodies"]) == sorted(["a", POISON, "b"])
    # The handler deleted the good ones itself; only the poison came back.
    assert all(c["bodies"] == [POISON] for c in calls[1:])
    assert len(calls) == resources.CONSUMER_MAX_RECEIVE_COUNT
    parked = sqs.receive_message(QueueUrl=stack.delete_dlq_url)["Messages"]
    assert [m["Body"] for m in parked] == [POISON]


def test_s3_handler_gets_one_record_per_call_with_the_key_as_sent(
    runner: EventSourceRunner, target: Target, stack: ProvisionedStack, seen: Recorder
) -> None:
    s3 = target.client("s3")
    keys = ["folder/a b+c é.txt", "folder/second.txt"]
    runner.start()
    for key in keys:
        s3.put_object(Bucket=stack.bucket, Key=key, Body=b"x")

    wait_for(lambda: len(seen.of("s3")) == 2, what="two S3 calls")
    calls = seen.of("s3")
    assert all(len(c["event"]["Records"]) == 1 for c in calls)
    sent = sorted(c["event"]["Records"][0]["s3"]["object"]["key"] for c in calls)
    assert sent == sorted(quote_plus(k) for k in keys)
    assert sorted(c["key"] for c in calls) == sorted(keys)


def test_s3_handler_filters_and_skips_the_test_event(
    runner: EventSourceRunner,
    target: Target,
    stack: ProvisionedStack,
    sqs: Any,
    seen: Recorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="devstack")
    s3 = target.client("s3")
    s3.put_object(Bucket=stack.bucket, Key="skip/me.bin", Body=b"x")
    s3.put_object(Bucket=stack.bucket, Key="deleted.txt", Body=b"x")
    s3.delete_object(Bucket=stack.bucket, Key="deleted.txt")
    runner.start()

    wait_for(
        lambda: _count(sqs, stack.s3_events_queue_url) == 0, what="a drained queue"
    )
    assert [c["key"] for c in seen.of("s3")] == ["deleted.txt"]
    assert seen.of("s3")[0]["event"]["Records"][0]["eventName"].startswith(
        "ObjectCreated:"
    )
    assert any(r.getMessage() == "skipped s3:TestEvent" for r in caplog.records)


def test_a_failing_s3_event_is_tried_three_times_then_parked(
    runner: EventSourceRunner,
    target: Target,
    stack: ProvisionedStack,
    sqs: Any,
    seen: Recorder,
) -> None:
    seen.fail_s3 = True
    runner.start()
    target.client("s3").put_object(Bucket=stack.bucket, Key="bad.txt", Body=b"x")

    wait_for(
        lambda: _count(sqs, stack.s3_failures_queue_url) == 1, what="a parked event"
    )
    assert len(seen.of("s3")) == 3
    (parked,) = sqs.receive_message(QueueUrl=stack.s3_failures_queue_url)["Messages"]
    record = json.loads(parked["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["responsePayload"]["errorType"] == "RuntimeError"
    key = record["requestPayload"]["Records"][0]["s3"]["object"]["key"]
    assert key == "bad.txt"
    wait_for(
        lambda: _count(sqs, stack.s3_events_queue_url) == 0, what="a drained queue"
    )


def test_cw_handler_gets_default_bus_events_one_by_one(
    runner: EventSourceRunner, target: Target, seen: Recorder
) -> None:
    runner.start()
    events = target.client("events")
    entries = [
        {
            "Source": "test.source",
            "DetailType": "Tested",
            "Detail": json.dumps({"n": n}),
        }
        for n in (1, 2)
    ]
    assert events.put_events(Entries=entries)["FailedEntryCount"] == 0

    wait_for(lambda: len(seen.of("cw")) == 2, what="two EventBridge events")
    assert sorted(c["detail"]["n"] for c in seen.of("cw")) == [1, 2]
    assert all(c["account"] for c in seen.of("cw"))


def test_schedule_fires_on_its_rate() -> None:
    fired: list[dict[str, Any]] = []
    function = Function(
        handler="tick",
        name="fake-local-tick",
        arn="arn:aws:lambda:us-east-1:123456789012:function:fake-local-tick",
        entry=lambda event, context: fired.append(event),
        timeout=60,
        memory=128,
    )
    source = ScheduleSource(
        function,
        Rate(seconds=1),
        "arn:aws:events:us-east-1:123456789012:rule/tick",
        AsyncInvoke(Invoker(), ()),
        "us-east-1",
        "123456789012",
    )
    stop = threading.Event()
    thread = threading.Thread(target=source.run, args=(stop,))
    thread.start()
    try:
        wait_for(lambda: len(fired) >= 2, timeout=5, what="two ticks")
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()
    assert fired[0]["detail-type"] == "Scheduled Event"
    assert fired[0]["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/tick"]


def test_runner_stops_promptly_when_idle(runner: EventSourceRunner) -> None:
    runner.start()
    labels = {source.label for source in runner.sources}
    started = time.monotonic()

    runner.stop(timeout=5)

    assert time.monotonic() - started < 3
    assert not [t for t in threading.enumerate() if t.name in labels]
