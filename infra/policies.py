"""Each deployed function's IAM policy: only the calls its code makes.

`autogen_policy` reads only `app.py` and misses every call in `chalicelib`, so
the policies are written here, one per function, from what the code calls
(`tests/infra/test_policies.py` records every AWS call the app tier makes and
holds each policy to it, both ways). `python -m infra.generate` writes them
to `.chalice/policy-<function>.json` with the placeholders of
`infra/stages.py`, which the deploy script fills in.

How calls map to IAM actions, where it is not one to one:

- presigned POST and GET URLs act with the function's rights when S3 checks
  them: uploading needs `s3:PutObject`, downloading `s3:GetObject`;
- `HeadObject` is `s3:GetObject`; a missing key answers 404 only to a caller
  that may `s3:ListBucket`, and 403 to anyone else;
- `TransactWriteItems` has no action of its own: each item needs the action
  of its kind (`PutItem`, `UpdateItem`, `DeleteItem`, `ConditionCheckItem`);
- `DeleteMessageBatch` is `sqs:DeleteMessage`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.adapters.table_schema import NEEDS_ATTENTION_INDEX
from chalicelib.domain import KEY_PREFIX
from devstack.resources import StackNames
from infra.stages import (
    API_HANDLER,
    ASYNC_HANDLERS,
    CONSUMERS,
    FUNCTIONS,
    OBJECT_DELETED_HANDLER,
    S3_HANDLER,
    SWEEPER,
    AsyncHandler,
    Consumer,
    log_group,
)


@dataclass(frozen=True)
class Grant:
    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]


@dataclass(frozen=True)
class Arns:
    """The ARNs of one stage's resources."""

    names: StackNames
    account: str
    region: str

    @property
    def table(self) -> str:
        return f"arn:aws:dynamodb:{self.region}:{self.account}:table/{self.names.table}"

    @property
    def indexes(self) -> str:
        return f"{self.table}/index/*"

    @property
    def attention_index(self) -> str:
        return f"{self.table}/index/{NEEDS_ATTENTION_INDEX}"

    @property
    def bucket(self) -> str:
        return f"arn:aws:s3:::{self.names.bucket}"

    @property
    def objects(self) -> str:
        """Objects under our key layout only."""
        return f"{self.bucket}/{KEY_PREFIX}*"

    @property
    def bus(self) -> str:
        bus = self.names.event_bus
        return f"arn:aws:events:{self.region}:{self.account}:event-bus/{bus}"

    def queue(self, name: str) -> str:
        return f"arn:aws:sqs:{self.region}:{self.account}:{name}"

    def log_group(self, function: str) -> str:
        group = log_group(self.names, function)
        return f"arn:aws:logs:{self.region}:{self.account}:log-group:{group}"


def _logs(arns: Arns, function: str) -> Grant:
    group = arns.log_group(function)
    return Grant(
        "WriteOwnLogs",
        ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"),
        (group, f"{group}:*"),
    )


def _publish(arns: Arns) -> Grant:
    return Grant("PublishOnOurBus", ("events:PutEvents",), (arns.bus,))


def _consume(arns: Arns, reader: Consumer) -> Grant:
    # Lambda's poller receives and deletes with the function's role; the
    # handler itself deletes the messages of a batch that did succeed.
    queue = arns.names.consumer_queues[reader.subscription]
    return Grant(
        "ConsumeOwnQueue",
        (
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:GetQueueUrl",
        ),
        (arns.queue(queue),),
    )


def _api_handler(arns: Arns) -> list[Grant]:
    return [
        Grant(
            "FileIndex",
            (
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
                "dynamodb:Query",
            ),
            (arns.table,),
        ),
        Grant("ListByIndex", ("dynamodb:Query",), (arns.indexes,)),
        # Presigned POSTs and GETs: S3 checks them against this role.
        Grant(
            "PresignUploadsAndDownloads",
            ("s3:PutObject", "s3:GetObject"),
            (arns.objects,),
        ),
        _publish(arns),
    ]


def _s3_handler(arns: Arns) -> list[Grant]:
    return [
        Grant(
            "FileIndex",
            (
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
            ),
            (arns.table,),
        ),
        Grant(
            "ReadAndRemoveObjects", ("s3:GetObject", "s3:DeleteObject"), (arns.objects,)
        ),
        Grant("TellMissingFromForbidden", ("s3:ListBucket",), (arns.bucket,)),
        _publish(arns),
    ]


def _delete_consumer(arns: Arns, reader: Consumer) -> list[Grant]:
    return [
        # The claim puts the record back with its events in its outbox (an
        # outbox an earlier change left is cleared once published), and
        # removing a record also takes its file off its owner's usage item.
        Grant(
            "FileIndex",
            (
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
            ),
            (arns.table,),
        ),
        Grant("RemoveObjects", ("s3:DeleteObject",), (arns.objects,)),
        _publish(arns),
        _consume(arns, reader),
    ]


def _change_feed(arns: Arns, reader: Consumer) -> list[Grant]:
    return [
        Grant(
            "ChangeLog",
            ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"),
            (arns.table,),
        ),
        _consume(arns, reader),
    ]


def _sweeper(arns: Arns) -> list[Grant]:
    # Settling an upload runs the S3 handler's rules, so it needs their calls.
    return [
        Grant(
            "FileIndex",
            (
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
            ),
            (arns.table,),
        ),
        Grant(
            "ReadRecordsNeedingAttention", ("dynamodb:Query",), (arns.attention_index,)
        ),
        Grant(
            "ReadAndRemoveObjects", ("s3:GetObject", "s3:DeleteObject"), (arns.objects,)
        ),
        Grant("TellMissingFromForbidden", ("s3:ListBucket",), (arns.bucket,)),
        _publish(arns),
    ]


def _object_deleted_handler(arns: Arns) -> list[Grant]:
    return [
        Grant(
            "FileIndex",
            ("dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"),
            (arns.table,),
        ),
        Grant("LookForTheObject", ("s3:GetObject",), (arns.objects,)),
        Grant("TellMissingFromForbidden", ("s3:ListBucket",), (arns.bucket,)),
        _publish(arns),
    ]


_CONSUMER_GRANTS: dict[str, Callable[[Arns, Consumer], list[Grant]]] = {
    "delete-file": _delete_consumer,
    "change-feed": _change_feed,
}


def _park_failures(arns: Arns, handler: AsyncHandler) -> Grant:
    # Lambda sends an event that failed every try to the on-failure
    # destination with the function's role.
    return Grant(
        "ParkFailedEvents",
        ("sqs:SendMessage",),
        (arns.queue(handler.failures_queue(arns.names)),),
    )


def grants(function: str, arns: Arns) -> list[Grant]:
    """Every grant of `function`'s policy."""
    consumers = {c.handler: c for c in CONSUMERS}
    if function == API_HANDLER:
        own = _api_handler(arns)
    elif function == S3_HANDLER:
        own = _s3_handler(arns)
    elif function == SWEEPER:
        own = _sweeper(arns)
    elif function == OBJECT_DELETED_HANDLER:
        own = _object_deleted_handler(arns)
    elif function in consumers:
        reader = consumers[function]
        own = _CONSUMER_GRANTS[reader.subscription](arns, reader)
    else:
        raise ValueError(f"no policy is written for function {function!r}")
    parked = [_park_failures(arns, h) for h in ASYNC_HANDLERS if h.handler == function]
    return [*own, *parked, _logs(arns, function)]


def policy_document(function: str, arns: Arns) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": grant.sid,
                "Effect": "Allow",
                "Action": list(grant.actions),
                "Resource": list(grant.resources),
            }
            for grant in grants(function, arns)
        ],
    }


def policy_documents(arns: Arns) -> dict[str, dict[str, Any]]:
    return {function: policy_document(function, arns) for function in FUNCTIONS}
