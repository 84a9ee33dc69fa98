"""DynamoDB throttling and conditional failures, on every path that writes.

A throttled or cancelled write is a 503 to a caller (with nothing changed)
or a message that comes back; a write that lost a race is a 409 to a caller
or a message that comes back and finds the newer state. Never half a change.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.app.test_housekeeping import _sweep
from tests.faults.conftest import Service
from tests.faults.injector import FaultInjector


def _writes_status(status: str) -> Any:
    """Picks transactions whose first item writes a record in `status`."""

    def picks(params: dict[str, Any]) -> bool:
        put = params["TransactItems"][0].get("Put", {})
        return put.get("Item", {}).get("status", {}).get("S") == status

    return picks


def _feed_append(params: dict[str, Any]) -> bool:
    put = params["TransactItems"][0].get("Put", {})
    return put.get("Item", {}).get("sk", {}).get("S", "").startswith("EVENT#")


# --- the routes ------------------------------------------------------------------


def test_a_throttled_create_is_a_503_that_leaves_nothing_behind(
    service: Service, faults: FaultInjector
) -> None:
    faults.throttle("dynamodb", "TransactWriteItems")

    refused = service.files.create("a.txt")
    accepted = service.files.create("a.txt")

    assert refused.status_code == 503
    assert refused.json_body["Code"] == "ServiceUnavailable"
    # The retry got the name: the refused create held nothing.
    assert accepted.status_code == 201
    assert len(service.file_items()) == 1


def test_a_create_whose_transaction_was_throttled_is_no_name_conflict(
    service: Service, faults: FaultInjector
) -> None:
    faults.cancel_transaction("ThrottlingError")

    answer = service.files.create("a.txt")

    assert answer.status_code == 503
    assert answer.json_body["Code"] == "ServiceUnavailable"
    assert service.stack.table_items() == []


def test_a_throttled_listing_is_a_503_in_our_error_shape(
    service: Service, faults: FaultInjector
) -> None:
    service.available("a.txt")
    faults.throttle("dynamodb", "Query")

    answer = service.files.get("/files")

    assert answer.status_code == 503
    assert {"Code", "Message"} <= set(answer.json_body)
    assert answer.json_body["Code"] == "ServiceUnavailable"


def test_a_delete_whose_mark_is_throttled_is_a_503_and_sends_no_command(
    service: Service, faults: FaultInjector
) -> None:
    file_id, key = service.available("a.txt")
    faults.throttle("dynamodb", "TransactWriteItems")

    answer = service.files.delete(file_id)

    assert answer.status_code == 503
    assert service.status(file_id) == "AVAILABLE"
    assert service.depth(service.stack.commands) == 0
    assert key in service.stack.object_keys()


def test_a_delete_that_loses_the_race_with_its_upload_is_a_409_and_sends_nothing(
    service: Service, faults: FaultInjector
) -> None:
    file_id, key = service.upload("a.txt")
    # The upload's S3 event settles the file between the route's read and
    # its conditional mark.
    faults.interleave(
        "dynamodb",
        "TransactWriteItems",
        lambda: service.object_created(key),
        after=False,
        when=_writes_status("DELETING"),
    )

    lost = service.files.delete(file_id)
    status_between = service.status(file_id)
    again = service.files.delete(file_id)
    service.settle()

    assert (lost.status_code, lost.json_body["Code"]) == (409, "ConcurrentUpdate")
    assert status_between == "AVAILABLE"
    assert again.status_code == 202
    assert service.status(file_id) == "GONE"
    assert service.stack.object_keys() == []
    assert service.feed() == [("created", file_id, 1), ("deleted", file_id, 3)]


# --- the S3 handler and the consumers -----------------------------------------


def test_an_upload_whose_settling_write_is_throttled_settles_on_the_retry(
    service: Service, faults: FaultInjector
) -> None:
    file_id, key = service.upload("a.txt")
    service.stack.published()
    faults.throttle("dynamodb", "TransactWriteItems")

    assert service.object_created(key)
    service.settle()

    assert len(service.s3_errors) == 1
    assert service.status(file_id) == "AVAILABLE"
    assert len(service.stack.published()) == 2  # FileCreated v1 and v2, once
    assert service.feed() == [("created", file_id, 1)]


def test_a_delete_whose_record_removal_is_throttled_finishes_once_on_redelivery(
    service: Service, faults: FaultInjector
) -> None:
    file_id, _ = service.available("a.txt")
    assert service.files.delete(file_id).status_code == 202
    # The claim is the first transaction, the removal the second.
    faults.throttle(
        "dynamodb",
        "TransactWriteItems",
        when=lambda params: "Delete" in params["TransactItems"][0],
    )

    deliveries = service.run_deletes()
    service.settle()

    assert [d.ok for d in deliveries] == [False, True]
    assert service.status(file_id) == "GONE"
    assert service.stack.object_keys() == []
    assert service.file_items() == []
    assert service.feed() == [("created", file_id, 1), ("deleted", file_id, 3)]


def test_a_throttled_change_feed_records_each_change_once_on_redelivery(
    service: Service, faults: FaultInjector
) -> None:
    first, _ = service.available("a.txt")
    second, _ = service.available("b.txt")
    faults.throttle("dynamodb", "TransactWriteItems", when=_feed_append)

    deliveries = service.run_feed()

    assert [d.ok for d in deliveries] == [False, True]
    assert sorted(service.feed()) == sorted(
        [("created", first, 1), ("created", second, 1)]
    )


def test_a_feed_whose_head_keeps_moving_retries_the_message_and_loses_nothing(
    service: Service, faults: FaultInjector
) -> None:
    file_id, _ = service.available("a.txt")
    # The head item (second in the append) moved meanwhile, every quick try.
    faults.cancel_transaction(
        None, "ConditionalCheckFailed", None, times=5, when=_feed_append
    )

    deliveries = service.run_feed()

    assert [d.ok for d in deliveries] == [False, True]
    assert type(deliveries[0].error).__name__ == "BatchPartiallyFailedError"
    assert service.feed() == [("created", file_id, 1)]


def test_a_sweep_whose_index_read_is_throttled_does_its_work_next_time(
    service: Service, faults: FaultInjector
) -> None:
    file_id, _ = service.upload("lost-event.txt")
    faults.throttle("dynamodb", "Query")

    first_error = None
    try:
        _sweep(service.files, after=timedelta(minutes=10))
    except Exception as exc:  # the scheduled run fails; the next one comes
        first_error = exc
    _sweep(service.files, after=timedelta(minutes=15))
    service.settle()

    assert first_error is not None
    assert service.status(file_id) == "AVAILABLE"
    assert service.feed() == [("created", file_id, 1)]
