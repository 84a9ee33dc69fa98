"""AWS clients, each built on first use and then kept for the process.

Nothing is built at import: a cold start pays only for the clients its path
needs. boto3 reads `AWS_ENDPOINT_URL` itself, which is how the local stage
points every client at the local AWS.
"""

from __future__ import annotations

import functools
from typing import Any

import boto3
from botocore.config import Config

# Lambda gives a function a few seconds; a hung connection must not eat them.
_CONFIG = Config(
    connect_timeout=3,
    read_timeout=10,
    retries={"mode": "standard", "max_attempts": 3},
)
# Presigned POST forms and URLs are only signed with SigV4 in every region.
_SERVICE_CONFIG = {"s3": _CONFIG.merge(Config(signature_version="s3v4"))}


@functools.cache
def _session() -> boto3.session.Session:
    return boto3.session.Session()


@functools.cache
def client(service: str) -> Any:
    return _session().client(service, config=_SERVICE_CONFIG.get(service, _CONFIG))


def reset() -> None:
    """Forget every client, as a new process would (tests switch endpoints)."""
    client.cache_clear()
    _session.cache_clear()
