"""The bus refusing: one entry of a `PutEvents`, the whole call, or the answer.

Whatever the bus does, a command is either accepted (202) or the caller is
told to retry (503) with the file as it was; an event is either on the bus or
still in its record's outbox, waiting for the message that retries it.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from typing import Any

from tests.app.conftest import BUCKET
from tests.app.test_housekeeping import _sweep
from tests.faults.conftest import Service
from tests.faults.injector import FaultInjector, detail_type_is, version_is

# How long one thread of a test waits for the other's step.
WAIT = 10.0


def _object_exists(service: Service, key: str) -> bool:
    return key in service.stack.object_keys()


def _event_ids(published: list[dict[str, Any]], detail_type: str) -> Counter[str]:
    return Counter(
        e["detail"]["metadata"]["event_id"]
        for e in published
        if e["detail-type"] == detail_type
    )


# --- the delete route ------------------------------------------------------------


def test_a_delete_whose_command_the_bus_refuses_is_a_503_and_changes_nothing(
    service: Service, faults: FaultInjector
) -> None:
    file_id, key = service.available("a.txt")
    faults.refuse_entries(detail_type_is("DeleteFile"))

    answer = service.files.delete(file_id)

    assert answer.status_code == 503
    assert answer.json_body["Code"] == "ServiceUnavailable"
    assert service.status(file_id) == "AVAILABLE"
    assert service.listed() == [file_id]
    assert _object_exists(service, key)
    assert service.depth(service.stack.commands) == 0


def test_a_delete_whose_bus_call_fails_whole_is_a_503_and_a_retry_deletes(
    service: Service, faults: FaultInjector
) -> None:
    file_id, key = service.available("a.txt")
    faults.fail("events", "PutEvents", "InternalException", status=500)

    refused = service.files.delete(file_id)
    accepted = service.files.delete(file_id)
    service.settle()

    assert (refused.status_code, accepted.status_code) == (503, 202)
    assert service.status(file_id) == "GONE"
    assert not _object_exists(service, key)
    assert service.feed() == [("created", file_id, 1), ("deleted", file_id, 5)]


def test_a_command_that_got_through_although_the_route_timed_out_changes_nothing(
    service: Service, faults: FaultInjector
) -> None:
    file_id, key = service.available("a.txt")
    faults.lose_answer("events", "PutEvents")

    answer = service.files.delete(file_id)
    service.settle()

    # The caller was told to retry; the command that did arrive finds the
    # mark undone and leaves the file whole.
    assert answer.status_code == 503
    assert service.status(file_id) == "AVAILABLE"
    assert _object_exists(service, key)
    assert service.feed() == [("created", file_id, 1)]


def test_a_delete_done_while_its_route_still_waits_for_the_bus_is_done_whole(
    service: Service, faults: FaultInjector
) -> None:
    file_id, key = service.available("a.txt")
    # The command arrives and its consumer runs before the route, which saw
    # its call time out, tries to undo the mark.
    faults.lose_answer(
        "events",
        "PutEvents",
        when=lambda params: params["Entries"][0]["DetailType"] == "DeleteFile",
        meanwhile=service.run_deletes,
    )

    answer = service.files.delete(file_id)
    service.settle()

    assert answer.status_code == 503
    # Never a record without its bytes: the file is gone whole.
    assert (service.status(file_id), _object_exists(service, key)) == ("GONE", False)
    assert service.feed() == [("created", file_id, 1), ("deleted", file_id, 3)]
    assert service.file_items() == []


def _undoes_a_mark(params: dict[str, Any]) -> bool:
    put = params["TransactItems"][0].get("Put", {})
    return put.get("Item", {}).get("status", {}).get("S") == "AVAILABLE"


def test_a_mark_undone_while_its_consumer_deletes_never_leaves_a_file_without_bytes(
    service: Service, faults: FaultInjector
) -> None:
    file_id, key = service.available("a.txt")
    bytes_gone, undo_tried = threading.Event(), threading.Event()
    consumer = threading.Thread(target=service.run_deletes)

    def consumer_starts_deleting() -> None:
        consumer.start()
        assert bytes_gone.wait(WAIT)

    # The route times out on the bus; meanwhile the command reaches its
    # consumer, which removes the bytes; then the route undoes its mark,
    # and only then does the consumer go on.
    faults.interleave(
        "s3", "DeleteObject", lambda: (bytes_gone.set(), undo_tried.wait(WAIT))
    )
    faults.interleave(
        "dynamodb", "TransactWriteItems", undo_tried.set, when=_undoes_a_mark
    )
    faults.lose_answer(
        "events",
        "PutEvents",
        when=lambda params: params["Entries"][0]["DetailType"] == "DeleteFile",
        meanwhile=consumer_starts_deleting,
    )

    answer = service.files.delete(file_id)
    undo_tried.set()
    consumer.join(WAIT)
    service.settle()

    assert answer.status_code == 503
    assert not consumer.is_alive()
    # The consumer got there first: the delete stands, whole.
    assert (service.status(file_id), _object_exists(service, key)) == ("GONE", False)
    assert service.feed() == [("created", file_id, 1), ("deleted", file_id, 3)]
    assert service.file_items() == []


# --- the S3 handler ------------------------------------------------------------


def test_an_upload_whose_event_the_bus_refuses_in_part_is_announced_on_retry(
    service: Service, faults: FaultInjector
) -> None:
    file_id, key = service.upload("a.txt")
    service.stack.published()
    faults.refuse_entries(version_is(2))

    assert service.object_created(key)
    service.settle()

    assert service.status(file_id) == "AVAILABLE"
    published = service.stack.published()
    # Version 1 went out twice (the retry re-sends the whole outbox) under
    # one event id; version 2 once.
    assert sorted(_event_ids(published, "FileCreated").values()) == [1, 2]
    assert service.feed() == [("created", file_id, 1)]
    (item,) = service.file_items()
    assert "outbox" not in item


def test_an_upload_announced_while_the_bus_is_down_waits_in_its_outbox(
    service: Service, faults: FaultInjector
) -> None:
    file_id, key = service.upload("a.txt")
    faults.fail("events", "PutEvents", "InternalException", times=None)

    handled = service.object_created(key)
    service.settle()
    faults.clear()
    # The on-failure queue's event, sent back once the bus is up again.
    redriven = service.object_created(service.s3_failures.pop())
    service.settle()

    assert (handled, redriven) == (False, True)
    assert service.status(file_id) == "AVAILABLE"
    assert service.feed() == [("created", file_id, 1)]
    (item,) = service.file_items()
    assert "outbox" not in item


# --- the delete consumer and the sweep --------------------------------------


def test_a_delete_whose_event_the_bus_refuses_is_finished_by_the_retry(
    service: Service, faults: FaultInjector
) -> None:
    file_id, key = service.available("a.txt")
    assert service.files.delete(file_id).status_code == 202
    faults.refuse_entries(detail_type_is("FileDeleted"))

    first = service.deliver(service.stack.commands, "on_delete_file")
    status_between = service.status(file_id)
    service.settle()

    assert not first.ok
    assert status_between == "DELETING"
    assert service.status(file_id) == "GONE"
    assert not _object_exists(service, key)
    assert service.feed() == [("created", file_id, 1), ("deleted", file_id, 3)]


def test_a_sweep_whose_resent_command_the_bus_refuses_resends_it_next_time(
    service: Service, faults: FaultInjector
) -> None:
    file_id, _ = service.available("a.txt")
    assert service.files.delete(file_id).status_code == 202
    service.stack.sqs.purge_queue(QueueUrl=service.stack.commands.url)  # lost
    faults.refuse_entries(detail_type_is("DeleteFile"))

    _sweep(service.files, after=timedelta(minutes=10))
    after_first_sweep = service.depth(service.stack.commands)
    _sweep(service.files, after=timedelta(minutes=20))
    service.settle()

    assert after_first_sweep == 0
    assert service.status(file_id) == "GONE"
    assert service.stack.s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0
    assert service.feed() == [("created", file_id, 1), ("deleted", file_id, 3)]
