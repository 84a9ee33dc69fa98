"""End to end, over HTTP: the smoke run on a real folder, and two races.

Case 12 (a file deleted before its upload arrives) and case 2 (one object
uploaded twice) of the cases list, played by a client against the whole
local stack: the API, S3, the event runner and the queues.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from chalicelib.messages import PUBLISHED_VERSIONS
from tests.e2e.stack import ROOT, wait_until

pytestmark = pytest.mark.e2e

SMOKE_SCRIPT = ROOT / "scripts" / "smoke.py"
SMOKE_STEPS = (
    "sign in",
    "read folder",
    "create",
    "upload",
    "wait available",
    "list paged",
    "list top level",
    "download",
    "delete",
    "wait gone",
    "change feed",
)
CONTENT = b"bytes that arrive twice, or too late\n"


# --- a client of the API, as small as the tests need ------------------------


def create_file(api: requests.Session, stack: dict[str, Any], name: str) -> Any:
    answer = api.post(
        f"{stack['api_url']}/files",
        json={"name": name, "size": len(CONTENT), "content_type": "text/plain"},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def upload(created: dict[str, Any]) -> None:
    """POST the bytes with the presigned form: its fields first, the file last."""
    form = created["upload"]
    parts = [(name, (None, value)) for name, value in form["fields"].items()]
    parts.append(("file", ("blob", CONTENT, "text/plain")))
    answer = requests.post(form["url"], files=parts, timeout=10)
    assert answer.status_code in (200, 201, 204), answer.text


def status_of(api: requests.Session, stack: dict[str, Any], file_id: str) -> str:
    """The file's status, or "GONE" once the API answers 404."""
    answer = api.get(f"{stack['api_url']}/files/{file_id}", timeout=10)
    if answer.status_code == 404:
        return "GONE"
    assert answer.status_code == 200, answer.text
    return str(answer.json()["status"])


def listed(api: requests.Session, stack: dict[str, Any], prefix: str) -> list[Any]:
    answer = api.get(f"{stack['api_url']}/files", params={"prefix": prefix}, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.json()["next_cursor"] is None
    return list(answer.json()["items"])


def delete_file(api: requests.Session, stack: dict[str, Any], file_id: str) -> None:
    answer = api.delete(f"{stack['api_url']}/files/{file_id}", timeout=10)
    assert answer.status_code == 202, answer.text


# --- what the stack holds, seen through boto3 --------------------------------


def object_exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in {"404", "NoSuchKey", "NotFound"}:
            return False
        raise
    return True


def queue_is_empty(sqs: Any, queue_url: str) -> bool:
    """No message waiting or in flight: every event has been handled."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return all(int(count) == 0 for count in attributes.values())


def events_about(sqs: Any, tap_url: str, file_id: str) -> list[dict[str, Any]]:
    """Every event of ours on the bus about one file, taken off the bus tap."""
    found = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=tap_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        ).get("Messages", [])
        if not messages:
            return found
        for message in messages:
            detail = json.loads(message["Body"])["detail"]
            if detail["metadata"]["file_id"] == file_id:
                found.append(detail)
                sqs.delete_message(
                    QueueUrl=tap_url, ReceiptHandle=message["ReceiptHandle"]
                )


def unique_folder() -> str:
    return f"e2e-{uuid.uuid4().hex[:8]}/"


# --- the tests ---------------------------------------------------------------


def test_the_smoke_run_round_trips_a_mixed_folder(
    stack: dict[str, Any], sample_folder: Path
) -> None:
    command = [sys.executable, str(SMOKE_SCRIPT), str(sample_folder)]
    command += ["--stack", stack["state_file"], "--timeout", "60"]

    run = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=150, check=False
    )

    output = f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}"
    assert run.returncode == 0, output
    lines = run.stdout.splitlines()
    assert any(line.split() == ["step", "count", "duration", "(ms)"] for line in lines)
    for step in SMOKE_STEPS:
        assert any(line.startswith(f"{step} ") for line in lines), output
    assert "smoke: OK" in run.stdout


def test_a_file_deleted_before_its_upload_does_not_come_back(
    stack: dict[str, Any], api: requests.Session, s3: Any
) -> None:
    name = unique_folder() + "late upload.txt"
    created = create_file(api, stack, name)
    file_id, key = created["file_id"], created["upload"]["fields"]["key"]
    delete_file(api, stack, file_id)
    wait_until(
        lambda: status_of(api, stack, file_id) == "GONE",
        "the delete consumer to remove the pending file",
    )

    upload(created)

    wait_until(
        lambda: not object_exists(s3, stack["bucket"], key),
        f"the late upload's object {key} to be removed from the bucket",
    )
    assert status_of(api, stack, file_id) == "GONE"
    assert listed(api, stack, name) == []
    again = create_file(api, stack, name)  # no record holds the name any more
    delete_file(api, stack, again["file_id"])


def test_one_object_uploaded_twice_makes_one_available_file(
    stack: dict[str, Any], api: requests.Session, s3: Any, sqs: Any
) -> None:
    name = unique_folder() + "twice.txt"
    created = create_file(api, stack, name)
    file_id, key = created["file_id"], created["upload"]["fields"]["key"]

    upload(created)
    upload(created)

    wait_until(
        lambda: (
            status_of(api, stack, file_id) == "AVAILABLE"
            and queue_is_empty(sqs, stack["s3_events_queue_url"])
        ),
        "the file to be AVAILABLE and both object events handled",
    )
    assert [(i["file_id"], i["name"]) for i in listed(api, stack, name)] == [
        (file_id, name)
    ]
    assert object_exists(s3, stack["bucket"], key)
    events = events_about(sqs, stack["bus_tap_queue_url"], file_id)
    created_events = [e for e in events if e["metadata"]["type"] == "FileCreated"]
    assert sorted(e["metadata"]["version"] for e in created_events) == list(
        PUBLISHED_VERSIONS["FileCreated"]
    ), events
    delete_file(api, stack, file_id)
