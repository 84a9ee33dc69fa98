"""The floor of a cold start: a bare Chalice app that answers a constant.

It imports what the file manager imports from its libraries (Chalice, boto3,
pydantic's model machinery, PyJWT with its crypto backend) but defines no
model and no file manager code, and at its first request or event builds the AWS
clients the measured path builds (named in BENCH_FLOOR_CLIENTS, from one
session, as `chalicelib.clients` does); then it answers. The route it serves
is the measured one (BENCH_FLOOR_ROUTE, "METHOD /path"), so Chalice's own
routing costs the same on both sides.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
import jwt
from boto3.dynamodb.types import TypeDeserializer
from botocore.config import Config
from chalice import Chalice
from chalice.app import CloudWatchEvent, S3Event, SQSEvent
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    ValidationError,
    field_validator,
)

app = Chalice(app_name="bench-floor")
# What the app imports from its libraries (`import pydantic` alone is lazy).
LIBRARIES: tuple[object, ...] = (boto3, jwt, TypeDeserializer, Config, AwareDatetime)
LIBRARIES += (BaseModel, ConfigDict, Field, RootModel, ValidationError, field_validator)


def _build_clients() -> None:
    services = [s for s in os.environ.get("BENCH_FLOOR_CLIENTS", "").split(",") if s]
    session = boto3.session.Session()
    for service in services:
        session.client(service)


def constant(**params: str) -> dict[str, Any]:
    _build_clients()
    return {"ok": True}


_method, _, _path = os.environ.get("BENCH_FLOOR_ROUTE", "GET /").partition(" ")
app.route(_path or "/", methods=[_method], content_types=["*/*"])(constant)


@app.on_s3_event(bucket=os.environ.get("FILES_BUCKET", "bench"))
def floor_s3(event: S3Event) -> None:
    _build_clients()


@app.on_sqs_message(queue="bench-floor")
def floor_sqs(event: SQSEvent) -> None:
    _build_clients()


@app.schedule("rate(5 minutes)")
def floor_schedule(event: CloudWatchEvent) -> None:
    _build_clients()


@app.on_cw_event({"source": ["bench.floor"]})
def floor_eventbridge(event: CloudWatchEvent) -> None:
    _build_clients()
