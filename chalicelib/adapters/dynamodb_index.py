"""The file index on DynamoDB (see `table_schema` for the item layout)."""

from __future__ import annotations

import functools
import hashlib
import logging
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.adapters.dynamodb_items import from_item, to_item, translated
from chalicelib.adapters.table_schema import (
    ATTENTION_SHARDS,
    BY_FOLDER_INDEX,
    BY_NAME_INDEX,
    BY_TRASH_INDEX,
    NEEDS_ATTENTION_INDEX,
)
from chalicelib.domain import (
    FileRecord,
    FileStatus,
    Quota,
    Usage,
    claims_name,
    folder_deltas,
    releases_name,
    usage_delta,
    usage_of,
    utc_now,
)
from chalicelib.errors import (
    ConcurrentUpdateError,
    DependencyUnavailableError,
    IdempotencyKeyTaken,
    NameConflictError,
    QuotaExceededError,
)
from chalicelib.names import parent_folder
from chalicelib.ports import FolderMark, IdempotencyClaim, ListingPage

logger = logging.getLogger(__name__)

# The attributes that place an item in the sparse listing indexes.
_LISTING_ATTRS = ("list_pk", "list_sk", "folder_pk", "folder_sk")
_KEY_ATTRS = ("pk", "sk")
# One user's writes may race on their usage or folder items; DynamoDB then
# cancels all but one transaction, and trying again soon succeeds.
_CONFLICT_ATTEMPTS = 4
_USAGE_SK = "USAGE"


def _user_pk(owner: str) -> str:
    return f"USER#{owner}"


def _file_sk(file_id: str) -> str:
    return f"FILE#{file_id}"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# A sort key holds at most 1,024 bytes, as a name may: claims and folder
# entries are keyed by the name's digest, and keep the name as an attribute.
def _name_sk(name: str) -> str:
    return f"NAME#{_digest(name)}"


def _folder_sk(folder: str) -> str:
    return f"FOLDER#{_digest(folder)}"


def _idempotency_sk(key: str) -> str:
    return f"IDEMPOTENCY#{_digest(key)}"


def _folder_pk(owner: str, folder: str) -> str:
    return f"{owner}#{folder}"


def _attention_pk(status: FileStatus, shard: int) -> str:
    return f"{status.value}#{shard}"


def _attention_shard(file_id: str) -> int:
    return int(_digest(file_id)[:8], 16) % ATTENTION_SHARDS


def _folder_check_pk(shard: int) -> str:
    return f"FOLDER_CHECK#{shard}"


def _sortable_time(moment: datetime) -> str:
    # One fixed width and zone, so that string order is time order.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _record_values(record: FileRecord) -> dict[str, Any]:
    values: dict[str, Any] = {
        "pk": _user_pk(record.owner),
        "sk": _file_sk(record.file_id),
        "owner": record.owner,
        "file_id": record.file_id,
        "name": record.name,
        "size": record.size,
        "content_type": record.content_type,
        "status": record.status.value,
        "created_at": record.created_at.isoformat(),
        "sequence": record.sequence,
        "uploaded_at": record.uploaded_at.isoformat() if record.uploaded_at else None,
        "etag": record.etag,
        "sha256": record.sha256,
        "sha256_verified": record.sha256_verified,
        "rejected_reason": record.rejected_reason,
        "status_since": (
            record.status_since.isoformat() if record.status_since else None
        ),
        "outbox": list(record.outbox) or None,
        # Written only when False, so records from before the flag read True.
        "name_claimed": None if record.name_claimed else False,
    }
    if record.needs_attention:
        # Written with the status itself, so the sweep's index never lags it.
        values |= {
            "attention_pk": _attention_pk(
                record.status, _attention_shard(record.file_id)
            ),
            "attention_sk": (
                f"{_sortable_time(record.in_status_since)}#{record.file_id}"
            ),
        }
    if record.status is FileStatus.TRASHED:
        values |= {
            "trash_pk": record.owner,
            "trash_sk": f"{_sortable_time(record.in_status_since)}#{record.file_id}",
        }
    if record.status is FileStatus.AVAILABLE:
        values |= {
            "list_pk": record.owner,
            "list_sk": record.name,
            "folder_pk": _folder_pk(record.owner, parent_folder(record.name)),
            "folder_sk": record.name,
        }
    return values


def _parse_time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _record_of(values: dict[str, Any]) -> FileRecord:
    return FileRecord(
        owner=values["owner"],
        file_id=values["file_id"],
        name=values["name"],
        size=int(values["size"]),
        content_type=values["content_type"],
        status=FileStatus(values["status"]),
        created_at=datetime.fromisoformat(values["created_at"]),
        sequence=int(values["sequence"]),
        uploaded_at=_parse_time(values.get("uploaded_at")),
        etag=values.get("etag"),
        sha256=values.get("sha256"),
        sha256_verified=bool(values.get("sha256_verified", False)),
        rejected_reason=values.get("rejected_reason"),
        status_since=_parse_time(values.get("status_since")),
        outbox=tuple(values.get("outbox") or ()),
        name_claimed=bool(values.get("name_claimed", True)),
    )


def _name_taken(
    after: FileRecord, claim_at: int, codes: list[str | None]
) -> Exception | None:
    """A `NameConflictError` when only the claim of the new name failed.

    A record that changed meanwhile (its own condition failed too) is told
    as such: the caller's view of it is stale, whatever the name.
    """
    if codes[0] == "ConditionalCheckFailed":
        return None
    if codes[claim_at : claim_at + 1] != ["ConditionalCheckFailed"]:
        return None
    return NameConflictError(
        f"a file named {after.name!r} already exists", details={"name": after.name}
    )


@contextmanager
def _dynamodb_errors(action: str) -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        raise translated(exc, action) from exc
    except BotoCoreError as exc:
        # Connection failures and timeouts are no ClientError.
        raise DependencyUnavailableError(f"{action}: the index is unreachable") from exc


class DynamoDBFileIndex:
    def __init__(
        self,
        client_factory: Callable[[], Any],
        table: str,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._client_factory = client_factory
        self._table = table
        self._clock = clock

    @property
    def _client(self) -> Any:
        return self._client_factory()

    def create(
        self,
        record: FileRecord,
        quota: Quota,
        claim: IdempotencyClaim | None = None,
    ) -> None:
        if not quota.admits(Usage(), usage_of(record)):
            # Too large for any user of this quota; the condition below only
            # compares with what is stored, which a fresh user has none of.
            raise QuotaExceededError.for_request(
                self.usage(record.owner), quota, record.size
            )
        actions = [
            self._put(self._name_claim(record), "attribute_not_exists(pk)"),
            self._put(_record_values(record), "attribute_not_exists(pk)"),
            self._count_usage(record.owner, usage_of(record), quota),
        ]
        if claim is not None:
            actions.append(self._claim_key(record, claim))
        try:
            self._transact_with_retries(actions)
        except self._client.exceptions.TransactionCanceledException as exc:
            codes = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            self._explain_refused_create(record, quota, claim, codes, exc)
        except ClientError as exc:
            raise translated(exc, "create file record") from exc
        except BotoCoreError as exc:
            raise DependencyUnavailableError("could not store the file record") from exc

    def _explain_refused_create(
        self,
        record: FileRecord,
        quota: Quota,
        claim: IdempotencyClaim | None,
        codes: list[str | None],
        exc: Exception,
    ) -> None:
        failed = [i for i, code in enumerate(codes) if code == "ConditionalCheckFailed"]
        # A repeated request collides on its key and on its own name: the key
        # tells the caller more, so it is checked first.
        if claim is not None and 3 in failed:
            earlier = self._claimed_file(record.owner, claim.key)
            if earlier is not None:
                raise IdempotencyKeyTaken(*earlier) from exc
        if 0 in failed:
            raise NameConflictError(
                f"a file named {record.name!r} already exists",
                details={"name": record.name},
            ) from exc
        if 2 in failed:
            raise QuotaExceededError.for_request(
                self.usage(record.owner), quota, record.size
            ) from exc
        raise DependencyUnavailableError(
            f"could not store the file record: cancelled {codes}"
        ) from exc

    def _claimed_file(self, owner: str, key: str) -> tuple[str, str] | None:
        with _dynamodb_errors("read idempotency key"):
            answer = self._client.get_item(
                TableName=self._table,
                Key=to_item({"pk": _user_pk(owner), "sk": _idempotency_sk(key)}),
                ConsistentRead=True,
            )
        item = answer.get("Item")
        if not item:
            return None
        values = from_item(item)
        return values["file_id"], values["fingerprint"]

    def usage(self, owner: str) -> Usage:
        with _dynamodb_errors("read usage"):
            answer = self._client.get_item(
                TableName=self._table,
                Key=to_item({"pk": _user_pk(owner), "sk": _USAGE_SK}),
                ConsistentRead=True,
            )
        values = from_item(answer["Item"]) if answer.get("Item") else {}
        return Usage(
            files=int(values.get("files", 0)), bytes=int(values.get("bytes", 0))
        )

    def get(self, owner: str, file_id: str) -> FileRecord | None:
        with _dynamodb_errors("read file record"):
            answer = self._client.get_item(
                TableName=self._table,
                Key=to_item({"pk": _user_pk(owner), "sk": _file_sk(file_id)}),
                ConsistentRead=True,
            )
        item = answer.get("Item")
        return _record_of(from_item(item)) if item else None

    def transition(self, before: FileRecord, after: FileRecord) -> None:
        actions = [self._replace_record(before, after)]
        if releases_name(before, after):
            actions.append(self._release_name(before))
        refused = None
        if claims_name(before, after):
            refused = functools.partial(_name_taken, after, len(actions))
            actions.append(
                self._put(self._name_claim(after), "attribute_not_exists(pk)")
            )
        change = usage_delta(before, after)
        if change != Usage():
            actions.append(self._count_usage(after.owner, change))
        deltas = folder_deltas(before, after)
        actions += [self._count_folder(after.owner, f, d) for f, d in deltas.items()]
        self._transact(actions, f"update file {after.file_id}", refused)
        self._drop_empty_folders(after.owner, deltas)

    def clear_outbox(self, record: FileRecord) -> None:
        try:
            with _dynamodb_errors("clear outbox"):
                self._client.update_item(
                    TableName=self._table,
                    Key=to_item(
                        {"pk": _user_pk(record.owner), "sk": _file_sk(record.file_id)}
                    ),
                    UpdateExpression="REMOVE outbox",
                    ConditionExpression="#seq = :seq",
                    ExpressionAttributeNames={"#seq": "sequence"},
                    ExpressionAttributeValues=to_item({":seq": record.sequence}),
                )
        except ConcurrentUpdateError:
            # A later change replaced the record and its outbox already.
            logger.debug("outbox of %s already replaced", record.file_id)

    def remove(self, record: FileRecord) -> None:
        key = {"pk": _user_pk(record.owner), "sk": _file_sk(record.file_id)}
        actions: list[dict[str, Any]] = [
            {
                "Delete": {
                    "TableName": self._table,
                    "Key": to_item(key),
                    "ConditionExpression": "#seq = :seq",
                    "ExpressionAttributeNames": {"#seq": "sequence"},
                    "ExpressionAttributeValues": to_item({":seq": record.sequence}),
                }
            }
        ]
        if record.holds_name:
            actions.append(self._release_name(record))
        if record.counts_toward_quota:
            actions.append(self._count_usage(record.owner, usage_delta(record, None)))
        deltas = folder_deltas(record, None)
        actions += [self._count_folder(record.owner, f, d) for f, d in deltas.items()]
        self._transact(actions, f"remove file {record.file_id}")
        self._drop_empty_folders(record.owner, deltas)

    def list_page(
        self,
        owner: str,
        prefix: str,
        delimiter: str | None,
        limit: int,
        start: dict[str, str] | None,
    ) -> ListingPage:
        if delimiter:
            index, pk_attr, sk_attr = BY_FOLDER_INDEX, "folder_pk", "folder_sk"
            # The folder being listed is the prefix up to its last '/'.
            partition = _folder_pk(owner, prefix[: prefix.rfind("/") + 1])
        else:
            index, pk_attr, sk_attr = BY_NAME_INDEX, "list_pk", "list_sk"
            partition = owner
        condition = "#pk = :pk"
        names = {"#pk": pk_attr}
        values: dict[str, Any] = {":pk": partition}
        if prefix:
            condition += " AND begins_with(#sk, :prefix)"
            names["#sk"] = sk_attr
            values[":prefix"] = prefix
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": to_item(values),
            # One item more than the page tells whether another page follows.
            "Limit": limit + 1,
        }
        if start:
            request["ExclusiveStartKey"] = to_item(start)
        with _dynamodb_errors("list files"):
            answer = self._client.query(**request)
        rows = [from_item(item) for item in answer.get("Items", [])]
        page, more = rows[:limit], len(rows) > limit
        files = [_record_of(row) for row in page if row["sk"].startswith("FILE#")]
        folders = [row["name"] for row in page if row["sk"].startswith("FOLDER#")]
        next_position = None
        if (more or "LastEvaluatedKey" in answer) and page:
            last = page[-1]
            next_position = {k: last[k] for k in (*_KEY_ATTRS, pk_attr, sk_attr)}
        return ListingPage(files=files, folders=folders, next_position=next_position)

    def trash_page(
        self, owner: str, limit: int, start: dict[str, str] | None
    ) -> ListingPage:
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": BY_TRASH_INDEX,
            "KeyConditionExpression": "trash_pk = :owner",
            "ExpressionAttributeValues": to_item({":owner": owner}),
            # Most recently trashed first, as file managers show their trash.
            "ScanIndexForward": False,
            "Limit": limit + 1,
        }
        if start:
            request["ExclusiveStartKey"] = to_item(start)
        with _dynamodb_errors("list the trash"):
            answer = self._client.query(**request)
        rows = [from_item(item) for item in answer.get("Items", [])]
        page, more = rows[:limit], len(rows) > limit
        next_position = None
        if (more or "LastEvaluatedKey" in answer) and page:
            last = page[-1]
            next_position = {k: last[k] for k in (*_KEY_ATTRS, "trash_pk", "trash_sk")}
        return ListingPage(
            files=[_record_of(row) for row in page],
            folders=[],
            next_position=next_position,
        )

    def needing_attention(
        self, status: FileStatus, since_before: datetime, limit: int
    ) -> list[FileRecord]:
        found: list[FileRecord] = []
        for shard in range(ATTENTION_SHARDS):
            found += self._attention_shard(status, shard, since_before, limit)
        found.sort(key=lambda record: record.in_status_since)
        return found[:limit]

    def _attention_shard(
        self, status: FileStatus, shard: int, since_before: datetime, limit: int
    ) -> list[FileRecord]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": NEEDS_ATTENTION_INDEX,
            "KeyConditionExpression": "attention_pk = :pk AND attention_sk < :before",
            "ExpressionAttributeValues": to_item(
                {
                    ":pk": _attention_pk(status, shard),
                    ":before": _sortable_time(since_before),
                }
            ),
        }
        found: list[FileRecord] = []
        while len(found) < limit:
            request["Limit"] = limit - len(found)
            with _dynamodb_errors("read records needing attention"):
                answer = self._client.query(**request)
            found += [_record_of(from_item(item)) for item in answer["Items"]]
            if "LastEvaluatedKey" not in answer:
                break
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
        return found

    def folders_to_check(self, since_before: datetime, limit: int) -> list[FolderMark]:
        marks: list[FolderMark] = []
        for shard in range(ATTENTION_SHARDS):
            request: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": NEEDS_ATTENTION_INDEX,
                "KeyConditionExpression": (
                    "attention_pk = :pk AND attention_sk < :before"
                ),
                "ExpressionAttributeValues": to_item(
                    {
                        ":pk": _folder_check_pk(shard),
                        ":before": _sortable_time(since_before),
                    }
                ),
                "Limit": limit,
            }
            with _dynamodb_errors("read folders to check"):
                answer = self._client.query(**request)
            for item in answer["Items"]:
                values = from_item(item)
                marks.append(
                    FolderMark(
                        owner=values["pk"].removeprefix("USER#"),
                        folder=values["name"],
                        file_count=int(values["file_count"]),
                        mark=values["attention_sk"],
                    )
                )
        marks.sort(key=lambda found: found.mark)
        return marks[:limit]

    def settle_folder(self, mark: FolderMark) -> bool:
        key = to_item({"pk": _user_pk(mark.owner), "sk": _folder_sk(mark.folder)})
        zero = to_item({":zero": 0})
        try:
            with _dynamodb_errors("drop empty folder"):
                self._client.delete_item(
                    TableName=self._table,
                    Key=key,
                    ConditionExpression="file_count <= :zero",
                    ExpressionAttributeValues=zero,
                )
            return True
        except ConcurrentUpdateError:
            pass  # not empty: the mark alone goes
        try:
            with _dynamodb_errors("unmark folder"):
                self._client.update_item(
                    TableName=self._table,
                    Key=key,
                    UpdateExpression="REMOVE attention_pk, attention_sk",
                    # A newer mark is the next sweep's to judge.
                    ConditionExpression="attention_sk = :mark AND file_count > :zero",
                    ExpressionAttributeValues=zero | to_item({":mark": mark.mark}),
                )
        except ConcurrentUpdateError:
            logger.debug("folder %s changed while checked", mark.folder)
        return False

    # --- building blocks -------------------------------------------------

    def _put(self, values: dict[str, Any], condition: str) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self._table,
                "Item": to_item(values),
                "ConditionExpression": condition,
            }
        }

    @staticmethod
    def _name_claim(record: FileRecord) -> dict[str, Any]:
        return {
            "pk": _user_pk(record.owner),
            "sk": _name_sk(record.name),
            "file_id": record.file_id,
            "name": record.name,
        }

    def _replace_record(self, before: FileRecord, after: FileRecord) -> dict[str, Any]:
        # A Put of the whole item (rather than an update) also drops listing
        # attributes the new status must not carry.
        return {
            "Put": {
                "TableName": self._table,
                "Item": to_item(_record_values(after)),
                "ConditionExpression": "#status = :status AND #seq = :seq",
                "ExpressionAttributeNames": {"#status": "status", "#seq": "sequence"},
                "ExpressionAttributeValues": to_item(
                    {":status": before.status.value, ":seq": before.sequence}
                ),
            }
        }

    def _release_name(self, record: FileRecord) -> dict[str, Any]:
        return {
            "Delete": {
                "TableName": self._table,
                "Key": to_item(
                    {"pk": _user_pk(record.owner), "sk": _name_sk(record.name)}
                ),
                "ConditionExpression": "file_id = :file_id",
                "ExpressionAttributeValues": to_item({":file_id": record.file_id}),
            }
        }

    def _count_usage(
        self, owner: str, delta: Usage, quota: Quota | None = None
    ) -> dict[str, Any]:
        update: dict[str, Any] = {
            "TableName": self._table,
            "Key": to_item({"pk": _user_pk(owner), "sk": _USAGE_SK}),
            "UpdateExpression": "ADD files :files, #bytes :bytes",
            "ExpressionAttributeNames": {"#bytes": "bytes"},
            "ExpressionAttributeValues": {
                ":files": {"N": str(delta.files)},
                ":bytes": {"N": str(delta.bytes)},
            },
        }
        if quota is not None:
            # The most the user may store before this change and still fit.
            update["ConditionExpression"] = (
                "(attribute_not_exists(files) OR files <= :files_room) "
                "AND (attribute_not_exists(#bytes) OR #bytes <= :bytes_room)"
            )
            update["ExpressionAttributeValues"] |= {
                ":files_room": {"N": str(quota.max_files - delta.files)},
                ":bytes_room": {"N": str(quota.max_bytes - delta.bytes)},
            }
        return {"Update": update}

    def _claim_key(self, record: FileRecord, claim: IdempotencyClaim) -> dict[str, Any]:
        # An expired claim may linger until DynamoDB's TTL removes it; it no
        # longer binds the key.
        return {
            "Put": {
                "TableName": self._table,
                "Item": to_item(
                    {
                        "pk": _user_pk(record.owner),
                        "sk": _idempotency_sk(claim.key),
                        "file_id": record.file_id,
                        "fingerprint": claim.fingerprint,
                        "expires_at": int(claim.expires_at.timestamp()),
                    }
                ),
                "ConditionExpression": "attribute_not_exists(pk) OR expires_at < :now",
                "ExpressionAttributeValues": {
                    ":now": {"N": str(int(record.created_at.timestamp()))}
                },
            }
        }

    def _count_folder(self, owner: str, folder: str, delta: int) -> dict[str, Any]:
        # SET rewrites the listing keys on every count, so an entry dropped as
        # empty a moment ago comes back whole when a file arrives.
        expression = (
            "ADD file_count :delta SET #name = :name, folder_pk = :fpk, "
            "folder_sk = :name"
        )
        values: dict[str, Any] = {
            ":delta": delta,
            ":name": folder,
            ":fpk": _folder_pk(owner, parent_folder(folder)),
        }
        if delta < 0:
            # A count going down may reach zero, and the entry is dropped only
            # after this write: the mark lets the sweep finish the job if the
            # drop never happens.
            expression += ", attention_pk = :check_pk, attention_sk = :check_sk"
            digest = _digest(folder)
            values |= {
                ":check_pk": _folder_check_pk(int(digest[:8], 16) % ATTENTION_SHARDS),
                ":check_sk": f"{_sortable_time(self._clock())}#{owner}#{digest}",
            }
        return {
            "Update": {
                "TableName": self._table,
                "Key": to_item({"pk": _user_pk(owner), "sk": _folder_sk(folder)}),
                "UpdateExpression": expression,
                "ExpressionAttributeNames": {"#name": "name"},
                "ExpressionAttributeValues": to_item(values),
            }
        }

    def _transact_with_retries(self, actions: list[dict[str, Any]]) -> None:
        for attempt in range(1, _CONFLICT_ATTEMPTS + 1):
            try:
                # botocore sends a timed-out call again as is; the token makes
                # that resend a no-op rather than a write that fails its own
                # conditions. Each attempt of ours is a new write.
                self._client.transact_write_items(
                    TransactItems=actions, ClientRequestToken=uuid.uuid4().hex
                )
                return
            except self._client.exceptions.TransactionCanceledException as exc:
                reasons = exc.response.get("CancellationReasons", [])
                codes = {r.get("Code") for r in reasons} - {None, "None"}
                if codes != {"TransactionConflict"} or attempt == _CONFLICT_ATTEMPTS:
                    raise
                # Jitter only spreads retries apart; it guards no secret.
                time.sleep(random.uniform(0, 0.05 * 2**attempt))  # noqa: S311

    def _transact(
        self,
        actions: list[dict[str, Any]],
        action: str,
        refused: Callable[[list[str | None]], Exception | None] | None = None,
    ) -> None:
        """Write all actions or none; `refused` may name a failed condition."""
        try:
            self._transact_with_retries(actions)
        except self._client.exceptions.TransactionCanceledException as exc:
            codes = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if refused is not None:
                refusal = refused(codes)
                if refusal is not None:
                    raise refusal from exc
            if "ConditionalCheckFailed" in codes:
                raise ConcurrentUpdateError(f"{action}: the record changed") from exc
            raise DependencyUnavailableError(f"{action}: cancelled {codes}") from exc
        except ClientError as exc:
            raise translated(exc, action) from exc
        except BotoCoreError as exc:
            raise DependencyUnavailableError(
                f"{action}: the index is unreachable"
            ) from exc

    def _drop_empty_folders(self, owner: str, deltas: Counter[str]) -> None:
        """Delete folder entries whose count fell to zero.

        This runs after the transaction that lowered the count; a crash in
        between leaves the entry marked, and the sweep drops it.
        """
        for folder in (f for f, d in deltas.items() if d < 0):
            try:
                self._client.delete_item(
                    TableName=self._table,
                    Key=to_item({"pk": _user_pk(owner), "sk": _folder_sk(folder)}),
                    ConditionExpression="file_count <= :zero",
                    ExpressionAttributeValues=to_item({":zero": 0}),
                )
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    logger.warning(
                        "could not drop an empty folder",
                        extra={"folder": folder, "error": str(exc)},
                    )
            except BotoCoreError as exc:
                logger.warning(
                    "could not drop an empty folder",
                    extra={"folder": folder, "error": str(exc)},
                )
