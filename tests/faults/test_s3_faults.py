"""S3 failing to delete or to describe an object.

The app copies no object, so delete and head are its only calls to S3 that
can fail under a handler (presigning makes no call).
"""

from __future__ import annotations

from datetime import timedelta

from tests.app.conftest import BUCKET
from tests.app.test_housekeeping import _sweep
from tests.faults.conftest import Service, keyed
from tests.faults.injector import FaultInjector


def test_a_delete_whose_object_removal_fails_keeps_its_record_and_says_nothing(
    service: Service, faults: FaultInjector
) -> None:
    file_id, key = service.available("a.txt")
    assert service.files.delete(file_id).status_code == 202
    service.stack.published()
    faults.fail("s3", "DeleteObject", "SlowDown", status=503, when=keyed(key))

    first = service.deliver(service.stack.commands, "on_delete_file")
    status_between = service.status(file_id)
    published_between = service.stack.published()
    service.settle()

    assert not first.ok
    assert status_between == "DELETING"
    assert published_between == []
    assert service.status(file_id) == "GONE"
    assert service.stack.object_keys() == []
    assert service.feed() == [("created", file_id, 1), ("deleted", file_id, 3)]


def test_an_upload_whose_object_cannot_be_read_settles_at_the_sweep(
    service: Service, faults: FaultInjector
) -> None:
    file_id, key = service.upload("a.txt")
    faults.fail("s3", "HeadObject", "InternalError", times=3, when=keyed(key))

    handled = service.object_created(key)
    status_between = service.status(file_id)
    _sweep(service.files, after=timedelta(minutes=10))
    service.settle()

    # Three tries failed: the event went to the on-failure queue, and the
    # sweep found the pending upload with its object there.
    assert (handled, status_between) == (False, "PENDING")
    assert service.status(file_id) == "AVAILABLE"
    assert service.feed() == [("created", file_id, 1)]


def test_a_rejected_upload_whose_object_removal_fails_is_removed_on_the_retry(
    service: Service, faults: FaultInjector
) -> None:
    created = service.files.create("a.txt", size=10).json_body
    file_id, key = created["file_id"], created["upload"]["fields"]["key"]
    service.stack.s3.put_object(Bucket=BUCKET, Key=key, Body=b"x" * 50)
    faults.fail("s3", "DeleteObject", "InternalError", when=keyed(key))

    assert service.object_created(key)
    service.settle()

    assert len(service.s3_errors) == 1
    assert service.status(file_id) == "REJECTED"
    assert service.stack.object_keys() == []
    assert service.feed() == [("rejected", file_id, 1)]


def test_a_rejected_upload_left_in_the_bucket_goes_when_its_failure_is_redriven(
    service: Service, faults: FaultInjector
) -> None:
    created = service.files.create("a.txt", size=10).json_body
    file_id, key = created["file_id"], created["upload"]["fields"]["key"]
    service.stack.s3.put_object(Bucket=BUCKET, Key=key, Body=b"x" * 50)
    faults.fail("s3", "DeleteObject", "InternalError", times=None, when=keyed(key))

    handled = service.object_created(key)
    left_behind = service.stack.object_keys()
    faults.clear()
    redriven = service.object_created(service.s3_failures.pop())
    service.settle()

    assert (handled, left_behind, redriven) == (False, [key], True)
    assert service.status(file_id) == "REJECTED"
    assert service.stack.object_keys() == []
    assert service.feed() == [("rejected", file_id, 1)]


def test_a_late_upload_whose_stray_object_cannot_be_removed_is_removed_on_the_retry(
    service: Service, faults: FaultInjector
) -> None:
    created = service.files.create("a.txt").json_body
    file_id, key = created["file_id"], created["upload"]["fields"]["key"]
    assert service.files.delete(file_id).status_code == 202
    service.settle()
    service.files.post_form(created, b"hello")
    faults.fail("s3", "DeleteObject", "InternalError", when=keyed(key))

    assert service.object_created(key)

    assert service.status(file_id) == "GONE"
    assert service.stack.object_keys() == []
    assert service.file_items() == []
