"""Local event latency: from an upload's end to the file reading AVAILABLE.

A real local stack (`devstack.stack.start_stack`, on free ports) runs moto,
the event runner and `chalice local`. Each measured upload is created with
`POST /files`, sent with its presigned POST form, and from the moment that
POST returns, `GET /files/{id}` is asked again and again until the file is
AVAILABLE (the resolution is one GET, given in the notes).

The floor is the time for S3's notification to become receivable: uploads
to a key outside our layout (`bench-floor/...`) are also announced to a
queue of our own, added to the bucket's notifications with a prefix filter,
and received there. The runner's own queue still gets every notification,
so no message is taken from it (it leaves keys outside our layout alone).
"""

from __future__ import annotations

import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import boto3
import requests

from bench import report
from bench.context import Context
from bench.report import Row
from devstack.resources import BUCKET_SENDS_TO_EVENTBRIDGE
from devstack.stack import start_stack

FLOOR_PREFIX = "bench-floor/"
SETTLE_TIMEOUT = 10.0
HTTP_TIMEOUT = 10.0
MEDIAN_TARGET = 0.3
P95_TARGET = 1.0
BODY = b"bench latency 16"


def plan(ctx: Context) -> list[str]:
    return ["latency median", "latency p95"]


@dataclass
class Samples:
    measured: list[float] = field(default_factory=list)
    floor: list[float] = field(default_factory=list)
    polls: list[float] = field(default_factory=list)
    timeouts: int = 0
    floor_timeouts: int = 0


def run(ctx: Context) -> list[Row]:
    # The stack's state, logs and overlay go to a scratch folder, not .local.
    with (
        tempfile.TemporaryDirectory(prefix="bench-stack-") as scratch,
        start_stack(state_file=Path(scratch) / "stack.json") as stack,
    ):
        probe = Probe(stack.state, stack.id_token())
        samples = Samples()
        deadline = time.monotonic() + ctx.sizes.latency_budget_s
        for _ in range(ctx.sizes.latency_uploads):
            probe.measured(samples)
            probe.floor(samples)
            if time.monotonic() > deadline:
                break
    return rows(samples, ctx.sizes.latency_uploads)


class Probe:
    def __init__(self, state: dict[str, Any], token: str) -> None:
        self.api_url = state["api_url"]
        self.bucket = state["bucket"]
        session = boto3.session.Session(
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 - moto takes any key
            region_name=state["region"],
        )
        endpoint = state["aws_endpoint_url"]
        self.s3 = session.client("s3", endpoint_url=endpoint)
        self.sqs = session.client("sqs", endpoint_url=endpoint)
        self.api = requests.Session()
        self.api.headers["Authorization"] = token
        self.floor_queue = self._attach_floor_queue()

    def _attach_floor_queue(self) -> str:
        """A queue of ours for S3's notifications of `bench-floor/` keys."""
        name = f"bench-floor-{uuid.uuid4().hex[:8]}"
        url: str = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        notifications = self.s3.get_bucket_notification_configuration(
            Bucket=self.bucket
        )
        notifications.pop("ResponseMetadata", None)
        rule = {"Name": "prefix", "Value": FLOOR_PREFIX}
        notifications.setdefault("QueueConfigurations", []).append(
            {
                "Id": "bench-floor",
                "QueueArn": arn["Attributes"]["QueueArn"],
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [rule]}},
            }
        )
        if BUCKET_SENDS_TO_EVENTBRIDGE:
            # moto leaves it out of its answer; putting the rest back drops it.
            notifications.setdefault("EventBridgeConfiguration", {})
        self.s3.put_bucket_notification_configuration(
            Bucket=self.bucket, NotificationConfiguration=notifications
        )
        # S3 greets a new destination with an s3:TestEvent: not an upload.
        self._receive(url, "s3:TestEvent")
        return url

    def _receive(self, queue: str, wanted: str) -> float | None:
        """When a message holding `wanted` was received (None: not in time)."""
        started = time.monotonic()
        while time.monotonic() - started < SETTLE_TIMEOUT:
            answer = self.sqs.receive_message(
                QueueUrl=queue, MaxNumberOfMessages=1, WaitTimeSeconds=5
            )
            received = time.monotonic()
            for message in answer.get("Messages", []):
                self.sqs.delete_message(
                    QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"]
                )
                # S3 writes keys in its notifications quote_plus-encoded.
                if quote_plus(wanted, safe=":") in message["Body"]:
                    return received
        return None

    def measured(self, samples: Samples) -> None:
        body: dict[str, Any] = {"name": f"bench/{uuid.uuid4().hex}.txt"}
        body |= {"size": len(BODY), "content_type": "text/plain"}
        created = self.api.post(
            f"{self.api_url}/files", json=body, timeout=HTTP_TIMEOUT
        )
        created.raise_for_status()
        form = created.json()
        _post_form(form["upload"]["url"], form["upload"]["fields"])
        uploaded = time.monotonic()
        url = f"{self.api_url}/files/{form['file_id']}"
        while time.monotonic() - uploaded < SETTLE_TIMEOUT:
            asked = time.monotonic()
            status = self.api.get(url, timeout=HTTP_TIMEOUT).json().get("status")
            answered = time.monotonic()
            samples.polls.append(answered - asked)
            if status == "AVAILABLE":
                samples.measured.append(answered - uploaded)
                return
        samples.timeouts += 1
        samples.measured.append(SETTLE_TIMEOUT)

    def floor(self, samples: Samples) -> None:
        key = f"{FLOOR_PREFIX}{uuid.uuid4().hex}"
        form = self.s3.generate_presigned_post(
            Bucket=self.bucket, Key=key, Fields={"Content-Type": "text/plain"}
        )
        _post_form(form["url"], form["fields"])
        uploaded = time.monotonic()
        received = self._receive(self.floor_queue, key)
        if received is None:
            samples.floor_timeouts += 1
        samples.floor.append(
            SETTLE_TIMEOUT if received is None else received - uploaded
        )


def _post_form(url: str, fields: dict[str, str]) -> None:
    answer = requests.post(
        url, data=fields, files={"file": ("bench.txt", BODY)}, timeout=HTTP_TIMEOUT
    )
    if answer.status_code not in (200, 201, 204):
        raise RuntimeError(f"upload answered {answer.status_code}: {answer.text[:200]}")


def rows(samples: Samples, planned: int) -> list[Row]:
    n = len(samples.measured)
    poll = report.ms(report.median(samples.polls))
    notes = (
        f"{n} uploads and {len(samples.floor)} floor uploads, interleaved; one GET "
        f"/files/{{id}} takes {poll} (the resolution)"
    )
    if n < planned:
        notes += f"; stopped after {n} of {planned} uploads: out of time"
    if samples.timeouts:
        notes += f"; {samples.timeouts} not AVAILABLE within {SETTLE_TIMEOUT:.0f} s"
    if samples.floor_timeouts:
        notes += f"; {samples.floor_timeouts} floor notifications not in time"
    out = []
    for label, fraction, target in (
        ("median", 0.5, MEDIAN_TARGET),
        ("p95", 0.95, P95_TARGET),
    ):
        value = report.percentile(samples.measured, fraction)
        floor = report.percentile(samples.floor, fraction)
        out.append(
            Row(
                f"latency {label}",
                report.ms(value),
                report.ms(floor),
                report.times(report.ratio(value, floor)),
                f"< {report.ms(target)}",
                report.OK if value < target else report.MISS,
                notes,
            )
        )
    return out
