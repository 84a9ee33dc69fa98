"""Plain values to DynamoDB's typed items and back, and its errors to ours."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from chalicelib.errors import (
    ConcurrentUpdateError,
    DependencyUnavailableError,
    FileManagerError,
)

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

_BUSY = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
    }
)


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB item of the values; None values are left out."""
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def translated(exc: ClientError, action: str) -> FileManagerError:
    """Our error for what DynamoDB said, decided by code, never by message."""
    code = exc.response["Error"]["Code"]
    if code == "ConditionalCheckFailedException":
        return ConcurrentUpdateError(f"{action}: the record changed meanwhile")
    if code in _BUSY:
        return DependencyUnavailableError(f"{action}: the index is busy")
    return DependencyUnavailableError(f"{action}: the index failed ({code})")
