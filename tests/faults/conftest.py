"""The fault tier: the whole app on moto's AWS, with failures injected.

The app, its AWS and a user's view of it are the app tier's (imported from
`tests.app.conftest`, so both tiers build the same stack); this tier adds
dead-letter queues with the deployed redrive policy, faults in the app's own
clients (`injector.FaultInjector`), and delivery with Lambda's semantics: an
SQS batch that raises comes back, one that returns is deleted, and an S3
event is tried three times before it goes to the on-failure queue.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

import pytest

from chalicelib import clients
from devstack.resources import CONSUMER_MAX_RECEIVE_COUNT
from tests.app.conftest import (  # noqa: F401 - the app tier's fixtures, shared
    ALICE,
    BUCKET,
    FileManager,
    Queue,
    Stack,
    _queue,
    app_module,
    aws,
    client,
    files,
    jwks_url,
    signing_key,
    stack,
    tokens,
)
from tests.faults.injector import FaultInjector, LambdaDied

# What Lambda's asynchronous invoke does with an S3 event: the first try and
# two retries.
ASYNC_ATTEMPTS = 3


@pytest.fixture(autouse=True)
def _process_environment() -> Iterator[None]:
    """The process's own `os.environ` back in place after each test.

    Chalice's test client swaps `os.environ` for a copy while it invokes a
    function; two invocations overlapping in threads can leave the copy
    behind, and a copy never reaches the subprocesses of later tests.
    """
    environ = os.environ
    yield
    os.environ = environ  # type: ignore[assignment]  # noqa: B003 - the object


@pytest.fixture
def faults(service: Service) -> FaultInjector:
    """Faults in the clients the app's adapters use (built by `stack`)."""
    return FaultInjector(clients.client)


@dataclass
class Delivery:
    """What one delivery of a batch came to."""

    message_ids: list[str]
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class Service:
    """The app's AWS, delivered as Lambda delivers it, and what it holds."""

    files: FileManager
    stack: Stack
    delete_dlq: Queue
    feed_dlq: Queue
    # S3 events whose three tries all failed (the on-failure destination).
    s3_failures: list[str] = field(default_factory=list)
    # What each failed try of an S3 event raised.
    s3_errors: list[BaseException] = field(default_factory=list)

    # --- delivering --------------------------------------------------------

    def deliver(self, queue: Queue, handler: str, limit: int = 10) -> Delivery:
        """One batch from `queue` to `handler`; raising hands it back at once."""
        sqs = self.stack.sqs
        received = sqs.receive_message(
            QueueUrl=queue.url,
            MaxNumberOfMessages=limit,
            VisibilityTimeout=30,
            AttributeNames=["All"],
        ).get("Messages", [])
        delivery = Delivery([m["MessageId"] for m in received])
        if not received:
            return delivery
        event = self.files.sqs_event(received, queue)
        try:
            self.files.client.lambda_.invoke(handler, event)
        except (Exception, LambdaDied) as exc:
            delivery.error = exc
            # Lambda's poller would wait out the visibility timeout; the test
            # does not. Messages the batch deleted itself have no receipt.
            sqs.change_message_visibility_batch(
                QueueUrl=queue.url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    | {"VisibilityTimeout": 0}
                    for i, m in enumerate(received)
                ],
            )
            return delivery
        sqs.delete_message_batch(
            QueueUrl=queue.url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(received)
            ],
        )
        return delivery

    def drain(self, queue: Queue, handler: str, rounds: int = 20) -> list[Delivery]:
        """Deliver until the queue is empty (or `rounds` batches went)."""
        deliveries = []
        for _ in range(rounds):
            delivery = self.deliver(queue, handler)
            if not delivery.message_ids:
                break
            deliveries.append(delivery)
        return deliveries

    def run_deletes(self, rounds: int = 20) -> list[Delivery]:
        return self.drain(self.stack.commands, "on_delete_file", rounds)

    def run_feed(self, rounds: int = 20) -> list[Delivery]:
        return self.drain(self.stack.feed, "on_change_event", rounds)

    def object_created(self, key: str) -> bool:
        """S3's event, tried as an asynchronous invoke is; True when handled."""
        event = self.files.client.events.generate_s3_event(
            bucket=BUCKET, key=quote_plus(key), event_name="ObjectCreated:Post"
        )
        for _ in range(ASYNC_ATTEMPTS):
            try:
                self.files.client.lambda_.invoke("on_object_created", event)
            except (Exception, LambdaDied) as exc:
                self.s3_errors.append(exc)
            else:
                return True
        self.s3_failures.append(key)
        return False

    def settle(self) -> None:
        """Every consumer's queue run dry: the deletes, then the feed."""
        self.run_deletes()
        self.run_feed()

    # --- looking -------------------------------------------------------------

    def status(self, file_id: str, sub: str = ALICE) -> str:
        answer = self.files.get(f"/files/{file_id}", sub)
        if answer.status_code == 404:
            return "GONE"
        assert answer.status_code == 200, answer.json_body
        return str(answer.json_body["status"])

    def feed(self, sub: str = ALICE) -> list[tuple[str, str, int]]:
        """Every change of the user's feed: (type, file id, sequence)."""
        changes: list[tuple[str, str, int]] = []
        path = "/changes"
        while True:
            body = self.files.get(path, sub).json_body
            changes += [
                (c["type"], c["file_id"], c["sequence"]) for c in body["changes"]
            ]
            if not body["has_more"]:
                return changes
            path = f"/changes?cursor={body['cursor']}"

    def listed(self, sub: str = ALICE) -> list[str]:
        items = self.files.get("/files?limit=1000", sub).json_body["items"]
        return [i["file_id"] for i in items]

    def depth(self, queue: Queue) -> int:
        return self.stack.messages_left(queue)

    def file_items(self) -> list[dict[str, Any]]:
        """The index's file records (not names, folders or the feed)."""
        return [
            item
            for item in self.stack.table_items()
            if item["sk"]["S"].startswith("FILE#")
        ]

    def upload(self, name: str, content: bytes = b"hello") -> tuple[str, str]:
        """Create a file and send its bytes, with no S3 event yet: (id, key)."""
        created = self.files.create(name, size=len(content))
        assert created.status_code == 201, created.json_body
        self.files.post_form(created.json_body, content)
        return created.json_body["file_id"], created.json_body["upload"]["fields"][
            "key"
        ]

    def available(self, name: str, content: bytes = b"hello") -> tuple[str, str]:
        """A file uploaded and settled: (id, key)."""
        file_id, key = self.upload(name, content)
        assert self.object_created(key)
        return file_id, key


def _with_dead_letters(resources: Stack, queue: Queue) -> Queue:
    dlq = _queue(resources.sqs, f"{queue.arn.rsplit(':', 1)[-1]}-dlq")
    policy = {
        "deadLetterTargetArn": dlq.arn,
        "maxReceiveCount": str(CONSUMER_MAX_RECEIVE_COUNT),
    }
    resources.sqs.set_queue_attributes(
        QueueUrl=queue.url, Attributes={"RedrivePolicy": json.dumps(policy)}
    )
    return dlq


@pytest.fixture
def service(request: pytest.FixtureRequest) -> Service:
    # Asked for by name: a parameter would shadow the imported fixture.
    manager: FileManager = request.getfixturevalue("files")
    resources: Stack = request.getfixturevalue("stack")
    return Service(
        files=manager,
        stack=resources,
        delete_dlq=_with_dead_letters(resources, resources.commands),
        feed_dlq=_with_dead_letters(resources, resources.feed),
    )


def keyed(key: str) -> Callable[[dict[str, Any]], bool]:
    """Picks S3 calls about one object."""
    return lambda params: params.get("Key") == key
