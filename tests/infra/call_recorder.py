"""A pytest plugin: every AWS call the app makes, recorded by function.

`tests/infra/test_policies.py` runs the app tier with it
(`pytest tests/app -p tests.infra.call_recorder`), so the flows those tests
drive (routes, the S3 handler, both consumers, their error paths) tell which
calls each deployed function makes. It writes one JSON line per call to the
file named by `INFRA_CALL_LOG`; without that variable it does nothing.

A call belongs to the function `chalice.test.Client` is running: the API's
`api_handler` for an HTTP request, the named handler for a Lambda invoke.
Calls the tests make themselves (creating the bucket, reading queues) belong
to no function and are not recorded. botocore announces every API call with
its parameters (`before-parameter-build`), presigned GET URLs included; a
presigned POST is announced by nobody, so it is recorded where it is made.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import json
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import botocore.session
import botocore.signers
import pytest
from chalice import test as chalice_test

LOG_VARIABLE = "INFRA_CALL_LOG"
# The app's settings: which resources a call was meant for.
NAME_VARIABLES = (
    "AWS_REGION",
    "FILES_BUCKET",
    "FILES_TABLE",
    "EVENT_BUS_NAME",
    "DELETE_QUEUE_NAME",
    "CHANGE_FEED_QUEUE_NAME",
)
# Only what tells the action and the resource; bodies and items stay out.
_KEPT_PARAMS = (
    "TableName",
    "IndexName",
    "Bucket",
    "Key",
    "QueueName",
    "QueueOwnerAWSAccountId",
    "QueueUrl",
)

_function: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "function", default=None
)
# botocore builds a presigned POST's URL from CreateBucket's model, and
# announces that as a call; the POST is recorded as itself instead.
_presigning: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "presigning", default=False
)
_lock = threading.Lock()


def summary(service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {k: params[k] for k in _KEPT_PARAMS if k in params}
    if "TransactItems" in params:
        kept["TransactItems"] = [
            {kind: {"TableName": body.get("TableName"), "Attributes": _names(body)}}
            for item in params["TransactItems"]
            for kind, body in item.items()
        ]
    if "Entries" in params:
        kept["Entries"] = [
            {"EventBusName": entry.get("EventBusName", "default")}
            for entry in params["Entries"]
        ]
    return {
        "function": _function.get(),
        "service": service,
        "operation": operation,
        "params": kept,
        "settings": {name: os.environ.get(name, "") for name in NAME_VARIABLES},
    }


def _names(body: dict[str, Any]) -> list[str]:
    """The attribute names an item writes, to check the TTL attribute's name."""
    return sorted(body.get("Item", {}))


class Recorder:
    def __init__(self, path: str) -> None:
        self.path = path

    def record(self, service: str, operation: str, params: dict[str, Any]) -> None:
        if _function.get() is None or _presigning.get():
            return
        line = json.dumps(summary(service, operation, params), default=str)
        with _lock, open(self.path, "a") as log:
            log.write(line + "\n")

    def on_call(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.record(model.service_model.service_name, model.name, params)


@contextlib.contextmanager
def running(function: str) -> Iterator[None]:
    token = _function.set(function)
    try:
        yield
    finally:
        _function.reset(token)


def _as(function_of: Callable[..., str], method: Callable[..., Any]) -> Any:
    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        with running(function_of(*args, **kwargs)):
            return method(self, *args, **kwargs)

    return wrapper


def install(recorder: Recorder, patch: pytest.MonkeyPatch) -> None:
    session_init = botocore.session.Session.__init__

    def init(session: Any, *args: Any, **kwargs: Any) -> None:
        session_init(session, *args, **kwargs)
        session.register("before-parameter-build", recorder.on_call)

    patch.setattr(botocore.session.Session, "__init__", init)
    presign_post = botocore.signers.generate_presigned_post

    def generate_presigned_post(client: Any, Bucket: str, Key: str, **kw: Any) -> Any:
        recorder.record("s3", "PresignedPost", {"Bucket": Bucket, "Key": Key})
        token = _presigning.set(True)
        try:
            return presign_post(client, Bucket, Key, **kw)
        finally:
            _presigning.reset(token)

    # Clients look the function up here when their class is made.
    patch.setattr(botocore.signers, "generate_presigned_post", generate_presigned_post)
    patch.setattr(
        chalice_test.TestHTTPClient,
        "request",
        _as(lambda *a, **k: "api_handler", chalice_test.TestHTTPClient.request),
    )
    patch.setattr(
        chalice_test.TestLambdaClient,
        "invoke",
        _as(lambda name, *a, **k: name, chalice_test.TestLambdaClient.invoke),
    )


_patch = pytest.MonkeyPatch()


def pytest_configure(config: pytest.Config) -> None:
    path = os.environ.get(LOG_VARIABLE)
    if path:
        install(Recorder(path), _patch)


def pytest_unconfigure(config: pytest.Config) -> None:
    _patch.undo()
