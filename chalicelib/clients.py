"""AWS clients, each built on first use and then kept for the process.

Nothing is built at import: a cold start pays only for the clients its path
needs. boto3 reads `AWS_ENDPOINT_URL` itself, which is how the local stage
points every client at the local AWS.
"""

from __future__ import annotations

import functools
import os
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
_S3_CONFIG = _CONFIG.merge(Config(signature_version="s3v4"))
# On AWS, S3 URLs name the bucket's own region (bucket.s3.<region>.amazonaws
# .com). botocore's default names the global endpoint, which redirects a
# bucket outside us-east-1 for its first hours, and a browser's CORS upload
# or download does not follow that redirect.
_S3_ON_AWS_CONFIG = _S3_CONFIG.merge(Config(s3={"addressing_style": "virtual"}))
# Where boto3 learns of another endpoint (the local stack's moto), which
# serves buckets by path, not by host name.
_ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")


def _config(service: str) -> Config:
    if service != "s3":
        return _CONFIG
    if any(os.environ.get(name) for name in _ENDPOINT_VARIABLES):
        return _S3_CONFIG
    return _S3_ON_AWS_CONFIG


@functools.cache
def _session() -> boto3.session.Session:
    return boto3.session.Session()


@functools.cache
def client(service: str) -> Any:
    # The session's region is the function's: Lambda sets AWS_DEFAULT_REGION.
    return _session().client(service, config=_config(service))


def reset() -> None:
    """Forget every client, as a new process would (tests switch endpoints)."""
    client.cache_clear()
    _session.cache_clear()
