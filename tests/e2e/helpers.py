"""What the hostile-input tiers of the end-to-end tests share.

A small client of the API (create, upload, wait until available), a snapshot
of everything a request could change (every item of every table, every
object of the bucket, every event of ours on the bus), a wait until the
stack's queues are quiet, and tokens minted by hand: signed by moto's own
user-pool key (moto ships it) or by a key of our own.
"""

from __future__ import annotations

import gzip
import json
import re
import time
import uuid
from dataclasses import dataclass
from importlib import resources
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from devstack.auth import add_user, id_token
from tests.e2e.stack import aws_client, wait_until

HTTP_TIMEOUT = 30
TRACE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
CONTENT = b"twelve bytes"
# The queues whose consumers change the index, the bucket or the bus.
CONSUMER_QUEUES = ("s3_events_queue_url", "delete_queue_url", "change_feed_queue_url")
QUEUE_COUNTS = [
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
]


# --- a client of the API ------------------------------------------------------


@dataclass(frozen=True)
class User:
    """A signed-in user of the stack's pool."""

    username: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": self.token}


def demo_user(stack: dict[str, Any]) -> User:
    return User(stack["demo_user"]["username"], id_token(stack))


def new_user(stack: dict[str, Any], prefix: str) -> User:
    """A fresh confirmed user of the stack's pool, signed in."""
    username = f"{prefix}-{uuid.uuid4().hex[:8]}"
    password = f"Pw-{uuid.uuid4().hex}-1a"
    add_user(stack, username, password)
    return User(username, id_token(stack, username, password))


def create_file(stack: dict[str, Any], user: User, name: str) -> dict[str, Any]:
    answer = requests.post(
        f"{stack['api_url']}/files",
        json={"name": name, "size": len(CONTENT), "content_type": "text/plain"},
        headers=user.headers,
        timeout=HTTP_TIMEOUT,
    )
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


def upload(created: dict[str, Any]) -> None:
    """POST the bytes with the presigned form: its fields first, the file last."""
    form = created["upload"]
    parts = [(name, (None, value)) for name, value in form["fields"].items()]
    parts.append(("file", ("blob", CONTENT, "text/plain")))
    answer = requests.post(form["url"], files=parts, timeout=HTTP_TIMEOUT)
    assert answer.status_code in (200, 201, 204), answer.text


def describe(stack: dict[str, Any], user: User, file_id: str) -> requests.Response:
    return requests.get(
        f"{stack['api_url']}/files/{file_id}",
        headers=user.headers,
        timeout=HTTP_TIMEOUT,
    )


def available_file(stack: dict[str, Any], user: User, name: str) -> dict[str, Any]:
    """Create, upload and wait: the file's details once it is AVAILABLE."""
    created = create_file(stack, user, name)
    upload(created)

    def details() -> dict[str, Any] | None:
        answer = describe(stack, user, created["file_id"])
        body: dict[str, Any] = answer.json()
        return body if body.get("status") == "AVAILABLE" else None

    return wait_until(details, f"{name!r} of {user.username} to become AVAILABLE")


# --- what a request could change ----------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """Every item of every table, every object and the events on the bus."""

    items: tuple[str, ...]
    objects: tuple[tuple[str, str, int], ...]
    bus_events: int


class Inspector:
    """Looks inside the stack's AWS with boto3, never through the API."""

    def __init__(self, stack: dict[str, Any]) -> None:
        self._stack = stack
        self._dynamodb = aws_client(stack, "dynamodb")
        self._s3 = aws_client(stack, "s3")
        self._sqs = aws_client(stack, "sqs")

    def snapshot(self) -> Snapshot:
        return Snapshot(self._items(), self._objects(), self.bus_events())

    def _items(self) -> tuple[str, ...]:
        items = []
        for table in self._dynamodb.list_tables()["TableNames"]:
            pages = self._dynamodb.get_paginator("scan").paginate(TableName=table)
            items += [
                json.dumps([table, item], sort_keys=True)
                for page in pages
                for item in page["Items"]
            ]
        return tuple(sorted(items))

    def _objects(self) -> tuple[tuple[str, str, int], ...]:
        pages = self._s3.get_paginator("list_objects_v2").paginate(
            Bucket=self._stack["bucket"]
        )
        return tuple(
            sorted(
                (entry["Key"], entry["ETag"], entry["Size"])
                for page in pages
                for entry in page.get("Contents", [])
            )
        )

    def _queue_depth(self, url: str) -> int:
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=QUEUE_COUNTS
        )["Attributes"]
        return sum(int(attributes[name]) for name in QUEUE_COUNTS)

    def bus_events(self) -> int:
        """Events of ours put on the bus so far (the tap has no consumer)."""
        return self._queue_depth(self._stack["bus_tap_queue_url"])

    def settle(self) -> Snapshot:
        """Wait until no consumer has work left and the bus is still; a snapshot."""

        seen: list[Snapshot] = []

        def quiet() -> Snapshot | None:
            busy = any(self._queue_depth(self._stack[q]) for q in CONSUMER_QUEUES)
            now = self.snapshot()
            # Still across two polls, not just caught between two events.
            still = bool(seen) and seen[-1] == now
            seen.append(now)
            return now if still and not busy else None

        return wait_until(quiet, "the stack's queues to drain and the bus to be still")


# --- answers ------------------------------------------------------------------


def error_of(answer: requests.Response) -> dict[str, Any]:
    """The JSON error body, after checking the shape every error shares."""
    trace_id = answer.headers.get("X-Trace-Id", "")
    assert TRACE_ID.fullmatch(trace_id), f"no X-Trace-Id: {answer.headers}"
    assert answer.headers.get("Content-Type", "").startswith("application/json")
    body: dict[str, Any] = answer.json()
    assert isinstance(body.get("Code"), str), body
    assert body["Code"]
    assert isinstance(body.get("Message"), str), body
    assert body["Message"]
    return body


# --- tokens minted by hand ----------------------------------------------------

MOTO_KID = "dummy"  # the kid moto signs every user pool's tokens with


def moto_signing_key() -> Any:
    """The private key moto signs every ID token with (it ships in moto)."""
    packed = resources.files("moto.cognitoidp").joinpath(
        "resources/jwks-private.json.gz"
    )
    jwk = json.loads(gzip.decompress(packed.read_bytes()))
    return jwt.PyJWK(jwk).key


def stranger_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def id_claims(stack: dict[str, Any], sub: str, **overrides: Any) -> dict[str, Any]:
    """Claims as moto's pool would put in an ID token for our app client."""
    now = int(time.time())
    claims = {
        "iss": f"https://cognito-idp.{stack['region']}.amazonaws.com/"
        + stack["user_pool_id"],
        "sub": sub,
        "aud": stack["user_pool_client_id"],
        "token_use": "id",
        "iat": now,
        "auth_time": now,
        "exp": now + 3600,
        "jti": str(uuid.uuid4()),
        "cognito:username": "minted",
    }
    return {**claims, **overrides}


def mint(claims: dict[str, Any], key: Any, kid: str = MOTO_KID) -> str:
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def subject_of(token: str) -> str:
    return str(jwt.decode(token, options={"verify_signature": False})["sub"])
