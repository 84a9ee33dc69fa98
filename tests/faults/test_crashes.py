"""A function that dies mid-batch, mid-message: the whole batch comes back.

The death is a `LambdaDied` raised at a chosen call (a timeout, a killed
process): nothing after it runs, not even the batch's own clean-up, so
messages already done are delivered again with the rest.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.faults.conftest import Service, keyed
from tests.faults.injector import FaultInjector, LambdaDied


def _deleting(service: Service, count: int) -> list[tuple[str, str]]:
    files = [service.available(f"doc-{n}.txt") for n in range(count)]
    for file_id, _ in files:
        assert service.files.delete(file_id).status_code == 202
    return files


def _expected_feed(ids: list[str]) -> list[tuple[str, str, int]]:
    changes = [("created", i, 1) for i in ids] + [("deleted", i, 3) for i in ids]
    return sorted(changes)


def _deleted_event_ids(published: list[dict[str, Any]]) -> Counter[str]:
    return Counter(
        e["detail"]["metadata"]["event_id"]
        for e in published
        if e["detail-type"] == "FileDeleted"
    )


def test_a_delete_consumer_dying_after_removing_bytes_mid_batch_loses_nothing(
    service: Service, faults: FaultInjector
) -> None:
    files = _deleting(service, 3)
    (_, second_key) = files[1]
    faults.crash("s3", "DeleteObject", when=keyed(second_key))

    deliveries = service.run_deletes()
    service.settle()

    assert [d.ok for d in deliveries] == [False, True]
    assert isinstance(deliveries[0].error, LambdaDied)
    assert len(deliveries[0].message_ids) == 3
    ids = [file_id for file_id, _ in files]
    assert {service.status(i) for i in ids} == {"GONE"}
    assert service.stack.object_keys() == []
    assert service.file_items() == []
    assert sorted(service.feed()) == _expected_feed(ids)


def test_a_delete_consumer_dying_after_announcing_announces_under_the_same_ids(
    service: Service, faults: FaultInjector
) -> None:
    files = _deleting(service, 2)
    service.stack.published()
    faults.crash("events", "PutEvents")

    deliveries = service.run_deletes()
    service.settle()

    assert [d.ok for d in deliveries] == [False, True]
    ids = [file_id for file_id, _ in files]
    # The first file's events went out twice, with the same ids.
    counts = _deleted_event_ids(service.stack.published())
    assert sorted(counts.values()) == [1, 1, 2, 2]
    assert service.file_items() == []
    assert sorted(service.feed()) == _expected_feed(ids)


def test_a_change_feed_dying_after_its_first_append_records_each_change_once(
    service: Service, faults: FaultInjector
) -> None:
    ids = [service.available(f"doc-{n}.txt")[0] for n in range(3)]
    faults.crash("dynamodb", "TransactWriteItems")

    deliveries = service.run_feed()

    assert [d.ok for d in deliveries] == [False, True]
    feed = service.feed()
    assert sorted(feed) == sorted(("created", i, 1) for i in ids)
    body = service.files.get("/changes").json_body
    # Positions have no gaps: three changes, and the cursor after the third.
    assert len(body["changes"]) == 3


def test_a_batch_whose_handled_messages_cannot_be_acknowledged_comes_back_whole(
    service: Service, faults: FaultInjector
) -> None:
    files = _deleting(service, 3)
    (_, second_key) = files[1]
    faults.fail("s3", "DeleteObject", "InternalError", when=keyed(second_key))
    faults.fail("sqs", "DeleteMessageBatch", "AWS.SimpleQueueService.Throttled")

    deliveries = service.run_deletes()
    service.settle()

    assert [d.ok for d in deliveries] == [False, True]
    assert len(deliveries[1].message_ids) == 3
    ids = [file_id for file_id, _ in files]
    assert service.stack.object_keys() == []
    assert service.file_items() == []
    assert sorted(service.feed()) == _expected_feed(ids)


def test_an_s3_handler_dying_between_its_write_and_its_events_announces_on_retry(
    service: Service, faults: FaultInjector
) -> None:
    file_id, key = service.upload("a.txt")
    faults.crash("dynamodb", "TransactWriteItems")

    assert service.object_created(key)
    service.settle()

    assert isinstance(service.s3_errors[0], LambdaDied)
    assert service.status(file_id) == "AVAILABLE"
    assert service.feed() == [("created", file_id, 1)]
    (item,) = service.file_items()
    assert "outbox" not in item
