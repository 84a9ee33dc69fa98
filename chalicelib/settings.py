"""Run-time settings, read once from the function's environment.

Every stage sets these through `.chalice/config.json`; nothing here builds a
client or touches the network, so reading settings is free at cold start.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

from chalicelib.domain import Quota

# A presigned POST can carry at most 5 GB, so no file may be larger.
MAX_FILE_SIZE = 5 * 1024**3
# The longest presigned URL lifetime any stage may configure.
PRESIGN_TTL_CEILING_SECONDS = 3600
# What each user may store unless the stage says otherwise.
DEFAULT_QUOTA = Quota(max_files=10_000, max_bytes=10 * 1024**3)
# How long a trashed file waits before it is deleted for good.
DEFAULT_TRASH_RETENTION_DAYS = 30


class SettingsError(RuntimeError):
    """A required setting is missing or malformed."""


@dataclass(frozen=True)
class Settings:
    region: str
    bucket: str
    table: str
    event_bus: str
    delete_queue: str
    change_feed_queue: str
    user_pool_id: str
    app_client_id: str
    jwks_url: str
    cursor_secret: bytes
    presign_ttl_seconds: int
    gateway_authorizer: bool
    quota: Quota = DEFAULT_QUOTA
    trash_retention_days: int = DEFAULT_TRASH_RETENTION_DAYS

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"


def _required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise SettingsError(f"environment variable {name} is not set")
    return value


def _presign_ttl() -> int:
    raw = os.environ.get("PRESIGN_TTL_SECONDS", "900")
    try:
        ttl = int(raw)
    except ValueError as exc:
        raise SettingsError(f"PRESIGN_TTL_SECONDS is not a number: {raw!r}") from exc
    if not 1 <= ttl <= PRESIGN_TTL_CEILING_SECONDS:
        raise SettingsError(
            f"PRESIGN_TTL_SECONDS must be 1..{PRESIGN_TTL_CEILING_SECONDS}, got {ttl}"
        )
    return ttl


def _whole_number(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise SettingsError(f"{name} must be a whole number above 0, got {raw!r}")
    return int(raw)


def _quota() -> Quota:
    return Quota(
        max_files=_whole_number("QUOTA_MAX_FILES", DEFAULT_QUOTA.max_files),
        max_bytes=_whole_number("QUOTA_MAX_BYTES", DEFAULT_QUOTA.max_bytes),
    )


@functools.cache
def get_settings() -> Settings:
    region = os.environ.get("AWS_REGION") or os.environ.get(
        "AWS_DEFAULT_REGION", "us-east-1"
    )
    pool_id = _required("COGNITO_USER_POOL_ID")
    default_jwks = (
        f"https://cognito-idp.{region}.amazonaws.com/{pool_id}/.well-known/jwks.json"
    )
    return Settings(
        region=region,
        bucket=_required("FILES_BUCKET"),
        table=_required("FILES_TABLE"),
        event_bus=_required("EVENT_BUS_NAME"),
        delete_queue=_required("DELETE_QUEUE_NAME"),
        change_feed_queue=_required("CHANGE_FEED_QUEUE_NAME"),
        user_pool_id=pool_id,
        app_client_id=_required("COGNITO_APP_CLIENT_ID"),
        jwks_url=os.environ.get("COGNITO_JWKS_URL") or default_jwks,
        cursor_secret=_required("CURSOR_SECRET").encode(),
        presign_ttl_seconds=_presign_ttl(),
        gateway_authorizer=os.environ.get("AUTH_MODE", "gateway") != "app",
        quota=_quota(),
        trash_retention_days=_whole_number(
            "TRASH_RETENTION_DAYS", DEFAULT_TRASH_RETENTION_DAYS
        ),
    )
