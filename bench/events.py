"""Lambda-shaped events and context, as API Gateway, S3 and SQS hand them over."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

ACCOUNT = "123456789012"
_PATH_PARAM = re.compile(r"\{([^}]+)\}")


class LambdaContext:
    """What a handler's `context` offers."""

    def __init__(self, function_name: str = "bench", timeout: float = 60.0) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = (
            f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{function_name}"
        )
        self.memory_limit_in_mb = 128
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "bench"
        self._deadline = time.monotonic() + timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def path_params(route: str) -> list[str]:
    return _PATH_PARAM.findall(route)


def api_event(
    method: str,
    route: str,
    *,
    params: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    body: str | None = None,
) -> dict[str, Any]:
    """An API Gateway (REST, proxy) event for one request to `route`."""
    params = dict(params or {})
    path = _PATH_PARAM.sub(lambda m: params[m.group(1)], route)
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    return {
        "resource": route,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": dict(query) if query else None,
        "multiValueQueryStringParameters": (
            {k: [v] for k, v in query.items()} if query else None
        ),
        "pathParameters": params or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": route,
            "httpMethod": method,
            "path": f"/api{path}",
            "stage": "api",
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": body,
        "isBase64Encoded": False,
    }


def s3_event(
    bucket: str, key: str, size: int, etag: str, region: str
) -> dict[str, Any]:
    """S3's notification of one new object, one record per call."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": now,
        "eventName": "ObjectCreated:Post",
        "userIdentity": {"principalId": "bench"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "bench",
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": "bench"},
                "arn": f"arn:aws:s3:::{bucket}",
            },
            # S3 sends keys quote_plus-encoded; Chalice decodes them once.
            "object": {"key": quote_plus(key), "size": size, "eTag": etag},
        },
    }
    return {"Records": [record]}


def sqs_event(
    messages: Sequence[Mapping[str, Any]], queue_arn: str, region: str
) -> dict[str, Any]:
    """What Lambda's SQS poller hands a function for messages it received."""
    return {"Records": [_sqs_record(m, queue_arn, region) for m in messages]}


def _sqs_record(
    message: Mapping[str, Any], queue_arn: str, region: str
) -> dict[str, Any]:
    attributes = {"ApproximateReceiveCount": "1", **message.get("Attributes", {})}
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": attributes,
        "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def eventbridge_event(
    source: str, detail_type: str, detail: Mapping[str, Any], region: str
) -> dict[str, Any]:
    """An EventBridge event as a rule hands it to a function."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": ACCOUNT,
        "time": now,
        "region": region,
        "resources": [],
        "detail": dict(detail),
    }


def scheduled_event(region: str) -> dict[str, Any]:
    return eventbridge_event("aws.events", "Scheduled Event", {}, region)


def s3_deleted_event(bucket: str, key: str, region: str) -> dict[str, Any]:
    """S3's "Object Deleted", as the bucket sends it to EventBridge."""
    detail = {
        "version": "0",
        "bucket": {"name": bucket},
        "object": {"key": key, "sequencer": "0"},
        "reason": "DeleteObject",
    }
    event = eventbridge_event("aws.s3", "Object Deleted", detail, region)
    event["resources"] = [f"arn:aws:s3:::{bucket}"]
    return event
