"""The IAM permissions a recorded AWS call needs, and whether a policy grants them.

Enough of IAM's evaluation for our own policies: Allow statements only, no
conditions, `*` and `?` wildcards in resources. The translation from calls to
actions follows AWS's service authorization reference (see the module
docstring of `infra/policies.py` for the calls that do not map one to one).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable
from typing import Any

from devstack.resources import StackNames

# The account moto answers as.
MOTO_ACCOUNT = "123456789012"

Permission = tuple[str, str]  # (action, resource ARN)
Call = dict[str, Any]

_TRANSACT_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}
_OBJECT_ACTIONS = {
    "HeadObject": "s3:GetObject",
    "GetObject": "s3:GetObject",
    "PutObject": "s3:PutObject",
    "PresignedPost": "s3:PutObject",
    "DeleteObject": "s3:DeleteObject",
}
_BUCKET_ACTIONS = {"ListObjectsV2": "s3:ListBucket", "ListObjects": "s3:ListBucket"}
_QUEUE_ACTIONS = {"DeleteMessageBatch": "sqs:DeleteMessage"}


def _table_arn(region: str, table: str) -> str:
    return f"arn:aws:dynamodb:{region}:{MOTO_ACCOUNT}:table/{table}"


def _dynamodb(operation: str, params: dict[str, Any], region: str) -> list[Permission]:
    if operation == "TransactWriteItems":
        return [
            (_TRANSACT_ACTIONS[kind], _table_arn(region, body["TableName"]))
            for item in params["TransactItems"]
            for kind, body in item.items()
        ]
    arn = _table_arn(region, params["TableName"])
    if params.get("IndexName"):
        arn = f"{arn}/index/{params['IndexName']}"
    return [(f"dynamodb:{operation}", arn)]


def _s3(operation: str, params: dict[str, Any], region: str) -> list[Permission]:
    bucket = f"arn:aws:s3:::{params['Bucket']}"
    if operation in _BUCKET_ACTIONS:
        return [(_BUCKET_ACTIONS[operation], bucket)]
    action = _OBJECT_ACTIONS.get(operation, f"s3:{operation}")
    return [(action, f"{bucket}/{params['Key']}")]


def _events(operation: str, params: dict[str, Any], region: str) -> list[Permission]:
    def bus_arn(name: str) -> str:
        if name.startswith("arn:"):
            return name
        return f"arn:aws:events:{region}:{MOTO_ACCOUNT}:event-bus/{name}"

    return [
        (f"events:{operation}", bus_arn(entry["EventBusName"]))
        for entry in params.get("Entries", [])
    ]


def _sqs(operation: str, params: dict[str, Any], region: str) -> list[Permission]:
    if "QueueUrl" in params:
        account, name = params["QueueUrl"].rstrip("/").split("/")[-2:]
    else:
        account = params.get("QueueOwnerAWSAccountId", MOTO_ACCOUNT)
        name = params["QueueName"]
    action = _QUEUE_ACTIONS.get(operation, f"sqs:{operation}")
    return [(action, f"arn:aws:sqs:{region}:{account}:{name}")]


_SERVICES: dict[str, Callable[[str, dict[str, Any], str], list[Permission]]] = {
    "dynamodb": _dynamodb,
    "s3": _s3,
    "events": _events,
    "sqs": _sqs,
}


def permissions(call: Call) -> list[Permission]:
    """What IAM checks for one recorded call."""
    translate = _SERVICES.get(call["service"])
    if translate is None:
        # An unknown service needs a policy that names it: fail loudly.
        return [(f"{call['service']}:{call['operation']}", "*")]
    region = call["settings"]["AWS_REGION"]
    return translate(call["operation"], call["params"], region)


def names_of(calls: Iterable[Call], app: str, stage: str) -> StackNames:
    """The resources the recorded app was configured with."""
    (settings,) = {tuple(sorted(c["settings"].items())) for c in calls}
    env = dict(settings)
    return StackNames(
        app=app,
        stage=stage,
        bucket=env["FILES_BUCKET"],
        table=env["FILES_TABLE"],
        event_bus=env["EVENT_BUS_NAME"],
        delete_queue=env["DELETE_QUEUE_NAME"],
        change_feed_queue=env["CHANGE_FEED_QUEUE_NAME"],
        user_pool=f"{app}-{stage}-users",
    )


def grants(policy: dict[str, Any]) -> list[Permission]:
    """Every (action, resource pattern) an Allow statement of `policy` names."""
    return [
        (action, resource)
        for statement in policy["Statement"]
        if statement["Effect"] == "Allow"
        for action in _listed(statement["Action"])
        for resource in _listed(statement["Resource"])
    ]


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def covers(grant: Permission, needed: Permission) -> bool:
    action, pattern = grant
    return action.lower() == needed[0].lower() and fnmatch.fnmatchcase(
        needed[1], pattern
    )


def allows(policy: dict[str, Any], needed: Permission) -> bool:
    return any(covers(grant, needed) for grant in grants(policy))
