"""What every deployed stage shares: resource names, functions, settings.

Names follow the local stage's rule, `<app>-<stage>-<what>`; the bucket alone
also carries the account and region, because bucket names are global. The
template writes names with CloudFormation's placeholders (`${Stage}`,
`${AWS::AccountId}`, `${AWS::Region}`), which `Fn::Sub` fills in; the policy
files under `.chalice/` use the same placeholders, which the deploy script
fills in, so no account id is ever committed.

A stage's Lambda settings (memory, timeout, policy file) live in
`.chalice/config.json`, read here through the local stack's own reader: the
consumers' queue visibility timeouts are derived from the same timeouts.
What only the deploy reads (`DeploySettings`) sits beside them, in the
stage's `deploy` object.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from chalicelib.web import CORS_ORIGIN_VARIABLE
from devstack.config import StageConfig, load_stage
from devstack.resources import VISIBILITY_TIMEOUT_FACTOR, StackNames

ROOT = Path(__file__).resolve().parents[1]
APP_NAME = "filemanager"

STAGE = "${Stage}"
ACCOUNT = "${AWS::AccountId}"
REGION = "${AWS::Region}"

# Chalice names the API's function `api_handler`, the others by their handler.
API_HANDLER = "api_handler"
S3_HANDLER = "on_object_created"
# Housekeeping: the scheduled sweep, and S3's "Object Deleted" events.
SWEEPER = "sweep_index"
OBJECT_DELETED_HANDLER = "on_object_deleted"


@dataclass(frozen=True)
class Consumer:
    """An SQS consumer: the subscription it serves and where its queue is."""

    subscription: str  # its key in chalicelib.messages.SUBSCRIPTIONS
    handler: str  # its Chalice function
    queue_variable: str  # the environment variable that names its queue

    @property
    def logical_name(self) -> str:
        """`delete-file` as `DeleteFile`, for the template's logical ids."""
        return "".join(part.capitalize() for part in self.subscription.split("-"))


CONSUMERS = (
    Consumer("delete-file", "on_delete_file", "DELETE_QUEUE_NAME"),
    Consumer("change-feed", "on_change_event", "CHANGE_FEED_QUEUE_NAME"),
)


@dataclass(frozen=True)
class AsyncHandler:
    """A function S3 or EventBridge invokes asynchronously.

    Lambda retries a failed asynchronous invoke, then drops the event unless
    the function has an on-failure destination: the deploy gives each of
    these a failures queue of its own.
    """

    handler: str
    # Its failures queue's logical id is `<stem>FailuresQueue`.
    stem: str
    # Tries after the first, at most 2: Lambda waits about 1 minute, then 2.
    retries: int

    def failures_queue(self, names: StackNames) -> str:
        """Its failures queue: the local stack's name for it where it has one."""
        if self.handler == S3_HANDLER:
            return names.s3_failures_queue
        # Schedules and on_cw_event handlers are both EventBridge rules.
        return names.cw_failures_queue(self.handler)


ASYNC_HANDLERS = (
    AsyncHandler(S3_HANDLER, "Upload", retries=2),
    AsyncHandler(OBJECT_DELETED_HANDLER, "ObjectDeleted", retries=2),
    # The next run, 5 minutes on, does what a failed run left; a retry would
    # only overlap it.
    AsyncHandler(SWEEPER, "Sweep", retries=0),
)
FUNCTIONS = (
    API_HANDLER,
    S3_HANDLER,
    *(c.handler for c in CONSUMERS),
    SWEEPER,
    OBJECT_DELETED_HANDLER,
)


# The stage's own object in `.chalice/config.json` that only the deploy reads.
SETTINGS_KEY = "deploy"


# The retentions CloudWatch Logs offers, in days.
LOG_RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096}
    | {1827, 2192, 2557, 2922, 3288, 3653}
)


class SettingsError(ValueError):
    """A stage's deploy settings are not ones the deploy can act on."""


@dataclass(frozen=True)
class DeploySettings:
    """What a stage decides about its deployment, beside Chalice's settings.

    Chalice ignores keys of the config it does not know, and the deploy
    leaves this one out of the project Chalice deploys anyway.
    """

    # Anyone may create an account with the app client; off, only an
    # administrator creates users.
    self_sign_up: bool = False
    # How long each function's logs are kept.
    log_retention_days: int = 30
    # A deploy or a teardown asks first (or takes --yes), and a teardown
    # says what becomes of the data (--keep-data or --delete-data).
    protected: bool = False

    @classmethod
    def of(cls, stage: StageConfig) -> DeploySettings:
        given: dict[str, Any] = stage.raw["stages"][stage.stage].get(SETTINGS_KEY, {})
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(given) - set(known))
        if unknown:
            raise SettingsError(
                f"stage {stage.stage}: unknown deploy setting {', '.join(unknown)} "
                f"(known: {', '.join(known)})"
            )
        for name, value in given.items():
            wanted = type(getattr(cls(), name))
            # bool is an int in Python: compare types exactly.
            if type(value) is not wanted:
                raise SettingsError(
                    f"stage {stage.stage}: deploy setting {name} must be a "
                    f"{'boolean' if wanted is bool else 'number'}, not {value!r}"
                )
        settings = cls(**given)
        if settings.log_retention_days not in LOG_RETENTION_DAYS:
            raise SettingsError(
                f"stage {stage.stage}: log_retention_days must be one of "
                f"CloudWatch Logs' {sorted(LOG_RETENTION_DAYS)}"
            )
        return settings


# One origin (a browser's Origin header: scheme, host, port; no path), or
# any. API Gateway answers with one Access-Control-Allow-Origin, so the API
# cannot take a list.
_ORIGIN = re.compile(r"\*|https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")


def cors_origin(stage: StageConfig) -> str:
    """The web origin the stage's API and bucket answer browsers from."""
    origin = stage.env.get(CORS_ORIGIN_VARIABLE, "*")
    if not _ORIGIN.fullmatch(origin):
        raise SettingsError(
            f"stage {stage.stage}: {CORS_ORIGIN_VARIABLE} must be * or one origin "
            f"such as https://files.example.com, not {origin!r}"
        )
    return origin


def stack_names(app: str, stage: str, account: str, region: str) -> StackNames:
    """The names of one deployed stage's resources."""
    prefix = f"{app}-{stage}"
    return StackNames(
        app=app,
        stage=stage,
        bucket=f"{prefix}-files-{account}-{region}",
        table=f"{prefix}-files",
        event_bus=f"{prefix}-bus",
        delete_queue=f"{prefix}-delete-file",
        change_feed_queue=f"{prefix}-change-feed",
        user_pool=f"{prefix}-users",
    )


def state_bucket(app: str, stage: str, account: str, region: str) -> str:
    """The bucket that keeps what the deploy must remember between runs."""
    return f"{app}-{stage}-deploy-{account}-{region}"


def placeholder_names(app: str = APP_NAME) -> StackNames:
    """The names as the template and the policy files write them."""
    return stack_names(app, STAGE, ACCOUNT, REGION)


def placeholder_state_bucket(app: str = APP_NAME) -> str:
    return state_bucket(app, STAGE, ACCOUNT, REGION)


def fill(text: str, stage: str, account: str, region: str) -> str:
    """Put one stage's values in place of the placeholders."""
    for placeholder, value in ((STAGE, stage), (ACCOUNT, account), (REGION, region)):
        text = text.replace(placeholder, value)
    return text


def function_name(names: StackNames, function: str) -> str:
    """The Lambda function Chalice deploys for `function` in this stage."""
    if function == API_HANDLER:
        return names.prefix
    return f"{names.prefix}-{function}"


def log_group(names: StackNames, function: str) -> str:
    """Where Lambda writes `function`'s logs."""
    return f"/aws/lambda/{function_name(names, function)}"


def stack_name(app: str, stage: str) -> str:
    """The CloudFormation stack that holds one stage's infrastructure."""
    return f"{app}-{stage}-infra"


def policy_file(function: str) -> str:
    """The policy file of `function`, relative to `.chalice/`."""
    return f"policy-{function}.json"


def load_deployed_stage(stage: str, project_dir: Path = ROOT) -> StageConfig:
    return load_stage(project_dir, stage)


def visibility_timeout(stage: StageConfig, consumer: Consumer) -> int:
    """The consumer queue's visibility timeout for the stage's Lambda timeout."""
    return VISIBILITY_TIMEOUT_FACTOR * stage.lambda_timeout(consumer.handler)
