"""The real adapters against moto's in-process AWS (`mock_aws`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from moto import mock_aws

from chalicelib import clients
from chalicelib.adapters.dynamodb_index import DynamoDBFileIndex
from chalicelib.adapters.eventbridge_bus import EventBridgePublisher
from chalicelib.adapters.s3_store import S3ObjectStore
from chalicelib.adapters.table_schema import table_definition
from chalicelib.messages import SOURCE

REGION = "us-east-1"
TABLE = "filemanager-test-files"
BUCKET = "filemanager-test-files"
BUS = "filemanager-test-bus"
QUEUE = "filemanager-test-delete-file"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    clients.reset()
    with mock_aws():
        yield
    clients.reset()


@dataclass
class QueryLog:
    """What each DynamoDB Query asked for and how many items it read."""

    limits: list[int] = field(default_factory=list)
    scanned: list[int] = field(default_factory=list)

    def on_params(self, params: dict[str, Any], **_: Any) -> None:
        self.limits.append(params["Limit"])

    def on_answer(self, parsed: dict[str, Any], **_: Any) -> None:
        self.scanned.append(parsed["ScannedCount"])


@pytest.fixture
def dynamodb(aws: None) -> Any:
    client = clients.client("dynamodb")
    client.create_table(**table_definition(TABLE))
    return client


@pytest.fixture
def query_log(dynamodb: Any) -> QueryLog:
    log = QueryLog()
    dynamodb.meta.events.register("provide-client-params.dynamodb.Query", log.on_params)
    dynamodb.meta.events.register("after-call.dynamodb.Query", log.on_answer)
    return log


@pytest.fixture
def file_index(dynamodb: Any) -> DynamoDBFileIndex:
    return DynamoDBFileIndex(lambda: clients.client("dynamodb"), TABLE)


@pytest.fixture
def s3(aws: None) -> Any:
    client = clients.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def object_store(s3: Any) -> S3ObjectStore:
    return S3ObjectStore(lambda: clients.client("s3"), BUCKET)


@dataclass(frozen=True)
class CommandQueue:
    url: str
    arn: str


@pytest.fixture
def sqs(aws: None) -> Any:
    return clients.client("sqs")


@pytest.fixture
def command_queue(sqs: Any) -> CommandQueue:
    """The custom bus, a rule for our messages, and the queue it feeds."""
    url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    events = clients.client("events")
    events.create_event_bus(Name=BUS)
    events.put_rule(
        Name="to-queue",
        EventBusName=BUS,
        EventPattern=json.dumps({"source": [SOURCE]}),
    )
    events.put_targets(
        Rule="to-queue", EventBusName=BUS, Targets=[{"Id": "queue", "Arn": arn}]
    )
    return CommandQueue(url=url, arn=arn)


@pytest.fixture
def publisher(command_queue: CommandQueue) -> EventBridgePublisher:
    return EventBridgePublisher(lambda: clients.client("events"), BUS)


def receive_all(sqs: Any, url: str, expected: int) -> list[dict[str, Any]]:
    """Receive until `expected` messages are in hand or the queue is empty."""
    received: list[dict[str, Any]] = []
    while len(received) < expected:
        batch = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=300
        ).get("Messages", [])
        if not batch:
            break
        received += batch
    return received


def messages_left(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
        ],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())
