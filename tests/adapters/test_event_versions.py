"""Each consumer's rule picks its one version off the bus, on moto's EventBridge.

The producers publish every version in use as its own event; the rules that
`Subscription.event_patterns` builds must send each consumer exactly the
versions it reads, and nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from chalicelib import clients
from chalicelib.adapters.dynamodb_index import DynamoDBFileIndex
from chalicelib.adapters.eventbridge_bus import EventBridgePublisher
from chalicelib.adapters.s3_store import S3ObjectStore
from chalicelib.errors import UnknownMessageError
from chalicelib.messages import (
    CATALOGUE,
    SUBSCRIPTIONS,
    FileCreatedV1,
    FileCreatedV2,
    Message,
    Subscription,
    from_forwarded_event,
)
from chalicelib.uploads import UploadProcessor
from tests.adapters.conftest import BUCKET, BUS, receive_all
from tests.builders import OWNER, ROOMY_QUOTA, message_of, pending_record
from tests.fakes import FIXED_NOW

Route = Callable[[Subscription], str]

V1_READER = Subscription(
    consumer="v1-reader",
    description="An older consumer that still reads FileCreated version 1.",
    reads=(FileCreatedV1,),
)
V2_READER = Subscription(
    consumer="v2-reader",
    description="A newer consumer that reads FileCreated version 2.",
    reads=(FileCreatedV2,),
)


@pytest.fixture
def route(sqs: Any) -> Route:
    """Give a subscription a queue and one rule per version it reads."""
    events = clients.client("events")
    events.create_event_bus(Name=BUS)

    def subscribe(subscription: Subscription) -> str:
        url = sqs.create_queue(QueueName=subscription.consumer)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        for version, pattern in subscription.event_patterns().items():
            rule = f"{subscription.consumer}-v{version}"
            events.put_rule(
                Name=rule, EventBusName=BUS, EventPattern=json.dumps(pattern)
            )
            events.put_targets(
                Rule=rule, EventBusName=BUS, Targets=[{"Id": rule, "Arn": arn}]
            )
        return str(url)

    return subscribe


@pytest.fixture
def bus(route: Route) -> EventBridgePublisher:
    return EventBridgePublisher(lambda: clients.client("events"), BUS)


def _everything_in(sqs: Any, url: str) -> list[dict[str, Any]]:
    return receive_all(sqs, url, expected=100)


def _type_versions(received: list[dict[str, Any]]) -> set[tuple[str, int]]:
    return {
        (body["detail-type"], body["detail"]["metadata"]["version"])
        for body in (json.loads(m["Body"]) for m in received)
    }


def test_a_version_1_and_a_version_2_consumer_each_get_only_their_version(
    route: Route,
    bus: EventBridgePublisher,
    file_index: DynamoDBFileIndex,
    object_store: S3ObjectStore,
    s3: Any,
    sqs: Any,
) -> None:
    v1_queue, v2_queue = route(V1_READER), route(V2_READER)
    record = pending_record(name="docs/a.txt", size=5, content_type="text/plain")
    file_index.create(record, ROOMY_QUOTA)
    s3.put_object(
        Bucket=BUCKET, Key=record.key, Body=b"hello", ContentType="text/plain"
    )
    uploads = UploadProcessor(index=file_index, store=object_store, bus=bus)

    uploads.object_created(record.key, "trace-versions")

    available = file_index.get(OWNER, record.file_id)
    assert available is not None
    (v1_body,) = [m["Body"] for m in _everything_in(sqs, v1_queue)]
    (v2_body,) = [m["Body"] for m in _everything_in(sqs, v2_queue)]
    v1 = from_forwarded_event(v1_body, V1_READER.reads)
    v2 = from_forwarded_event(v2_body, V2_READER.reads)
    assert (type(v1), type(v2)) == (FileCreatedV1, FileCreatedV2)
    for model, received in ((FileCreatedV1, v1), (FileCreatedV2, v2)):
        expected = model.about(
            available, "trace-versions", available.sequence, FIXED_NOW
        )
        assert received.metadata.event_id == expected.metadata.event_id
        assert received.metadata.trace_id == "trace-versions"
        assert received.metadata.sequence == available.sequence
        assert received.data == expected.data
    assert v1.metadata.event_id != v2.metadata.event_id
    with pytest.raises(UnknownMessageError):
        from_forwarded_event(v1_body, V2_READER.reads)
    with pytest.raises(UnknownMessageError):
        from_forwarded_event(v2_body, V1_READER.reads)


def test_the_real_subscriptions_route_each_consumer_exactly_what_it_reads(
    route: Route, bus: EventBridgePublisher, sqs: Any
) -> None:
    queues = {name: route(s) for name, s in SUBSCRIPTIONS.items()}
    every_message: list[Message] = [message_of(m) for m in CATALOGUE.values()]

    bus.publish(every_message)

    received = {name: _everything_in(sqs, url) for name, url in queues.items()}
    assert _type_versions(received["delete-file"]) == {("DeleteFile", 1)}
    assert _type_versions(received["change-feed"]) == {
        ("FileCreated", 2),
        ("FileDeleted", 2),
        ("FileRejected", 1),
        ("FileRenamed", 1),
        ("FileRestored", 1),
        ("FileTrashed", 1),
    }
    for name, subscription in SUBSCRIPTIONS.items():
        assert len(received[name]) == len(subscription.reads)
        for message in received[name]:
            read = from_forwarded_event(message["Body"], subscription.reads)
            assert read in every_message
