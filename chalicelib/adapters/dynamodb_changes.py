"""Each user's change feed, in the index table.

A user's feed is one partition: a head item holding the latest position,
and one item per change keyed by its zero-padded position. A change is
appended in one transaction that moves the head from n to n + 1, writes
change n + 1, writes a marker for the event's id and raises the file's
latest recorded sequence. So positions have no gaps and are never reused,
a reader never skips a change still being written, the same event recorded
twice (a redelivery, a replay) is refused by its marker, and a change that
arrives after a later one of the same file (queues keep no order) is left
out: a client that applies the feed in order never steps back in a file's
history, such as a file created again after its deletion.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.adapters.dynamodb_items import from_item, to_item, translated
from chalicelib.errors import ConcurrentUpdateError, DependencyUnavailableError
from chalicelib.ports import Change, ChangesPage

logger = logging.getLogger(__name__)

# Changes and their markers expire after this long (DynamoDB's TTL).
RETENTION_SECONDS = 30 * 24 * 3600
_HEAD = "HEAD"
_POSITION_WIDTH = 20
# Appends to one user's feed are serialised by the head item; a few quick
# retries absorb the odd collision before the message itself is retried.
_APPEND_ATTEMPTS = 5


def _feed_pk(owner: str) -> str:
    return f"CHANGES#{owner}"


def _change_sk(position: int) -> str:
    return f"CHANGE#{position:0{_POSITION_WIDTH}d}"


def _marker_sk(event_id: str) -> str:
    return f"EVENT#{event_id}"


def _latest_sk(file_id: str) -> str:
    return f"LATEST#{file_id}"


# The items of an append, in the order of their cancellation reasons.
_MARKER, _HEAD_ITEM, _CHANGE, _FILE = range(4)


def _change_of(values: dict[str, Any]) -> Change:
    return Change(
        owner=values["owner"],
        kind=values["kind"],
        file_id=values["file_id"],
        name=values["name"],
        time=datetime.fromisoformat(values["time"]),
        sequence=int(values["sequence"]),
        event_id=values["event_id"],
        position=int(values["position"]),
        previous_name=values.get("previous_name"),
    )


_CHECK_FAILED = "ConditionalCheckFailed"


def _log_left_out(change: Change, duplicate: bool) -> None:
    logger.info(
        "change already recorded" if duplicate else "change older than the feed's",
        extra={
            "event_id": change.event_id,
            "file_id": change.file_id,
            "sequence": change.sequence,
        },
    )


class DynamoDBChangeLog:
    def __init__(
        self,
        client_factory: Callable[[], Any],
        table: str,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._client_factory = client_factory
        self._table = table
        self._now = now

    @property
    def _client(self) -> Any:
        return self._client_factory()

    def head(self, owner: str) -> int:
        try:
            answer = self._client.get_item(
                TableName=self._table,
                Key=to_item({"pk": _feed_pk(owner), "sk": _HEAD}),
                ConsistentRead=True,
            )
        except (ClientError, BotoCoreError) as exc:
            raise DependencyUnavailableError("could not read the change feed") from exc
        item = answer.get("Item")
        return int(from_item(item)["position"]) if item else 0

    def record(self, change: Change) -> bool:
        for _ in range(_APPEND_ATTEMPTS):
            head = self.head(change.owner)
            try:
                self._append(change, head)
                return True
            except self._client.exceptions.TransactionCanceledException as exc:
                reasons = exc.response.get("CancellationReasons", [])
                failed = {
                    i for i, r in enumerate(reasons) if r.get("Code") == _CHECK_FAILED
                }
                if failed & {_MARKER, _FILE}:
                    _log_left_out(change, _MARKER in failed)
                    return False
                if _HEAD_ITEM not in failed:
                    codes = [r.get("Code") for r in reasons]
                    raise DependencyUnavailableError(
                        f"could not append to the change feed: {codes}"
                    ) from exc
            except ClientError as exc:
                raise translated(exc, "append to the change feed") from exc
            except BotoCoreError as exc:
                raise DependencyUnavailableError(
                    "the change feed is unreachable"
                ) from exc
            logger.debug("feed head moved, retrying", extra={"owner": change.owner})
        raise ConcurrentUpdateError("the change feed is busy; the event will retry")

    def _append(self, change: Change, head: int) -> None:
        pk = _feed_pk(change.owner)
        position = head + 1
        expires_at = int(self._now()) + RETENTION_SECONDS
        head_condition = (
            "#position = :head" if head else "attribute_not_exists(#position)"
        )
        head_values = {":next": position} | ({":head": head} if head else {})
        self._client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": to_item(
                            {
                                "pk": pk,
                                "sk": _marker_sk(change.event_id),
                                "position": position,
                                "expires_at": expires_at,
                            }
                        ),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": to_item({"pk": pk, "sk": _HEAD}),
                        "UpdateExpression": "SET #position = :next",
                        "ConditionExpression": head_condition,
                        "ExpressionAttributeNames": {"#position": "position"},
                        "ExpressionAttributeValues": to_item(head_values),
                    }
                },
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": to_item(
                            {
                                "pk": pk,
                                "sk": _change_sk(position),
                                "owner": change.owner,
                                "kind": change.kind,
                                "file_id": change.file_id,
                                "name": change.name,
                                "time": change.time.isoformat(),
                                "sequence": change.sequence,
                                "event_id": change.event_id,
                                "position": position,
                                "expires_at": expires_at,
                                "previous_name": change.previous_name,
                            }
                        ),
                    }
                },
                {
                    # Never below a sequence already recorded for the file.
                    "Update": {
                        "TableName": self._table,
                        "Key": to_item({"pk": pk, "sk": _latest_sk(change.file_id)}),
                        "UpdateExpression": "SET #seq = :seq, expires_at = :exp",
                        "ConditionExpression": (
                            "attribute_not_exists(#seq) OR #seq <= :seq"
                        ),
                        "ExpressionAttributeNames": {"#seq": "sequence"},
                        "ExpressionAttributeValues": to_item(
                            {":seq": change.sequence, ":exp": expires_at}
                        ),
                    }
                },
            ]
        )

    def read(self, owner: str, after: int, limit: int) -> ChangesPage:
        try:
            answer = self._client.query(
                TableName=self._table,
                KeyConditionExpression="pk = :pk AND sk BETWEEN :first AND :last",
                ExpressionAttributeValues=to_item(
                    {
                        ":pk": _feed_pk(owner),
                        ":first": _change_sk(after + 1),
                        ":last": _change_sk(10**_POSITION_WIDTH - 1),
                    }
                ),
                ConsistentRead=True,
                # One more than the page says whether more follow.
                Limit=limit + 1,
            )
        except (ClientError, BotoCoreError) as exc:
            raise DependencyUnavailableError("could not read the change feed") from exc
        rows = [_change_of(from_item(item)) for item in answer.get("Items", [])]
        page = rows[:limit]
        return ChangesPage(
            changes=page,
            position=page[-1].position if page else after,
            has_more=len(rows) > limit or ("LastEvaluatedKey" in answer and bool(page)),
        )
