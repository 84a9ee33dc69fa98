"""The app's AWS resources on a moto of ours, and a way to rewind them.

The topology (names, which rule feeds which queue) comes from the local
stack's own description, `devstack.resources.stack_spec`, so the benchmarks
run on what `make dev` runs on. Only the queues the app's handlers consume
are made, with the bus rules that feed them: nothing else fills up.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3

from bench.stage import STAGE, config
from chalicelib.adapters.table_schema import table_definition
from devstack.resources import StackNames, stack_spec

# BatchWriteItem takes at most 25 requests.
BATCH_WRITE_MAX = 25


def plain_client(service: str) -> Any:
    """A client of the current environment (mock_aws, or AWS_ENDPOINT_URL)."""
    return boto3.session.Session().client(service)


@dataclass(frozen=True)
class Queue:
    name: str
    url: str
    arn: str


@dataclass
class Resources:
    region: str
    bucket: str
    table: str
    bus: str
    queues: dict[str, Queue] = field(default_factory=dict)
    clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        if service not in self.clients:
            self.clients[service] = plain_client(service)
        return self.clients[service]

    def drain(self) -> None:
        """Empty every queue (moto allows a PurgeQueue a minute, so delete)."""
        sqs = self.client("sqs")
        for queue in self.queues.values():
            while batch := self.receive(queue.name, 10):
                entries = [
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(batch)
                ]
                sqs.delete_message_batch(QueueUrl=queue.url, Entries=entries)

    def receive(self, queue: str, count: int) -> list[dict[str, Any]]:
        """Up to `count` messages of a queue, kept invisible meanwhile."""
        received: list[dict[str, Any]] = []
        while len(received) < count:
            batch = self.client("sqs").receive_message(
                QueueUrl=self.queues[queue].url,
                MaxNumberOfMessages=min(10, count - len(received)),
                VisibilityTimeout=3600,
                MessageSystemAttributeNames=["All"],
            )
            if not batch.get("Messages"):
                break
            received += batch["Messages"]
        return received


def provision(env: Mapping[str, str], consumed: Iterable[str]) -> Resources:
    """Bucket, table, bus, the consumed queues and the rules that feed them."""
    names = StackNames.from_env(config()["app_name"], STAGE, env)
    spec = stack_spec(names)
    wanted = set(consumed)
    resources = Resources(
        region=env["AWS_REGION"],
        bucket=spec.bucket.name,
        table=spec.table,
        bus=names.event_bus,
    )
    sqs, events = resources.client("sqs"), resources.client("events")
    resources.client("s3").create_bucket(Bucket=resources.bucket)
    resources.client("dynamodb").create_table(**table_definition(resources.table))
    events.create_event_bus(Name=resources.bus)
    for name in sorted(wanted):
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        resources.queues[name] = Queue(name, url, arn["Attributes"]["QueueArn"])
    for rule in spec.rules:
        if rule.target_queue not in wanted:
            continue
        events.put_rule(
            Name=rule.name, EventBusName=rule.bus, EventPattern=json.dumps(rule.pattern)
        )
        target = {"Id": "queue", "Arn": resources.queues[rule.target_queue].arn}
        events.put_targets(Rule=rule.name, EventBusName=rule.bus, Targets=[target])
    return resources


# --- rewinding state, so the same calls can be made again directly -------------


@dataclass(frozen=True)
class StoredObject:
    key: str
    body: bytes
    content_type: str


@dataclass(frozen=True)
class Snapshot:
    items: list[dict[str, Any]]
    objects: list[StoredObject]


def snapshot(resources: Resources) -> Snapshot:
    objects = [_stored(resources, key) for key in _keys(resources)]
    return Snapshot(items=_items(resources), objects=objects)


def _stored(resources: Resources, key: str) -> StoredObject:
    got = resources.client("s3").get_object(Bucket=resources.bucket, Key=key)
    content_type = got.get("ContentType", "binary/octet-stream")
    return StoredObject(key, got["Body"].read(), content_type)


def restore(resources: Resources, saved: Snapshot) -> None:
    """Put table and bucket back exactly as they were when `saved` was taken."""
    key_names = [k["AttributeName"] for k in table_definition("t")["KeySchema"]]
    deletes = [
        {"DeleteRequest": {"Key": {k: item[k] for k in key_names}}}
        for item in _items(resources)
    ]
    puts = [{"PutRequest": {"Item": item}} for item in saved.items]
    batch_write(resources, deletes)
    batch_write(resources, puts)
    s3 = resources.client("s3")
    for key in _keys(resources):
        s3.delete_object(Bucket=resources.bucket, Key=key)
    for stored in saved.objects:
        s3.put_object(
            Bucket=resources.bucket,
            Key=stored.key,
            Body=stored.body,
            ContentType=stored.content_type,
        )


def batch_write(resources: Resources, requests: list[dict[str, Any]]) -> None:
    dynamodb = resources.client("dynamodb")
    for start in range(0, len(requests), BATCH_WRITE_MAX):
        pending = {resources.table: requests[start : start + BATCH_WRITE_MAX]}
        while pending:
            answer = dynamodb.batch_write_item(RequestItems=pending)
            pending = answer.get("UnprocessedItems") or {}


def _items(resources: Resources) -> list[dict[str, Any]]:
    paginator = resources.client("dynamodb").get_paginator("scan")
    pages = paginator.paginate(TableName=resources.table, ConsistentRead=True)
    return [item for page in pages for item in page.get("Items", [])]


def _keys(resources: Resources) -> list[str]:
    paginator = resources.client("s3").get_paginator("list_objects_v2")
    pages = paginator.paginate(Bucket=resources.bucket)
    return [o["Key"] for page in pages for o in page.get("Contents", [])]
