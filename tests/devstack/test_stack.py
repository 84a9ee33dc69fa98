"""`python -m devstack` end to end, on a tiny project of its own.

The project copies the real `.chalice/config.json`, so these tests also prove
that the Cognito ids recorded there are the ones moto hands out. Its app is a
fake: a route, and an S3 handler that reports each upload on the bus, where
the bus tap shows it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from devstack import config
from devstack.processes import group_alive
from devstack.stack import StackHandle, start_stack
from tests.devstack.conftest import REPO_ROOT, wait_for

FAKE_APP = """
import json
import os

import boto3
from chalice import Chalice

app = Chalice(app_name="filemanager")
VERSION = "{version}"


@app.route("/")
def index():
    return {{"version": VERSION, "bucket": os.environ["FILES_BUCKET"]}}


@app.on_s3_event(bucket=os.environ.get("FILES_BUCKET", ""))
def uploaded(event):
    boto3.client("events").put_events(
        Entries=[
            {{
                "EventBusName": os.environ["EVENT_BUS_NAME"],
                "Source": "filemanager",
                "DetailType": "Seen",
                "Detail": json.dumps({{"key": event.key, "version": VERSION}}),
            }}
        ]
    )
"""

REQUIRED_KEYS = {
    "api_url",
    "aws_endpoint_url",
    "region",
    "user_pool_id",
    "user_pool_client_id",
    "bucket",
    "table",
    "event_bus",
    "delete_queue",
    "demo_user",
}


def write_app(project: Path, version: str) -> None:
    (project / "app.py").write_text(FAKE_APP.format(version=version))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    (project / ".chalice").mkdir(parents=True)
    shutil.copy(REPO_ROOT / config.CONFIG_FILE, project / config.CONFIG_FILE)
    write_app(project, "1")
    return project


@pytest.fixture
def stack_factory(project: Path) -> Iterator[Any]:
    started: list[StackHandle] = []

    def start(**options: Any) -> StackHandle:
        handle = start_stack(
            project_dir=project, state_file=project / "state" / "stack.json", **options
        )
        started.append(handle)
        return handle

    yield start
    for handle in started:
        handle.stop()


def client(stack: StackHandle, service: str) -> Any:
    return boto3.session.Session().client(
        service,
        endpoint_url=stack.aws_endpoint_url,
        region_name=stack.region,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def tapped(stack: StackHandle, sqs: Any) -> list[dict[str, Any]]:
    url = sqs.get_queue_url(QueueName=stack.bus_tap_queue)["QueueUrl"]
    found: list[dict[str, Any]] = []

    def receive() -> bool:
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        ).get("Messages", [])
        found.extend(json.loads(m["Body"]) for m in messages)
        return bool(found)

    wait_for(receive, timeout=20, what="an event on the bus tap")
    return found


def test_stack_serves_delivers_and_stops_cleanly(stack_factory: Any) -> None:
    stack: StackHandle = stack_factory()

    assert stack.state.keys() >= REQUIRED_KEYS
    answer = requests.get(f"{stack.api_url}/", headers=stack.auth_headers(), timeout=5)
    assert answer.json() == {"version": "1", "bucket": stack.bucket}

    client(stack, "s3").put_object(Bucket=stack.bucket, Key="a b.txt", Body=b"x")
    (event,) = tapped(stack, client(stack, "sqs"))
    assert event["detail"] == {"key": "a b.txt", "version": "1"}

    token = subprocess.run(
        [
            sys.executable,
            "-m",
            "devstack",
            "token",
            "--state-file",
            str(stack.state_file),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert token.count(".") == 2

    assert stack.stop() == 0
    assert not stack.state_file.exists()
    assert not [pid for pid in stack.state["pids"].values() if group_alive(pid)]


def test_a_code_change_reloads_the_runner_and_the_api(
    stack_factory: Any, project: Path
) -> None:
    stack: StackHandle = stack_factory(autoreload=True)
    write_app(project, "2")

    def api_version() -> object:
        try:
            answer = requests.get(
                f"{stack.api_url}/", headers=stack.auth_headers(), timeout=2
            )
        except requests.ConnectionError:
            return None
        return answer.ok and answer.json()["version"] == "2"

    s3, sqs = client(stack, "s3"), client(stack, "sqs")
    uploads = iter(range(1000))

    def runner_version() -> object:
        # The runner restarts on its own clock: an upload made before it
        # has reloaded is still handled by the old code.
        s3.put_object(Bucket=stack.bucket, Key=f"b{next(uploads)}.txt", Body=b"x")
        return any(e["detail"]["version"] == "2" for e in tapped(stack, sqs))

    wait_for(api_version, timeout=30, what="the API on the new code")
    wait_for(runner_version, timeout=60, what="the runner on the new code")


def test_a_taken_port_is_refused_clearly(stack_factory: Any, project: Path) -> None:
    first: StackHandle = stack_factory()
    moto_port = int(first.aws_endpoint_url.rsplit(":", 1)[-1])

    with pytest.raises(RuntimeError, match=f"port {moto_port} is in use"):
        start_stack(
            project_dir=project,
            moto_port=moto_port,
            state_file=project / "state" / "second.json",
        )
