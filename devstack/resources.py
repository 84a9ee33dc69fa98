"""Every resource of the local stack and its settings, as plain data.

Queue settings, rule patterns, CORS rules and the user pool's arguments are
written down here once, so provisioning, the runner and the deployed stages'
CloudFormation template (`infra/template.py`) all read the same values. Names
of the resources the app uses come from `.chalice/config.json` (see
`StackNames.from_env`); only the local-only helpers (the S3 notification and
failure queues, the bus tap, one queue per `on_cw_event` handler) derive
theirs from the app and stage.

Nothing here talks to AWS.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.messages import SOURCE, SUBSCRIPTIONS

MINUTE = 60
HOUR = 60 * MINUTE
DAY = 24 * HOUR

# Chalice's default lambda_timeout; the local stage sets none.
LAMBDA_TIMEOUT_SECONDS = 60
# AWS asks queues that feed Lambda for a visibility timeout of at least six
# times the function's timeout, so a batch still running is not handed out
# again while Lambda's poller retries. The deployed stages apply the same
# factor to each consumer's own timeout (infra/stages.py).
VISIBILITY_TIMEOUT_FACTOR = 6
CONSUMER_VISIBILITY_TIMEOUT = VISIBILITY_TIMEOUT_FACTOR * LAMBDA_TIMEOUT_SECONDS
CONSUMER_RETENTION = 4 * DAY
# A failing message is tried this often before it is parked in the DLQ.
CONSUMER_MAX_RECEIVE_COUNT = 5
# Dead letters keep as long as SQS allows, to leave time to look and redrive.
DEAD_LETTER_RETENTION = 14 * DAY
# The local S3 and EventBridge queues stand in for an asynchronous Lambda
# invoke: one message is held while the handler is tried three times.
ASYNC_VISIBILITY_TIMEOUT = 5 * MINUTE
# The tap has no consumer; a short retention keeps moto's queue shallow.
TAP_RETENTION = HOUR
TAP_VISIBILITY_TIMEOUT = 30

# Patterns of the rules on the custom bus: each consumer's come from the
# catalogue's SUBSCRIPTIONS, one rule per message version it reads.
BUS_TAP_PATTERN: dict[str, Any] = {"source": [SOURCE]}
# The bus archives every message of ours, so a time window can be replayed
# to the consumers (each of which is idempotent).
ARCHIVE_PATTERN: dict[str, Any] = {"source": [SOURCE]}
ARCHIVE_RETENTION_DAYS = 30

# Browsers upload and download with presigned URLs straight to the bucket.
# LIMITATION: any origin may upload locally; listing only the web page's
# origin needs the page, which does not exist yet.
BUCKET_CORS_RULES: list[dict[str, Any]] = [
    {
        "AllowedOrigins": ["*"],
        "AllowedMethods": ["GET", "POST", "PUT", "HEAD"],
        "AllowedHeaders": ["*"],
        "ExposeHeaders": ["ETag"],
    }
]
# What the bucket reports to the S3 handler's (local) notification queue.
BUCKET_NOTIFICATION_EVENTS = ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]
# The bucket also sends its events to EventBridge's default bus, where
# `@app.on_cw_event` handlers consume AWS services' events (see DESIGN.md).
BUCKET_SENDS_TO_EVENTBRIDGE = True

# moto derives the pool's and the client's ids from these exact arguments
# (with MOTO_COGNITO_IDP_*_ID_STRATEGY=HASH): change one and the ids in
# `.chalice/config.json` must be rewritten (`python -m devstack sync-config`).
USER_POOL_ARGS: dict[str, Any] = {
    "Policies": {
        "PasswordPolicy": {
            "MinimumLength": 12,
            "RequireUppercase": True,
            "RequireLowercase": True,
            "RequireNumbers": True,
            "RequireSymbols": True,
            "TemporaryPasswordValidityDays": 7,
        }
    },
    "AutoVerifiedAttributes": ["email"],
    "UsernameConfiguration": {"CaseSensitive": False},
    # Only an administrator creates users; a deployed stage may open sign-up
    # (its `self_sign_up` setting, see docs/deployment.md).
    "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True},
}
APP_CLIENT_ARGS: dict[str, Any] = {
    "GenerateSecret": False,
    "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    # A failed sign-in or reset says nothing of whether the user exists.
    "PreventUserExistenceErrors": "ENABLED",
    "EnableTokenRevocation": True,
    "AccessTokenValidity": 60,
    "IdTokenValidity": 60,
    "RefreshTokenValidity": 30,
    "TokenValidityUnits": {
        "AccessToken": "minutes",
        "IdToken": "minutes",
        "RefreshToken": "days",
    },
}


@dataclass(frozen=True)
class DemoUser:
    """A user every local stack has, documented in the banner and stack.json."""

    username: str = "demo"
    # Meets USER_POOL_ARGS' policy: upper, lower, digit, symbol, 12+ long.
    password: str = "Demo-password-1"  # noqa: S105 - documented, local only
    email: str = "demo@example.com"

    def attributes(self) -> list[dict[str, str]]:
        return [
            {"Name": "email", "Value": self.email},
            {"Name": "email_verified", "Value": "true"},
        ]


DEMO_USER = DemoUser()


@dataclass(frozen=True)
class StackNames:
    """The names of one stage's resources."""

    app: str
    stage: str
    bucket: str
    table: str
    event_bus: str
    delete_queue: str
    change_feed_queue: str
    user_pool: str

    @classmethod
    def from_env(cls, app: str, stage: str, env: Mapping[str, str]) -> StackNames:
        def required(name: str) -> str:
            value = env.get(name, "").strip()
            if not value:
                raise ValueError(f"environment variable {name} is not set")
            return value

        return cls(
            app=app,
            stage=stage,
            bucket=required("FILES_BUCKET"),
            table=required("FILES_TABLE"),
            event_bus=required("EVENT_BUS_NAME"),
            delete_queue=required("DELETE_QUEUE_NAME"),
            change_feed_queue=required("CHANGE_FEED_QUEUE_NAME"),
            user_pool=required("COGNITO_USER_POOL_NAME"),
        )

    @property
    def prefix(self) -> str:
        return f"{self.app}-{self.stage}"

    @property
    def delete_dlq(self) -> str:
        return dead_letter_name(self.delete_queue)

    @property
    def consumer_queues(self) -> dict[str, str]:
        """Each subscription's queue, by the consumer's name in SUBSCRIPTIONS."""
        return {
            "delete-file": self.delete_queue,
            "change-feed": self.change_feed_queue,
        }

    @property
    def archive(self) -> str:
        return f"{self.prefix}-events"

    @property
    def bus_tap_queue(self) -> str:
        return f"{self.prefix}-bus-tap"

    @property
    def s3_events_queue(self) -> str:
        return f"{self.prefix}-s3-events"

    @property
    def s3_failures_queue(self) -> str:
        return f"{self.prefix}-s3-failures"

    @property
    def app_client(self) -> str:
        return f"{self.prefix}-app"

    def cw_queue(self, handler: str) -> str:
        return _bounded(f"{self.prefix}-cw-{handler}", 80 - len("-failures"))

    def cw_failures_queue(self, handler: str) -> str:
        return f"{self.cw_queue(handler)}-failures"

    def cw_rule(self, handler: str) -> str:
        return _bounded(f"{self.prefix}-cw-{handler}", 64)


def dead_letter_name(queue: str) -> str:
    return f"{queue}-dlq"


def _bounded(name: str, limit: int) -> str:
    """Keep a derived name within AWS's length limit, still unique."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: limit - 9]}-{digest}"


@dataclass(frozen=True)
class QueueSpec:
    name: str
    visibility_timeout: int
    retention: int
    dead_letter: QueueSpec | None = None
    max_receive_count: int | None = None

    def attributes(self) -> dict[str, str]:
        """SQS attributes, without the RedrivePolicy (which needs the DLQ's ARN)."""
        return {
            "VisibilityTimeout": str(self.visibility_timeout),
            "MessageRetentionPeriod": str(self.retention),
        }

    def redrive_policy(self, dead_letter_arn: str) -> str:
        return json.dumps(
            {
                "deadLetterTargetArn": dead_letter_arn,
                "maxReceiveCount": str(self.max_receive_count),
            }
        )


@dataclass(frozen=True)
class RuleSpec:
    name: str
    bus: str
    pattern: dict[str, Any]
    target_queue: str
    description: str = ""

    @property
    def target_id(self) -> str:
        return _bounded(self.target_queue, 64)


@dataclass(frozen=True)
class BucketSpec:
    name: str
    cors_rules: list[dict[str, Any]]
    notification_queue: str
    notification_events: list[str]
    eventbridge: bool


@dataclass(frozen=True)
class CognitoSpec:
    pool_name: str
    pool_args: dict[str, Any]
    client_name: str
    client_args: dict[str, Any]
    demo_user: DemoUser

    def create_pool_args(self) -> dict[str, Any]:
        return {"PoolName": self.pool_name, **self.pool_args}

    def create_client_args(self, pool_id: str) -> dict[str, Any]:
        return {
            "UserPoolId": pool_id,
            "ClientName": self.client_name,
            **self.client_args,
        }


@dataclass(frozen=True)
class StackSpec:
    names: StackNames
    table: str
    queues: list[QueueSpec]
    rules: list[RuleSpec]
    bucket: BucketSpec
    cognito: CognitoSpec


def dead_letter(name: str) -> QueueSpec:
    return QueueSpec(
        name=name,
        visibility_timeout=CONSUMER_VISIBILITY_TIMEOUT,
        retention=DEAD_LETTER_RETENTION,
    )


def consumer_queue(name: str) -> QueueSpec:
    """A consumer's queue, with its dead-letter queue."""
    return QueueSpec(
        name=name,
        visibility_timeout=CONSUMER_VISIBILITY_TIMEOUT,
        retention=CONSUMER_RETENTION,
        dead_letter=dead_letter(dead_letter_name(name)),
        max_receive_count=CONSUMER_MAX_RECEIVE_COUNT,
    )


def async_queue(name: str) -> QueueSpec:
    """A local queue standing in for an asynchronous invoke's event queue."""
    return QueueSpec(
        name=name,
        visibility_timeout=ASYNC_VISIBILITY_TIMEOUT,
        retention=CONSUMER_RETENTION,
    )


def failures_queue(name: str) -> QueueSpec:
    """A local queue standing in for an asynchronous invoke's on-failure target."""
    return QueueSpec(
        name=name,
        visibility_timeout=CONSUMER_VISIBILITY_TIMEOUT,
        retention=DEAD_LETTER_RETENTION,
    )


def bus_tap_queue(names: StackNames) -> QueueSpec:
    return QueueSpec(
        name=names.bus_tap_queue,
        visibility_timeout=TAP_VISIBILITY_TIMEOUT,
        retention=TAP_RETENTION,
    )


def subscription_rules(names: StackNames) -> list[RuleSpec]:
    """One rule per consumer and message version it reads, to its queue."""
    return [
        RuleSpec(
            name=f"{names.prefix}-{consumer}-v{version}",
            bus=names.event_bus,
            pattern=pattern,
            target_queue=names.consumer_queues[consumer],
            description=f"{subscription.description} (version {version})",
        )
        for consumer, subscription in SUBSCRIPTIONS.items()
        for version, pattern in subscription.event_patterns().items()
    ]


def bus_rules(names: StackNames) -> list[RuleSpec]:
    return [
        *subscription_rules(names),
        RuleSpec(
            name=f"{names.prefix}-bus-tap",
            bus=names.event_bus,
            pattern=BUS_TAP_PATTERN,
            target_queue=names.bus_tap_queue,
            description="Local only: every event of ours, for tests and developers",
        ),
    ]


def cw_source(
    names: StackNames, handler: str, pattern: dict[str, Any]
) -> tuple[QueueSpec, QueueSpec, RuleSpec]:
    """An `on_cw_event` handler's local wiring: queue, failures queue, rule."""
    rule = RuleSpec(
        name=names.cw_rule(handler),
        bus="default",
        pattern=pattern,
        target_queue=names.cw_queue(handler),
        description=f"Local only: events for the {handler} handler",
    )
    return (
        async_queue(names.cw_queue(handler)),
        failures_queue(names.cw_failures_queue(handler)),
        rule,
    )


def stack_spec(names: StackNames) -> StackSpec:
    return StackSpec(
        names=names,
        table=names.table,
        queues=[
            *(consumer_queue(q) for q in names.consumer_queues.values()),
            bus_tap_queue(names),
            async_queue(names.s3_events_queue),
            failures_queue(names.s3_failures_queue),
        ],
        rules=bus_rules(names),
        bucket=BucketSpec(
            name=names.bucket,
            cors_rules=BUCKET_CORS_RULES,
            notification_queue=names.s3_events_queue,
            notification_events=BUCKET_NOTIFICATION_EVENTS,
            eventbridge=BUCKET_SENDS_TO_EVENTBRIDGE,
        ),
        cognito=CognitoSpec(
            pool_name=names.user_pool,
            pool_args=USER_POOL_ARGS,
            client_name=names.app_client,
            client_args=APP_CLIENT_ARGS,
            demo_user=DEMO_USER,
        ),
    )
