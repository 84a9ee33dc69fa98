"""Expected failures of a deploy or a teardown, each told in one line.

No credentials, a stack CloudFormation cannot change as it stands, a stack
operation that rolled back, AWS refusing a call, Chalice failing: each is
something to act on, not a bug, so the command line says what happened and
exits non-zero instead of printing a traceback. Anything else is a bug in
the deploy script, and keeps its traceback.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    NoRegionError,
    ProfileNotFound,
    TokenRetrievalError,
)

from devstack.config import ConfigError
from infra.stages import SettingsError

# Statuses from which CloudFormation takes an update or a delete.
SETTLED = frozenset(
    {
        "CREATE_COMPLETE",
        "UPDATE_COMPLETE",
        "UPDATE_ROLLBACK_COMPLETE",
        "IMPORT_COMPLETE",
        "IMPORT_ROLLBACK_COMPLETE",
    }
)


class DeployError(RuntimeError):
    """The stage cannot be deployed or torn down as it stands."""


EXPECTED = (DeployError, SettingsError, ConfigError, BotoCoreError, ClientError)


def one_line(exc: Exception) -> str:
    """What to tell about an expected failure (one of EXPECTED)."""
    if isinstance(exc, NoCredentialsError | TokenRetrievalError | ProfileNotFound):
        return (
            f"no usable AWS credentials ({exc}): set AWS_PROFILE, or sign in "
            "with aws configure or aws sso login"
        )
    if isinstance(exc, NoRegionError):
        return "no region: set AWS_REGION or pass --region"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        operation = getattr(exc, "operation_name", "a call")
        return f"AWS refused {operation}: {error.get('Code')}: {error.get('Message')}"
    if isinstance(exc, BotoCoreError):
        return f"could not talk to AWS: {exc}"
    return str(exc)


def unchangeable_stack(name: str, status: str, stage: str) -> DeployError | None:
    """Why a stack in `status` cannot be updated now; None if it can."""
    if status in SETTLED:
        return None
    if status.endswith("_IN_PROGRESS"):
        return DeployError(
            f"stack {name} is busy ({status}): wait until it settles, then try again"
        )
    if status == "UPDATE_ROLLBACK_FAILED":
        return DeployError(
            f"stack {name} is {status}: finish its rollback (aws cloudformation "
            f"continue-update-rollback --stack-name {name}), then deploy again"
        )
    # ROLLBACK_COMPLETE and ROLLBACK_FAILED (a first create that failed),
    # DELETE_FAILED: only a deletion moves such a stack on.
    return DeployError(
        f"stack {name} is {status} and cannot be updated: delete it first "
        f"(make destroy STAGE={stage}), then deploy again"
    )


def stack_failure(cfn: Any, name: str) -> str:
    """The stack's status and the first resource that failed in its last run."""
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    first: dict[str, Any] | None = None
    # Newest first: stop at the event that began the operation.
    for event in events:
        if _began_operation(event, stack["StackId"]):
            break
        if event["ResourceStatus"].endswith("_FAILED"):
            first = event
    status = stack["StackStatus"]
    if first is None:
        return f"stack {name} ended {status}"
    return (
        f"stack {name} ended {status}: {first['LogicalResourceId']} "
        f"{first['ResourceStatus']}: {first.get('ResourceStatusReason', '')}"
    )


def _began_operation(event: dict[str, Any], stack_id: str) -> bool:
    return (
        event.get("PhysicalResourceId") == stack_id
        and event["ResourceStatus"]
        in {"CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "DELETE_IN_PROGRESS"}
        and event.get("ResourceStatusReason") == "User Initiated"
    )
