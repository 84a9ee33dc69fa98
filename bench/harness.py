"""The app in this process: its routes and handlers called as Lambda calls them.

`Handlers.of` reads what the app declares (routes; S3, SQS, schedule and
EventBridge handlers), so a route or handler added later is measured
without touching the benchmarks.
`InProcess` drives a whole file's life through the app's own entry points:
create, upload, the S3 event, the delete request, the consumers' messages.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from chalice import Chalice
from chalice.app import (
    CloudWatchEventConfig,
    S3EventConfig,
    ScheduledEventConfig,
    SQSEventConfig,
)

from bench.aws import Resources
from bench.events import (
    LambdaContext,
    api_event,
    eventbridge_event,
    path_params,
    s3_deleted_event,
    s3_event,
    scheduled_event,
    sqs_event,
)
from bench.stage import ROOT, Identity

FILE_SIZE = 16
CONTENT_TYPE = "text/plain"


def load_app() -> ModuleType:
    """Import `app.py` as Lambda would (the stage's env must be set first)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    module = importlib.import_module("app")
    silence_app_logs()
    return module


def silence_app_logs() -> None:
    """Keep formatting every log line (Lambda pays for it) but print none."""
    sink = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    for handler in logging.getLogger("chalicelib").handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sink)


@dataclass(frozen=True)
class Handlers:
    """What the app declares: routes, and its handlers by kind of event."""

    routes: list[tuple[str, str]]
    s3: str | None
    # Queue name to handler, for `on_sqs_message`.
    sqs: dict[str, str]
    schedules: list[str]
    # Handler to its event pattern, for `on_cw_event`.
    eventbridge: dict[str, dict[str, Any]]

    @classmethod
    def of(cls, app: Chalice) -> Handlers:
        routes = [
            (method, path)
            for path, entries in sorted(app.routes.items())
            for method in sorted(entries)
        ]
        sources = app.event_sources
        s3 = [c.name for c in sources if isinstance(c, S3EventConfig)]
        sqs = {c.queue: c.name for c in sources if isinstance(c, SQSEventConfig)}
        return cls(
            routes=routes,
            s3=s3[0] if s3 else None,
            sqs={queue: sqs[queue] for queue in sorted(sqs) if queue},
            schedules=[c.name for c in sources if isinstance(c, ScheduledEventConfig)],
            eventbridge={
                c.name: c.event_pattern
                for c in sources
                if isinstance(c, CloudWatchEventConfig)
            },
        )


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any


def answer_of(response: Mapping[str, Any]) -> Answer:
    raw = response.get("body")
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = raw
    return Answer(int(response["statusCode"]), body)


class InProcess:
    """The app and its resources, driven through the app's entry points."""

    def __init__(
        self, module: ModuleType, identity: Identity, resources: Resources
    ) -> None:
        self.app: Chalice = module.app
        self.module = module
        self.identity = identity
        self.resources = resources
        self.handlers = Handlers.of(self.app)
        self._tokens: dict[str, str] = {}

    # --- entry points ------------------------------------------------------

    def token(self, sub: str) -> str:
        if sub not in self._tokens:
            self._tokens[sub] = self.identity.token(sub)
        return self._tokens[sub]

    def request_event(
        self,
        method: str,
        route: str,
        sub: str,
        *,
        params: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token(sub)}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        return api_event(
            method,
            route,
            params=params,
            query=query,
            headers=headers,
            body=None if body is None else json.dumps(body),
        )

    def call(self, event: Mapping[str, Any]) -> Answer:
        return answer_of(self.app(dict(event), LambdaContext()))

    def request(self, method: str, route: str, sub: str, **kw: Any) -> Answer:
        return self.call(self.request_event(method, route, sub, **kw))

    def invoke(self, handler: str, event: Mapping[str, Any]) -> None:
        self.app.handler_map[handler](dict(event), LambdaContext(handler))

    # --- a file's life -----------------------------------------------------

    def create(self, sub: str, name: str) -> dict[str, Any]:
        body = {"name": name, "size": FILE_SIZE, "content_type": CONTENT_TYPE}
        answer = self.request("POST", "/files", sub, body=body)
        if answer.status != 201:
            raise RuntimeError(f"POST /files answered {answer.status}: {answer.body}")
        created: dict[str, Any] = answer.body
        return created

    def upload(self, created: Mapping[str, Any]) -> dict[str, Any]:
        """Store the bytes the form allows; the S3 event the upload causes."""
        fields = created["upload"]["fields"]
        stored = self.resources.client("s3").put_object(
            Bucket=self.resources.bucket,
            Key=fields["key"],
            Body=b"x" * FILE_SIZE,
            ContentType=fields.get("Content-Type", CONTENT_TYPE),
        )
        etag = stored["ETag"].strip('"')
        return s3_event(
            self.resources.bucket,
            fields["key"],
            FILE_SIZE,
            etag,
            self.resources.region,
        )

    def object_created(self, event: Mapping[str, Any]) -> None:
        if self.handlers.s3 is None:
            raise RuntimeError("the app declares no S3 handler")
        self.invoke(self.handlers.s3, event)

    def available_file(self, sub: str, name: str | None = None) -> str:
        file_id: str = self.available(sub, name)["file_id"]
        return file_id

    def available(self, sub: str, name: str | None = None) -> dict[str, Any]:
        """A file created, uploaded and settled; what `POST /files` said."""
        created = self.create(sub, name or unique_name())
        self.object_created(self.upload(created))
        return created

    def request_delete(self, sub: str, file_id: str) -> None:
        answer = self.request(
            "DELETE", "/files/{file_id}", sub, params={"file_id": file_id}
        )
        if answer.status != 202:
            raise RuntimeError(f"DELETE answered {answer.status}: {answer.body}")

    def consumer_messages(self, queue: str, sub: str, count: int) -> list[Any]:
        """`count` messages for a consumer, from files made and deleted.

        Each file is created, uploaded and deleted, which sends every kind of
        message once; the queue keeps what its rule routes to it.
        """
        self.resources.drain()
        for _ in range(count):
            self.request_delete(sub, self.available_file(sub))
        messages = self.resources.receive(queue, count)
        if len(messages) < count:
            raise RuntimeError(f"{queue}: {len(messages)} of {count} messages came")
        return messages

    def deliver_all(self) -> None:
        """Hand every queued message to its consumer, ten at a time."""
        for queue, handler in self.handlers.sqs.items():
            while messages := self.resources.receive(queue, 10):
                self.invoke(handler, self.consumer_event(queue, messages))

    def consumer_event(self, queue: str, messages: list[Any]) -> dict[str, Any]:
        arn = self.resources.queues[queue].arn
        return sqs_event(messages, arn, self.resources.region)

    def scheduled_event(self) -> dict[str, Any]:
        return scheduled_event(self.resources.region)

    def eventbridge_event(self, pattern: dict[str, Any], sub: str) -> dict[str, Any]:
        """An event the pattern matches; S3's "Object Deleted" for a real file."""
        source = pattern.get("source", ["bench"])[0]
        detail_type = pattern.get("detail-type", ["Bench"])[0]
        if (source, detail_type) != ("aws.s3", "Object Deleted"):
            return eventbridge_event(source, detail_type, {}, self.resources.region)
        key = self.available(sub)["upload"]["fields"]["key"]
        bucket = self.resources.bucket
        self.resources.client("s3").delete_object(Bucket=bucket, Key=key)
        return s3_deleted_event(bucket, key, self.resources.region)

    # --- requests to any route ---------------------------------------------

    def route_event(
        self, method: str, route: str, sub: str, file_id: str
    ) -> dict[str, Any]:
        """A request that route should answer with success, for `sub`'s file."""
        if (method, route) == ("POST", "/files"):
            body = {
                "name": unique_name(),
                "size": FILE_SIZE,
                "content_type": CONTENT_TYPE,
            }
            return self.request_event(method, route, sub, body=body)
        query = {"limit": "100"} if (method, route) == ("GET", "/files") else None
        params = {name: file_id for name in path_params(route)}
        if method == "PATCH":
            body = {"name": unique_name()}
            return self.request_event(method, route, sub, params=params, body=body)
        if route.endswith("/restore"):
            # Only a trashed file comes back.
            trashed = self.request(
                "POST", "/files/{file_id}/trash", sub, params={"file_id": file_id}
            )
            if trashed.status != 200:
                raise RuntimeError(f"trash answered {trashed.status}: {trashed.body}")
        return self.request_event(method, route, sub, params=params, query=query)


def unique_name(folder: str = "bench") -> str:
    return f"{folder}/{uuid.uuid4().hex}.txt"


def new_user() -> str:
    return str(uuid.uuid4())
