"""Messages that keep failing wait in a dead-letter queue, and go back whole.

The redrive is the local stack's own (`devstack.dead_letters`, behind
`python -m devstack dead-letters --redrive`), run against the queues with
the deployed redrive policy (five receives, then the dead-letter queue).
"""

from __future__ import annotations

import json
from typing import Any

from devstack import dead_letters
from devstack.invoke import Function, Outcome, failure_record
from devstack.resources import CONSUMER_MAX_RECEIVE_COUNT
from tests.app.conftest import BUCKET, Queue
from tests.faults.conftest import Service, keyed
from tests.faults.injector import FaultInjector


def _redrive(service: Service, dlq: Queue, queue: Queue) -> int:
    moved = dead_letters.drain(service.stack.sqs, dlq.url)
    dead_letters.send_back(service.stack.sqs, dlq.url, queue.url, moved)
    return len(moved)


def test_a_delete_that_keeps_failing_waits_in_the_dead_letter_queue_and_finishes(
    service: Service, faults: FaultInjector
) -> None:
    file_id, key = service.available("a.txt")
    assert service.files.delete(file_id).status_code == 202
    faults.fail("s3", "DeleteObject", "AccessDenied", status=403, times=None)

    failed = service.run_deletes()
    parked = dead_letters.depth(service.stack.sqs, service.delete_dlq.url)
    status_parked = service.status(file_id)
    bytes_parked = key in service.stack.object_keys()
    faults.clear()
    moved = _redrive(service, service.delete_dlq, service.stack.commands)
    service.settle()

    assert len(failed) == CONSUMER_MAX_RECEIVE_COUNT
    assert not any(d.ok for d in failed)
    assert (parked, status_parked, bytes_parked) == (1, "DELETING", True)
    assert moved == 1
    assert service.status(file_id) == "GONE"
    assert service.stack.object_keys() == []
    assert dead_letters.depth(service.stack.sqs, service.delete_dlq.url) == 0
    assert service.feed() == [("created", file_id, 1), ("deleted", file_id, 3)]


def test_a_change_that_keeps_failing_waits_and_is_recorded_once_sent_back(
    service: Service, faults: FaultInjector
) -> None:
    file_id, _ = service.available("a.txt")
    faults.throttle("dynamodb", "TransactWriteItems", times=None)

    service.run_feed()
    parked = dead_letters.depth(service.stack.sqs, service.feed_dlq.url)
    faults.clear()
    _redrive(service, service.feed_dlq, service.stack.feed)
    service.run_feed()

    assert parked == 1
    assert service.feed() == [("created", file_id, 1)]


def test_one_poison_message_goes_to_the_dead_letter_queue_and_the_rest_are_done(
    service: Service, faults: FaultInjector
) -> None:
    good, _ = service.available("good.txt")
    bad, bad_key = service.available("bad.txt")
    for file_id in (good, bad):
        assert service.files.delete(file_id).status_code == 202
    faults.fail("s3", "DeleteObject", "InternalError", times=None, when=keyed(bad_key))

    service.run_deletes()

    assert dead_letters.depth(service.stack.sqs, service.delete_dlq.url) == 1
    assert (service.status(good), service.status(bad)) == ("GONE", "DELETING")
    assert service.stack.object_keys() == [bad_key]


def _failure_of(event: dict[str, Any]) -> str:
    """What Lambda sends the S3 handler's on-failure queue after its tries."""
    function = Function(
        handler="on_object_created",
        name="filemanager-local-on_object_created",
        arn="arn:aws:lambda:us-east-1:123456789012:function:on_object_created",
        entry=lambda event, context: None,
        timeout=60,
        memory=128,
    )
    outcome = Outcome(False, "request-1", RuntimeError("S3 said no"), "error")
    return json.dumps(failure_record(function, event, outcome, attempts=3))


def test_a_failed_s3_event_sent_back_is_the_event_the_handler_reads(
    service: Service,
) -> None:
    file_id, key = service.upload("a.txt")
    event = service.files.client.events.generate_s3_event(
        bucket=BUCKET, key=key, event_name="ObjectCreated:Post"
    )

    body = dead_letters.s3_event_of(_failure_of(event))
    (record,) = json.loads(body)["Records"]
    service.files.client.lambda_.invoke("on_object_created", {"Records": [record]})

    assert service.status(file_id) == "AVAILABLE"
