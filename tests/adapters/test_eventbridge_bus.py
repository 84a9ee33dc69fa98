"""The EventBridge publisher: per-entry failures, and real delivery to a queue."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.stub import Stubber

from chalicelib import clients
from chalicelib.adapters.eventbridge_bus import EventBridgePublisher
from chalicelib.errors import DependencyUnavailableError
from chalicelib.messages import DeleteFileV1, Message, from_forwarded_event
from tests.adapters.conftest import BUS, CommandQueue, receive_all
from tests.builders import message_of, pending_record


def _command(name: str = "a.txt") -> DeleteFileV1:
    return message_of(DeleteFileV1, pending_record(name=name), "trace-b", 2)


@pytest.fixture
def stubbed_events(aws: None) -> Any:
    client = clients.client("events")
    with Stubber(client) as stubber:
        yield stubber


def test_a_put_whose_entries_failed_raises_and_names_the_failed_message(
    stubbed_events: Stubber,
) -> None:
    command = _command()
    stubbed_events.add_response(
        "put_events",
        {
            "FailedEntryCount": 1,
            "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "try later"}],
        },
        {
            "Entries": [
                {
                    "EventBusName": BUS,
                    "Source": "filemanager",
                    "DetailType": "DeleteFile",
                    "Detail": command.to_json(),
                }
            ]
        },
    )
    publisher = EventBridgePublisher(lambda: stubbed_events.client, BUS)

    with pytest.raises(DependencyUnavailableError) as caught:
        publisher.publish([command])

    assert caught.value.message == (
        "the event bus did not accept the message; try again"
    )
    assert caught.value.details == {
        "failures": [
            {
                "event_id": command.metadata.event_id,
                "type": "DeleteFile",
                "error_code": "InternalFailure",
            }
        ]
    }
    stubbed_events.assert_no_pending_responses()


def test_a_put_that_failed_one_entry_of_two_names_only_that_one(
    stubbed_events: Stubber,
) -> None:
    accepted, refused = _command("a.txt"), _command("b.txt")
    stubbed_events.add_response(
        "put_events",
        {
            "FailedEntryCount": 1,
            "Entries": [
                {"EventId": "eb-1"},
                {"ErrorCode": "ThrottlingException", "ErrorMessage": "slow down"},
            ],
        },
    )
    publisher = EventBridgePublisher(lambda: stubbed_events.client, BUS)

    with pytest.raises(DependencyUnavailableError) as caught:
        publisher.publish([accepted, refused])

    assert caught.value.details == {
        "failures": [
            {
                "event_id": refused.metadata.event_id,
                "type": "DeleteFile",
                "error_code": "ThrottlingException",
            }
        ]
    }


def test_a_put_the_service_refused_outright_raises_a_retryable_error(
    stubbed_events: Stubber,
) -> None:
    stubbed_events.add_client_error(
        "put_events", service_error_code="AccessDeniedException", http_status_code=400
    )
    publisher = EventBridgePublisher(lambda: stubbed_events.client, BUS)

    with pytest.raises(DependencyUnavailableError) as caught:
        publisher.publish([_command()])

    assert caught.value.status == 503
    assert caught.value.message == "the event bus refused the call; try again"


def test_a_published_command_reaches_the_queue_through_a_rule_intact(
    publisher: EventBridgePublisher, command_queue: CommandQueue, sqs: Any
) -> None:
    command = _command()

    publisher.publish([command])

    (received,) = receive_all(sqs, command_queue.url, expected=1)
    forwarded = json.loads(received["Body"])
    assert forwarded["detail-type"] == "DeleteFile"
    assert forwarded["source"] == "filemanager"
    assert from_forwarded_event(received["Body"], [DeleteFileV1]) == command


def test_more_messages_than_one_put_takes_go_out_in_several_puts(
    publisher: EventBridgePublisher, command_queue: CommandQueue, sqs: Any
) -> None:
    puts: list[int] = []
    events = clients.client("events")
    events.meta.events.register(
        "provide-client-params.events.PutEvents",
        lambda params, **_: puts.append(len(params["Entries"])),
    )
    commands: list[Message] = [_command(f"{n}.txt") for n in range(23)]

    publisher.publish(commands)

    received = receive_all(sqs, command_queue.url, expected=23)
    assert puts == [10, 10, 3]
    assert sorted(
        json.loads(m["Body"])["detail"]["metadata"]["event_id"] for m in received
    ) == sorted(c.metadata.event_id for c in commands)
