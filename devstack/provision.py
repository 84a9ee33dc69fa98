"""Create the local stack's resources on a moto endpoint, idempotently.

Running it again against a stack that is already there changes nothing and
returns the same coordinates, so a restarted runner or a second `make dev`
can call it freely. The Cognito ids moto hands out are checked against the
config's, because the app verifies tokens against the configured pool: a
silent mismatch would turn every request into a 401.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import ClientError

from chalicelib.adapters.table_schema import table_definition
from devstack import resources
from devstack.config import jwks_url
from devstack.resources import (
    ARCHIVE_PATTERN,
    ARCHIVE_RETENTION_DAYS,
    BucketSpec,
    CognitoSpec,
    QueueSpec,
    RuleSpec,
    StackNames,
    StackSpec,
    dead_letter_name,
)

log = logging.getLogger(__name__)


class ProvisioningError(RuntimeError):
    """The endpoint holds something the local stack cannot work with."""


@dataclass(frozen=True)
class Target:
    """Where to provision, and as whom."""

    endpoint_url: str
    region: str
    access_key: str = "local"
    secret_key: str = "local"  # noqa: S105 - moto takes any key

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Target:
        return cls(
            endpoint_url=env["AWS_ENDPOINT_URL"],
            region=env.get("AWS_DEFAULT_REGION") or env.get("AWS_REGION", "us-east-1"),
            access_key=env.get("AWS_ACCESS_KEY_ID", "local"),
            secret_key=env.get("AWS_SECRET_ACCESS_KEY", "local"),
        )

    def client(self, service: str) -> BaseClient:
        # Local calls fail fast: a retry storm would only hide a dead server.
        config = Config(retries={"max_attempts": 2, "mode": "standard"})
        # One session keeps loaded service models; creating clients from it
        # is not thread-safe, hence the lock.
        with _SESSION_LOCK:
            return _session().client(
                service,
                endpoint_url=self.endpoint_url,
                region_name=self.region,
                aws_access_key_id=self.access_key,
                aws_secret_access_key=self.secret_key,
                config=config,
            )


_SESSION_LOCK = threading.Lock()


@functools.cache
def _session() -> boto3.session.Session:
    return boto3.session.Session()


@dataclass(frozen=True)
class CognitoIds:
    user_pool_id: str
    user_pool_client_id: str


@dataclass(frozen=True)
class Queue:
    name: str
    url: str
    arn: str


@dataclass(frozen=True)
class ProvisionedStack:
    """The stack's coordinates: what a client needs to find each resource."""

    aws_endpoint_url: str
    region: str
    bucket: str
    table: str
    event_bus: str
    event_bus_arn: str
    event_archive: str
    delete_queue: str
    delete_queue_url: str
    delete_dlq: str
    delete_dlq_url: str
    change_feed_queue: str
    change_feed_queue_url: str
    change_feed_dlq: str
    change_feed_dlq_url: str
    bus_tap_queue: str
    bus_tap_queue_url: str
    s3_events_queue: str
    s3_events_queue_url: str
    s3_failures_queue: str
    s3_failures_queue_url: str
    user_pool_id: str
    user_pool_client_id: str
    jwks_url: str
    demo_user: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def provision(
    target: Target, spec: StackSpec, expected: CognitoIds | None = None
) -> ProvisionedStack:
    """Create (or find) every resource of `spec`; check Cognito's ids."""
    sqs = target.client("sqs")
    queues = ensure_queues(sqs, spec.queues)
    ensure_bucket(
        target.client("s3"), spec.bucket, queues[spec.bucket.notification_queue]
    )
    ensure_table(target.client("dynamodb"), spec.table)
    events = target.client("events")
    bus_arn = ensure_bus(events, spec.names.event_bus)
    ensure_archive(events, spec.names.archive, bus_arn)
    for rule in spec.rules:
        ensure_rule(events, rule, queues[rule.target_queue].arn)
    ids = ensure_cognito(target.client("cognito-idp"), spec.cognito)
    if expected is not None:
        check_cognito_ids(ids, expected)
    names = spec.names
    log.info("provisioned", extra={"endpoint": target.endpoint_url})
    return ProvisionedStack(
        aws_endpoint_url=target.endpoint_url,
        region=target.region,
        bucket=names.bucket,
        table=names.table,
        event_bus=names.event_bus,
        event_bus_arn=bus_arn,
        event_archive=names.archive,
        delete_queue=names.delete_queue,
        delete_queue_url=queues[names.delete_queue].url,
        delete_dlq=names.delete_dlq,
        delete_dlq_url=queues[names.delete_dlq].url,
        change_feed_queue=names.change_feed_queue,
        change_feed_queue_url=queues[names.change_feed_queue].url,
        change_feed_dlq=dead_letter_name(names.change_feed_queue),
        change_feed_dlq_url=queues[dead_letter_name(names.change_feed_queue)].url,
        bus_tap_queue=names.bus_tap_queue,
        bus_tap_queue_url=queues[names.bus_tap_queue].url,
        s3_events_queue=names.s3_events_queue,
        s3_events_queue_url=queues[names.s3_events_queue].url,
        s3_failures_queue=names.s3_failures_queue,
        s3_failures_queue_url=queues[names.s3_failures_queue].url,
        user_pool_id=ids.user_pool_id,
        user_pool_client_id=ids.user_pool_client_id,
        jwks_url=jwks_url(target.endpoint_url, ids.user_pool_id),
        demo_user={
            "username": spec.cognito.demo_user.username,
            "password": spec.cognito.demo_user.password,
        },
    )


def provision_cognito(target: Target, spec: CognitoSpec) -> CognitoIds:
    """Only the user pool, client and demo user (for `sync-config`)."""
    return ensure_cognito(target.client("cognito-idp"), spec)


def provision_cw_source(
    target: Target, names: StackNames, handler: str, pattern: dict[str, Any]
) -> tuple[Queue, Queue]:
    """Wire an `on_cw_event` handler: a default-bus rule to its own queue.

    Returns the handler's queue and its failures queue.
    """
    queue_spec, failures_spec, rule = resources.cw_source(names, handler, pattern)
    sqs = target.client("sqs")
    queue = ensure_queue(sqs, queue_spec)
    failures = ensure_queue(sqs, failures_spec)
    ensure_rule(target.client("events"), rule, queue.arn)
    return queue, failures


# --- SQS ---------------------------------------------------------------------


def ensure_queues(sqs: BaseClient, specs: list[QueueSpec]) -> dict[str, Queue]:
    """Every queue of `specs` and their dead-letter queues, by name."""
    queues: dict[str, Queue] = {}
    for spec in specs:
        if spec.dead_letter is not None:
            dlq = ensure_queue(sqs, spec.dead_letter)
            queues[dlq.name] = dlq
        queues[spec.name] = ensure_queue(sqs, spec, queues.get(_dlq_name(spec)))
    return queues


def _dlq_name(spec: QueueSpec) -> str:
    return spec.dead_letter.name if spec.dead_letter else ""


def ensure_queue(
    sqs: BaseClient, spec: QueueSpec, dead_letter: Queue | None = None
) -> Queue:
    """A queue with exactly the spec's attributes; its DLQ must exist already."""
    attributes = spec.attributes()
    if spec.dead_letter is not None:
        if dead_letter is None:
            raise ValueError(f"queue {spec.name}: create its dead-letter queue first")
        attributes["RedrivePolicy"] = spec.redrive_policy(dead_letter.arn)
    try:
        url = sqs.create_queue(QueueName=spec.name, Attributes=attributes)["QueueUrl"]
    except ClientError as exc:
        if _code(exc) not in {"QueueAlreadyExists", "QueueNameExists"}:
            raise
        # It exists with other settings: bring them in line with the spec.
        url = sqs.get_queue_url(QueueName=spec.name)["QueueUrl"]
        sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    return Queue(name=spec.name, url=url, arn=arn)


# --- S3 ----------------------------------------------------------------------


def ensure_bucket(s3: BaseClient, spec: BucketSpec, notification_queue: Queue) -> None:
    _create_bucket(s3, spec.name)
    s3.put_bucket_cors(
        Bucket=spec.name, CORSConfiguration={"CORSRules": spec.cors_rules}
    )
    notification: dict[str, Any] = {
        "QueueConfigurations": [
            {
                "Id": "local-s3-events",
                "QueueArn": notification_queue.arn,
                "Events": spec.notification_events,
            }
        ]
    }
    if spec.eventbridge:
        notification["EventBridgeConfiguration"] = {}
    # S3 (and moto) sends an s3:TestEvent to the queue on every put; the
    # runner skips it.
    s3.put_bucket_notification_configuration(
        Bucket=spec.name, NotificationConfiguration=notification
    )


def _create_bucket(s3: BaseClient, name: str) -> None:
    args: dict[str, Any] = {"Bucket": name}
    region = s3.meta.region_name
    if region != "us-east-1":
        args["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        s3.create_bucket(**args)
    except ClientError as exc:
        if _code(exc) != "BucketAlreadyOwnedByYou":
            raise


# --- DynamoDB ----------------------------------------------------------------


def ensure_table(dynamodb: BaseClient, name: str) -> None:
    try:
        dynamodb.create_table(**table_definition(name))
    except ClientError as exc:
        if _code(exc) != "ResourceInUseException":
            raise
        return
    dynamodb.get_waiter("table_exists").wait(
        TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )


# --- EventBridge -------------------------------------------------------------


def ensure_bus(events: BaseClient, name: str) -> str:
    try:
        return str(events.create_event_bus(Name=name)["EventBusArn"])
    except ClientError as exc:
        if _code(exc) != "ResourceAlreadyExistsException":
            raise
    return str(events.describe_event_bus(Name=name)["Arn"])


def ensure_archive(events: BaseClient, name: str, bus_arn: str) -> None:
    try:
        events.create_archive(
            ArchiveName=name,
            EventSourceArn=bus_arn,
            EventPattern=json.dumps(ARCHIVE_PATTERN),
            RetentionDays=ARCHIVE_RETENTION_DAYS,
            Description="Every message of ours, for replays",
        )
    except ClientError as exc:
        if _code(exc) != "ResourceAlreadyExistsException":
            raise


def ensure_rule(events: BaseClient, spec: RuleSpec, queue_arn: str) -> None:
    """PutRule and PutTargets are upserts, so this is idempotent as it stands."""
    events.put_rule(
        Name=spec.name,
        EventBusName=spec.bus,
        EventPattern=json.dumps(spec.pattern),
        State="ENABLED",
        Description=spec.description,
    )
    response = events.put_targets(
        Rule=spec.name,
        EventBusName=spec.bus,
        Targets=[{"Id": spec.target_id, "Arn": queue_arn}],
    )
    if response.get("FailedEntryCount"):
        raise ProvisioningError(
            f"rule {spec.name}: target {queue_arn} refused: {response['FailedEntries']}"
        )


# --- Cognito -----------------------------------------------------------------


def ensure_cognito(cognito: BaseClient, spec: CognitoSpec) -> CognitoIds:
    pool_id = _ensure_pool(cognito, spec)
    client_id = _ensure_client(cognito, spec, pool_id)
    _ensure_user(cognito, spec, pool_id)
    return CognitoIds(user_pool_id=pool_id, user_pool_client_id=client_id)


def check_cognito_ids(got: CognitoIds, expected: CognitoIds) -> None:
    if got == expected:
        return
    raise ProvisioningError(
        "moto's Cognito ids differ from .chalice/config.json's local stage:\n"
        f"  user pool id:  got {got.user_pool_id}, "
        f"config has {expected.user_pool_id}\n"
        f"  app client id: got {got.user_pool_client_id}, "
        f"config has {expected.user_pool_client_id}\n"
        "Tokens would not verify. Causes: the moto server was started without "
        "MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY=HASH and "
        "MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY=HASH, or the pool's "
        "name, region or arguments (devstack/resources.py) changed. After an "
        "intended change run `python -m devstack sync-config` and commit the "
        "config."
    )


def _ensure_pool(cognito: BaseClient, spec: CognitoSpec) -> str:
    existing = [
        pool["Id"]
        for page in cognito.get_paginator("list_user_pools").paginate(MaxResults=60)
        for pool in page["UserPools"]
        if pool["Name"] == spec.pool_name
    ]
    if len(existing) > 1:
        raise ProvisioningError(
            f"{len(existing)} user pools are named {spec.pool_name}: {existing}"
        )
    if existing:
        return str(existing[0])
    return str(cognito.create_user_pool(**spec.create_pool_args())["UserPool"]["Id"])


def _ensure_client(cognito: BaseClient, spec: CognitoSpec, pool_id: str) -> str:
    pages = cognito.get_paginator("list_user_pool_clients").paginate(
        UserPoolId=pool_id, MaxResults=60
    )
    for page in pages:
        for client in page["UserPoolClients"]:
            if client["ClientName"] == spec.client_name:
                return str(client["ClientId"])
    created = cognito.create_user_pool_client(**spec.create_client_args(pool_id))
    return str(created["UserPoolClient"]["ClientId"])


def _ensure_user(cognito: BaseClient, spec: CognitoSpec, pool_id: str) -> None:
    ensure_user(
        cognito,
        pool_id,
        spec.demo_user.username,
        spec.demo_user.password,
        spec.demo_user.attributes(),
    )


def ensure_user(
    cognito: BaseClient,
    pool_id: str,
    username: str,
    password: str,
    attributes: list[dict[str, str]] | None = None,
) -> None:
    """A confirmed user with this password, whether or not it existed."""
    try:
        cognito.admin_get_user(UserPoolId=pool_id, Username=username)
    except ClientError as exc:
        if _code(exc) != "UserNotFoundException":
            raise
        cognito.admin_create_user(
            UserPoolId=pool_id,
            Username=username,
            UserAttributes=attributes or [],
            MessageAction="SUPPRESS",
        )
    cognito.admin_set_user_password(
        UserPoolId=pool_id, Username=username, Password=password, Permanent=True
    )


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
