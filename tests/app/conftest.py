"""The whole Chalice app through `chalice.test.Client`, on moto's AWS.

Tokens are real RS256 ID tokens, signed by a key made for this folder's
tests and published as a JWKS by a small HTTP server on 127.0.0.1 (the app
fetches keys with PyJWKClient, which speaks only HTTP). The environment the
app reads is set before `app` is imported, because its event handlers read
their bucket and queue names at import; it is undone when this folder's
tests are done, so other tiers in the same run never see it.
"""

from __future__ import annotations

import http.server
import importlib
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote_plus

import jwt
import pytest
import requests
from chalice.test import Client
from cryptography.hazmat.primitives.asymmetric import rsa
from moto import mock_aws

from chalicelib import bootstrap, clients
from chalicelib.adapters.table_schema import table_definition
from chalicelib.messages import SOURCE, SUBSCRIPTIONS

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
POOL_ID = f"{REGION}_TestPool1"
APP_CLIENT_ID = "test-app-client-id"
ISSUER = f"https://cognito-idp.{REGION}.amazonaws.com/{POOL_ID}"
BUCKET = "filemanager-apptest-files"
TABLE = "filemanager-apptest-files"
BUS = "filemanager-apptest-bus"
QUEUE = "filemanager-apptest-delete-file"
TAP_QUEUE = "filemanager-apptest-tap"
FEED_QUEUE = "filemanager-apptest-change-feed"
KID = "test-key-1"
ALICE = "a1a1a1a1-0000-4000-8000-00000000000a"
BOB = "b2b2b2b2-0000-4000-8000-00000000000b"


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class _JwksHandler(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test output is no place for access logs."""


@pytest.fixture(scope="package")
def signing_key() -> rsa.RSAPrivateKey:
    return new_rsa_key()


@pytest.fixture(scope="package")
def jwks_url(signing_key: rsa.RSAPrivateKey) -> Iterator[str]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(signing_key.public_key()))
    jwk |= {"kid": KID, "alg": "RS256", "use": "sig"}
    handler = type(
        "JwksHandler", (_JwksHandler,), {"body": json.dumps({"keys": [jwk]}).encode()}
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/{POOL_ID}/.well-known/jwks.json"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="package")
def app_module(jwks_url: str) -> Iterator[ModuleType]:
    environment = {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "FILES_BUCKET": BUCKET,
        "FILES_TABLE": TABLE,
        "EVENT_BUS_NAME": BUS,
        "DELETE_QUEUE_NAME": QUEUE,
        "CHANGE_FEED_QUEUE_NAME": FEED_QUEUE,
        "COGNITO_USER_POOL_ID": POOL_ID,
        "COGNITO_APP_CLIENT_ID": APP_CLIENT_ID,
        "COGNITO_JWKS_URL": jwks_url,
        "CURSOR_SECRET": "cursor-secret-for-app-tests",
        "AUTH_MODE": "app",
        "PRESIGN_TTL_SECONDS": "900",
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, value)
        for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
            patch.delenv(name, raising=False)
        yield importlib.import_module("app")


@dataclass
class Tokens:
    """Mints Cognito-shaped tokens."""

    key: rsa.RSAPrivateKey

    def claims(self, sub: str, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": sub,
            "aud": APP_CLIENT_ID,
            "iss": ISSUER,
            "token_use": "id",
            "cognito:username": f"user-{sub[:4]}",
            "email": f"{sub[:4]}@example.com",
            "auth_time": now,
            "iat": now,
            "exp": now + 3600,
            "jti": str(uuid.uuid4()),
        }
        claims |= overrides
        return {k: v for k, v in claims.items() if v is not None}

    def id_token(
        self,
        sub: str = ALICE,
        key: rsa.RSAPrivateKey | None = None,
        kid: str = KID,
        **overrides: Any,
    ) -> str:
        return jwt.encode(
            self.claims(sub, **overrides),
            key or self.key,
            algorithm="RS256",
            headers={"kid": kid},
        )

    def headers(self, sub: str = ALICE, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.id_token(sub)}", **extra}


@pytest.fixture(scope="package")
def tokens(signing_key: rsa.RSAPrivateKey) -> Tokens:
    return Tokens(signing_key)


@pytest.fixture
def aws(app_module: ModuleType) -> Iterator[None]:
    """moto's AWS, empty, and the app's services built afresh for it."""
    bootstrap.reset()
    with mock_aws():
        yield
    bootstrap.reset()


@dataclass(frozen=True)
class Queue:
    url: str
    arn: str


@dataclass
class Stack:
    """The AWS resources the app runs on, with handles to look inside them."""

    s3: Any
    dynamodb: Any
    sqs: Any
    events: Any
    commands: Queue
    tap: Queue
    feed: Queue

    def receive(self, queue: Queue, expected: int) -> list[dict[str, Any]]:
        received: list[dict[str, Any]] = []
        while len(received) < expected:
            batch = self.sqs.receive_message(
                QueueUrl=queue.url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=300,
                AttributeNames=["All"],
            ).get("Messages", [])
            if not batch:
                break
            received += batch
        return received

    def messages_left(self, queue: Queue) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=queue.url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
            ],
        )["Attributes"]
        return sum(int(value) for value in attributes.values())

    def published(self) -> list[dict[str, Any]]:
        """Every message the app put on its bus since the last call."""
        received = self.receive(self.tap, expected=1000)
        for message in received:
            self.sqs.delete_message(
                QueueUrl=self.tap.url, ReceiptHandle=message["ReceiptHandle"]
            )
        return [json.loads(m["Body"]) for m in received]

    def published_types(self) -> list[str]:
        return sorted(event["detail-type"] for event in self.published())

    def object_keys(self) -> list[str]:
        answer = self.s3.list_objects_v2(Bucket=BUCKET)
        return [o["Key"] for o in answer.get("Contents", [])]

    def table_items(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.dynamodb.scan(TableName=TABLE)["Items"]
        return items

    def leftovers(self) -> list[dict[str, Any]]:
        """Every item but usage counters at zero: what a user who stores
        nothing any more must not leave behind."""
        zero = {"N": "0"}
        return [
            item
            for item in self.table_items()
            if not (
                item["sk"]["S"] == "USAGE"
                and item.get("files") == zero
                and item.get("bytes") == zero
            )
        ]


def _queue(sqs: Any, name: str) -> Queue:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    return Queue(url=url, arn=arn)


def _route(events: Any, rule: str, pattern: dict[str, Any], queue: Queue) -> None:
    events.put_rule(Name=rule, EventBusName=BUS, EventPattern=json.dumps(pattern))
    events.put_targets(
        Rule=rule, EventBusName=BUS, Targets=[{"Id": rule, "Arn": queue.arn}]
    )


@pytest.fixture
def stack(aws: None) -> Stack:
    s3, dynamodb = clients.client("s3"), clients.client("dynamodb")
    sqs, events = clients.client("sqs"), clients.client("events")
    s3.create_bucket(Bucket=BUCKET)
    dynamodb.create_table(**table_definition(TABLE))
    events.create_event_bus(Name=BUS)
    commands, tap = _queue(sqs, QUEUE), _queue(sqs, TAP_QUEUE)
    feed = _queue(sqs, FEED_QUEUE)
    # The consumers' rules, exactly as the catalogue's subscriptions say.
    for name, queue in (("delete-file", commands), ("change-feed", feed)):
        patterns = SUBSCRIPTIONS[name].event_patterns()
        for version, pattern in patterns.items():
            _route(events, f"{name}-v{version}", pattern, queue)
    _route(events, "everything", {"source": [SOURCE]}, tap)
    return Stack(s3, dynamodb, sqs, events, commands, tap, feed)


@pytest.fixture
def client(app_module: ModuleType) -> Client:
    return Client(app_module.app, project_dir=str(ROOT))


class FileManager:
    """A user's view of the service: routes, uploads and the event handlers."""

    def __init__(self, client: Client, tokens: Tokens, stack: Stack) -> None:
        self.client = client
        self.tokens = tokens
        self.stack = stack

    def headers(self, sub: str = ALICE, **extra: str) -> dict[str, str]:
        return self.tokens.headers(sub, **extra)

    def create(
        self,
        name: str,
        size: int = 5,
        content_type: str = "text/plain",
        sub: str = ALICE,
        **fields: Any,
    ) -> Any:
        body = {"name": name, "size": size, "content_type": content_type} | fields
        return self.client.http.post(
            "/files",
            headers=self.headers(sub, **{"Content-Type": "application/json"}),
            body=json.dumps(body),
        )

    def post_form(self, created: dict[str, Any], content: bytes) -> None:
        """Send bytes with the presigned form, as a browser or the CLI would."""
        upload = created["upload"]
        answer = requests.post(
            upload["url"],
            data=upload["fields"],
            files={"file": ("ignored", content)},
            timeout=10,
        )
        assert answer.status_code == 204, answer.text

    def object_event(self, key: str, event_name: str = "ObjectCreated:Post") -> Any:
        # S3 sends keys quote_plus-encoded; Chalice decodes them once.
        event = self.client.events.generate_s3_event(
            bucket=BUCKET, key=quote_plus(key), event_name=event_name
        )
        return self.client.lambda_.invoke("on_object_created", event).payload

    def add(
        self,
        name: str,
        content: bytes = b"hello",
        sub: str = ALICE,
        content_type: str = "text/plain",
    ) -> str:
        """Create, upload and settle a file; its id."""
        created = self.create(
            name, size=len(content), content_type=content_type, sub=sub
        )
        assert created.status_code == 201, created.json_body
        self.post_form(created.json_body, content)
        self.object_event(created.json_body["upload"]["fields"]["key"])
        file_id: str = created.json_body["file_id"]
        return file_id

    def get(self, path: str, sub: str = ALICE, **extra: str) -> Any:
        return self.client.http.get(path, headers=self.headers(sub, **extra))

    def rename(self, file_id: str, name: str, sub: str = ALICE) -> Any:
        return self.client.http.patch(
            f"/files/{file_id}",
            headers=self.headers(sub, **{"Content-Type": "application/json"}),
            body=json.dumps({"name": name}),
        )

    def post(self, path: str, sub: str = ALICE) -> Any:
        return self.client.http.post(path, headers=self.headers(sub))

    def delete(self, file_id: str, sub: str = ALICE, **extra: str) -> Any:
        return self.client.http.delete(
            f"/files/{file_id}", headers=self.headers(sub, **extra)
        )

    def sqs_event(
        self, received: list[dict[str, Any]], queue: Queue | None = None
    ) -> dict[str, Any]:
        """A Lambda SQS event carrying messages really received from a queue."""
        queue = queue or self.stack.commands
        event = self.client.events.generate_sqs_event(
            message_bodies=[m["Body"] for m in received],
            queue_name=queue.arn.rsplit(":", 1)[-1],
        )
        for record, message in zip(event["Records"], received, strict=True):
            record["messageId"] = message["MessageId"]
            record["receiptHandle"] = message["ReceiptHandle"]
            record["eventSourceARN"] = queue.arn
            record["awsRegion"] = REGION
            record["attributes"]["ApproximateReceiveCount"] = message["Attributes"][
                "ApproximateReceiveCount"
            ]
        return event

    def run_delete_consumer(self, expected: int = 1) -> Any:
        received = self.stack.receive(self.stack.commands, expected)
        assert len(received) == expected
        event = self.sqs_event(received)
        return self.client.lambda_.invoke("on_delete_file", event).payload

    def run_change_feed(self) -> list[dict[str, Any]]:
        """Deliver what waits in the change feed's queue; the bodies delivered."""
        received = self.stack.receive(self.stack.feed, expected=1000)
        if received:
            event = self.sqs_event(received, self.stack.feed)
            self.client.lambda_.invoke("on_change_event", event)
        return received


@pytest.fixture
def files(client: Client, tokens: Tokens, stack: Stack) -> FileManager:
    return FileManager(client, tokens, stack)
