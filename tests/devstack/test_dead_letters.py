"""Looking into dead-letter queues and sending messages back (moto)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from devstack import dead_letters


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield boto3.client("sqs")


def test_sending_back_moves_every_message_once_and_empties_the_dlq(sqs: Any) -> None:
    dlq = sqs.create_queue(QueueName="work-dlq")["QueueUrl"]
    work = sqs.create_queue(QueueName="work")["QueueUrl"]
    for i in range(13):
        sqs.send_message(QueueUrl=dlq, MessageBody=f"m{i}")

    dead_letters.send_back(sqs, dlq, work, dead_letters.drain(sqs, dlq))

    assert dead_letters.depth(sqs, dlq) == 0
    moved = [m["Body"] for m in dead_letters.drain(sqs, work)]
    assert sorted(moved) == sorted(f"m{i}" for i in range(13))


def test_peeking_leaves_the_messages_where_they_are(sqs: Any) -> None:
    dlq = sqs.create_queue(QueueName="work-dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=dlq, MessageBody="poison")

    assert dead_letters.peek(sqs, dlq) == ["poison"]
    assert dead_letters.depth(sqs, dlq) == 1
