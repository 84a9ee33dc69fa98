"""Every adapter turns an AWS it cannot reach into a retryable error.

A connection failure is a `BotoCoreError`, not a `ClientError`; left
untranslated it would reach the routes as an unexpected 500 and skip the
services' own recovery (a delete mark undone when the bus fails, say).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config

from chalicelib.adapters.dynamodb_index import DynamoDBFileIndex
from chalicelib.adapters.eventbridge_bus import EventBridgePublisher
from chalicelib.adapters.s3_store import S3ObjectStore
from chalicelib.adapters.sqs_queue import SqsAcknowledger
from chalicelib.domain import FileStatus
from chalicelib.errors import DependencyUnavailableError
from chalicelib.messages import DeleteFileV1
from tests.builders import ROOMY_QUOTA, message_of, pending_record, queued


@pytest.fixture(scope="module")
def closed_endpoint() -> str:
    """An address on this machine where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def unreachable(
    closed_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> Callable[[str], Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    config = Config(connect_timeout=1, retries={"max_attempts": 1})

    def client(service: str) -> Any:
        return boto3.client(
            service,
            region_name="us-east-1",
            endpoint_url=closed_endpoint,
            config=config,
        )

    return client


def _command() -> DeleteFileV1:
    return message_of(DeleteFileV1, pending_record(), "t", 1)


def _index(client: Callable[[str], Any]) -> DynamoDBFileIndex:
    return DynamoDBFileIndex(lambda: client("dynamodb"), "table")


def _store(client: Callable[[str], Any]) -> S3ObjectStore:
    return S3ObjectStore(lambda: client("s3"), "bucket")


CALLS: dict[str, Callable[[Callable[[str], Any]], object]] = {
    "publish": lambda c: EventBridgePublisher(lambda: c("events"), "bus").publish(
        [_command()]
    ),
    "index.create": lambda c: _index(c).create(pending_record(), ROOMY_QUOTA),
    "index.get": lambda c: _index(c).get("o", "f"),
    "index.transition": lambda c: _index(c).transition(
        record := pending_record(), record.evolve(status=FileStatus.AVAILABLE)
    ),
    "index.list_page": lambda c: _index(c).list_page("o", "", None, 10, None),
    "store.head": lambda c: _store(c).head("k"),
    "store.delete": lambda c: _store(c).delete("k"),
    "acknowledge": lambda c: SqsAcknowledger(lambda: c("sqs")).delete([queued("{}")]),
}


@pytest.mark.parametrize("call", list(CALLS))
def test_an_unreachable_service_is_a_dependency_unavailable_error(
    unreachable: Callable[[str], Any], call: str
) -> None:
    with pytest.raises(DependencyUnavailableError) as caught:
        CALLS[call](unreachable)

    assert caught.value.status == 503
