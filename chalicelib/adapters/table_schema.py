"""The index table's shape, as plain data.

One definition serves every place that creates the table: the local stack,
the tests and the infrastructure template. Items of one user share a
partition:

- `FILE#<file_id>`: the file record;
- `NAME#<name>`: the claim that keeps a name unique among live files;
- `FOLDER#<folder>/`: a folder entry, counting the available files below it.

Two sparse indexes serve listing. Only available files (and folders that hold
any) carry their attributes, so a page never reads a hidden record:
`by_name` lists every file of a user in name order, `by_folder` one folder's
files and immediate sub-folders.

A third sparse index, `needs_attention`, holds only records in a passing
status (`PENDING`, `DELETING`, `TRASHED`), keyed by status and shard and
sorted by when they took it, so the housekeeping sweep reads the stuck ones
(and the trashed ones past their retention) oldest first without a scan.
The shard (from the file id) spreads uploads being created
over several partitions of the index. The same index holds folder entries
whose count went down (`FOLDER_CHECK#<shard>`), so the sweep can drop one
left empty by a crash.

A fourth, `by_trash`, holds only trashed files, one partition per user
sorted by when they were trashed, for `GET /trash`.

Two more kinds of item sit in a user's partition: `USAGE`, the files and
bytes the user's quota counts, and `IDEMPOTENCY#<digest of key>`, which ties
a create's Idempotency-Key to its file until `expires_at` (DynamoDB's TTL).
"""

from __future__ import annotations

from typing import Any

BY_NAME_INDEX = "by_name"
BY_FOLDER_INDEX = "by_folder"
BY_TRASH_INDEX = "by_trash"
NEEDS_ATTENTION_INDEX = "needs_attention"
ATTENTION_SHARDS = 4


def table_definition(table_name: str) -> dict[str, Any]:
    """Keyword arguments for DynamoDB's CreateTable."""
    string_keys = (
        "pk",
        "sk",
        "list_pk",
        "list_sk",
        "folder_pk",
        "folder_sk",
        "attention_pk",
        "attention_sk",
        "trash_pk",
        "trash_sk",
    )
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": key, "AttributeType": "S"} for key in string_keys
        ],
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": BY_NAME_INDEX,
                "KeySchema": [
                    {"AttributeName": "list_pk", "KeyType": "HASH"},
                    {"AttributeName": "list_sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
            {
                "IndexName": BY_FOLDER_INDEX,
                "KeySchema": [
                    {"AttributeName": "folder_pk", "KeyType": "HASH"},
                    {"AttributeName": "folder_sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
            {
                "IndexName": NEEDS_ATTENTION_INDEX,
                "KeySchema": [
                    {"AttributeName": "attention_pk", "KeyType": "HASH"},
                    {"AttributeName": "attention_sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
            {
                "IndexName": BY_TRASH_INDEX,
                "KeySchema": [
                    {"AttributeName": "trash_pk", "KeyType": "HASH"},
                    {"AttributeName": "trash_sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
        ],
    }
