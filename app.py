"""The file manager's entry points: every route and event handler, and nothing
else. Each turns its input into a typed model, calls one service in
`chalicelib`, and maps the outcome to an answer."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from chalice import Chalice, Rate
from chalice.app import CloudWatchEvent, S3Event, SQSEvent

from chalicelib import bootstrap
from chalicelib.api import (
    ChangesQuery,
    ChangesView,
    CreatedFile,
    CreateFileRequest,
    DeleteAccepted,
    FileDetails,
    FileListing,
    FileView,
    LatestCursor,
    ListFilesQuery,
    NoQuery,
    RenameFileRequest,
    TrashListing,
    TrashQuery,
    UsageView,
)
from chalicelib.batches import queue_message
from chalicelib.domain import utc_now
from chalicelib.logs import configure_logging
from chalicelib.openapi import OpenApiDocument, load_openapi
from chalicelib.tracing import new_trace_id, traced
from chalicelib.web import CORS, ApiCall, ApiRoutes, gateway_authorizer

app = Chalice(app_name="filemanager")
configure_logging()
api = ApiRoutes(app)
# Any content type reaches our own check, so a wrong one gets our JSON 415
# with its trace id rather than Chalice's bare one.
protected = {"authorizer": gateway_authorizer(), "cors": CORS, "content_types": ["*/*"]}


@app.route("/files", methods=["POST"], **protected)
@api.handler(status=201)
def create_file(call: ApiCall) -> CreatedFile:
    call.query(NoQuery)
    request = call.body(CreateFileRequest)
    return bootstrap.file_service().create_file(
        call.caller.sub, request, call.idempotency_key
    )


@app.route("/files", methods=["GET"], **protected)
@api.handler()
def list_files(call: ApiCall) -> FileListing:
    query = call.query(ListFilesQuery)
    return bootstrap.file_service().list_files(call.caller.sub, query)


@app.route("/files/{file_id}", methods=["GET"], **protected)
@api.handler()
def describe_file(call: ApiCall) -> FileDetails:
    call.query(NoQuery)
    return bootstrap.file_service().describe_file(call.caller.sub, call.path["file_id"])


@app.route("/files/{file_id}", methods=["PATCH"], **protected)
@api.handler()
def rename_file(call: ApiCall) -> FileView:
    call.query(NoQuery)
    request = call.body(RenameFileRequest)
    return bootstrap.file_service().rename_file(
        call.caller.sub, call.path["file_id"], request, call.trace_id
    )


@app.route("/files/{file_id}/trash", methods=["POST"], **protected)
@api.handler()
def trash_file(call: ApiCall) -> FileView:
    call.query(NoQuery)
    call.no_body()
    return bootstrap.file_service().trash_file(
        call.caller.sub, call.path["file_id"], call.trace_id
    )


@app.route("/files/{file_id}/restore", methods=["POST"], **protected)
@api.handler()
def restore_file(call: ApiCall) -> FileView:
    call.query(NoQuery)
    call.no_body()
    return bootstrap.file_service().restore_file(
        call.caller.sub, call.path["file_id"], call.trace_id
    )


@app.route("/trash", methods=["GET"], **protected)
@api.handler()
def list_trash(call: ApiCall) -> TrashListing:
    query = call.query(TrashQuery)
    return bootstrap.file_service().list_trash(call.caller.sub, query)


@app.route("/files/{file_id}", methods=["DELETE"], **protected)
@api.handler(status=202)
def delete_file(call: ApiCall) -> DeleteAccepted:
    call.query(NoQuery)
    call.no_body()
    return bootstrap.file_service().request_delete(
        call.caller.sub, call.path["file_id"], call.trace_id
    )


@app.route("/usage", methods=["GET"], **protected)
@api.handler()
def show_usage(call: ApiCall) -> UsageView:
    call.query(NoQuery)
    return bootstrap.file_service().usage(call.caller.sub)


@app.route("/changes", methods=["GET"], **protected)
@api.handler()
def list_changes(call: ApiCall) -> ChangesView:
    query = call.query(ChangesQuery)
    return bootstrap.change_feed().changes(call.caller.sub, query)


@app.route("/changes/latest", methods=["GET"], **protected)
@api.handler()
def latest_change_cursor(call: ApiCall) -> LatestCursor:
    call.query(NoQuery)
    return bootstrap.change_feed().latest(call.caller.sub)


@app.route("/openapi.json", methods=["GET"], cors=CORS)
@api.handler(public=True)
def openapi_document(call: ApiCall) -> OpenApiDocument:
    return load_openapi()


@app.on_s3_event(
    bucket=os.environ.get("FILES_BUCKET", ""), events=["s3:ObjectCreated:*"]
)
def on_object_created(event: S3Event) -> None:
    # S3 hands over one record per call; Chalice has URL-decoded its key once.
    event_name = event.to_dict()["Records"][0]["eventName"]
    trace_id = new_trace_id()
    with traced(trace_id):
        bootstrap.upload_processor().object_event(event_name, event.key, trace_id)


@app.on_sqs_message(queue=os.environ.get("DELETE_QUEUE_NAME", ""), batch_size=10)
def on_delete_file(event: SQSEvent) -> None:
    bootstrap.delete_processor().consume([queue_message(r) for r in event])


@app.on_sqs_message(queue=os.environ.get("CHANGE_FEED_QUEUE_NAME", ""), batch_size=10)
def on_change_event(event: SQSEvent) -> None:
    bootstrap.change_recorder().consume([queue_message(r) for r in event])


@app.schedule(Rate(5, unit=Rate.MINUTES))
def sweep_index(event: CloudWatchEvent) -> None:
    trace_id = new_trace_id()
    with traced(trace_id):
        bootstrap.sweeper().sweep(_scheduled_time(event), trace_id)


def _scheduled_time(event: CloudWatchEvent) -> datetime:
    # The time the run was due, so that a late start judges ages as it would
    # have on time.
    try:
        due = datetime.fromisoformat(event.time)
    except (TypeError, ValueError):
        return utc_now()
    return due if due.tzinfo else due.replace(tzinfo=UTC)


@app.on_cw_event(
    {
        "source": ["aws.s3"],
        "detail-type": ["Object Deleted"],
        "detail": {"bucket": {"name": [os.environ.get("FILES_BUCKET", "")]}},
    }
)
def on_object_deleted(event: CloudWatchEvent) -> None:
    # EventBridge carries the key as stored, not URL-encoded as S3's own
    # notifications do; our keys hold no character either would change.
    trace_id = new_trace_id()
    with traced(trace_id):
        bootstrap.object_deletions().object_deleted(
            event.detail["object"]["key"], trace_id
        )
