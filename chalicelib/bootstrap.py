"""Wires the services to their adapters, once per process and only when used.

A route that needs only the index never builds an S3 client: each adapter
asks for its client at its first call.
"""

from __future__ import annotations

import functools
from datetime import timedelta

from chalicelib import clients
from chalicelib.adapters.dynamodb_changes import DynamoDBChangeLog
from chalicelib.adapters.dynamodb_index import DynamoDBFileIndex
from chalicelib.adapters.eventbridge_bus import EventBridgePublisher
from chalicelib.adapters.s3_store import S3ObjectStore
from chalicelib.adapters.sqs_queue import SqsAcknowledger
from chalicelib.changes import ChangeFeed, ChangeRecorder
from chalicelib.cursors import CursorCodec
from chalicelib.deletes import DeleteProcessor
from chalicelib.files import FileService
from chalicelib.housekeeping import ObjectDeletions, Sweeper
from chalicelib.settings import get_settings
from chalicelib.uploads import UploadProcessor


def _index() -> DynamoDBFileIndex:
    return DynamoDBFileIndex(lambda: clients.client("dynamodb"), get_settings().table)


def _store() -> S3ObjectStore:
    return S3ObjectStore(lambda: clients.client("s3"), get_settings().bucket)


def _bus() -> EventBridgePublisher:
    return EventBridgePublisher(
        lambda: clients.client("events"), get_settings().event_bus
    )


def _change_log() -> DynamoDBChangeLog:
    return DynamoDBChangeLog(lambda: clients.client("dynamodb"), get_settings().table)


def _acknowledger() -> SqsAcknowledger:
    return SqsAcknowledger(lambda: clients.client("sqs"))


@functools.cache
def file_service() -> FileService:
    settings = get_settings()
    return FileService(
        index=_index(),
        store=_store(),
        bus=_bus(),
        cursors=CursorCodec(settings.cursor_secret),
        presign_ttl_seconds=settings.presign_ttl_seconds,
        quota=settings.quota,
        trash_retention_days=settings.trash_retention_days,
    )


@functools.cache
def upload_processor() -> UploadProcessor:
    return UploadProcessor(index=_index(), store=_store(), bus=_bus())


@functools.cache
def delete_processor() -> DeleteProcessor:
    return DeleteProcessor(
        index=_index(),
        store=_store(),
        bus=_bus(),
        acknowledger=_acknowledger(),
    )


@functools.cache
def sweeper() -> Sweeper:
    return Sweeper(
        index=_index(),
        store=_store(),
        bus=_bus(),
        uploads=upload_processor(),
        presign_ttl_seconds=get_settings().presign_ttl_seconds,
        trash_retention=timedelta(days=get_settings().trash_retention_days),
    )


@functools.cache
def object_deletions() -> ObjectDeletions:
    return ObjectDeletions(index=_index(), store=_store(), bus=_bus())


@functools.cache
def change_recorder() -> ChangeRecorder:
    return ChangeRecorder(log=_change_log(), acknowledger=_acknowledger())


@functools.cache
def change_feed() -> ChangeFeed:
    return ChangeFeed(
        log=_change_log(), cursors=CursorCodec(get_settings().cursor_secret)
    )


def reset() -> None:
    """Forget every service and client, as a fresh process would."""
    services = (
        file_service,
        upload_processor,
        delete_processor,
        sweeper,
        object_deletions,
        change_recorder,
        change_feed,
    )
    for built in services:
        built.cache_clear()
    get_settings.cache_clear()
    clients.reset()
