"""Moving bytes straight between this machine and S3.

Uploads POST the presigned form the API hands out (its fields, then the
file); downloads GET the presigned URL. Neither passes through the API.
"""

from __future__ import annotations

import contextlib
import hashlib
import mimetypes
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol, cast

import httpx

from fmclient.errors import IntegrityError, TransferError
from fmclient.retry import Retry

CHUNK = 1024 * 1024
_XML_TAG = r"<{0}>(.*?)</{0}>"


class Meter(Protocol):
    """Where a transfer reports its bytes (a progress bar, or nothing)."""

    def advance(self, amount: int) -> None: ...

    def restart(self) -> None: ...


class NoMeter:
    def advance(self, amount: int) -> None:
        pass

    def restart(self) -> None:
        pass


class FormExpired(TransferError):
    """S3 refused the form because its time ran out; ask for a new one."""


def guess_content_type(path: Path) -> str:
    guessed, encoding = mimetypes.guess_type(path.name, strict=False)
    # A compressed file (x.tar.gz) is stored as the bytes it is, not as tar.
    if guessed is None or encoding is not None:
        return "application/octet-stream"
    return guessed


def sha256_of(path: Path, meter: Meter | None = None) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            if meter is not None:
                meter.advance(len(chunk))
    return digest.hexdigest()


class _MeteredFile:
    """A file that tells a meter how much has been read from it.

    It keeps `fileno`, so httpx still learns the size and sends a
    Content-Length, which S3 requires of a POST upload.
    """

    def __init__(self, handle: IO[bytes], meter: Meter) -> None:
        self._handle = handle
        self._meter = meter

    def read(self, size: int = -1) -> bytes:
        chunk = self._handle.read(size)
        self._meter.advance(len(chunk))
        return chunk

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._handle.seek(offset, whence)

    def tell(self) -> int:
        return self._handle.tell()

    def fileno(self) -> int:
        return self._handle.fileno()


def s3_error(response: httpx.Response) -> tuple[str, str]:
    """S3's error code and message, out of its XML body."""
    found = {}
    for tag in ("Code", "Message"):
        match = re.search(_XML_TAG.format(tag), response.text, re.DOTALL)
        found[tag] = match.group(1).strip() if match else ""
    code = found["Code"] or f"HTTP{response.status_code}"
    return code, found["Message"] or response.reason_phrase


def _s3_retryable(response: httpx.Response) -> bool:
    return response.status_code in (500, 502, 503, 504)


def upload(
    http: httpx.Client,
    retry: Retry,
    form: dict[str, Any],
    path: Path,
    meter: Meter,
) -> None:
    """POST `path` with the presigned form; raise unless S3 took it."""
    fields = dict(form["fields"])
    content_type = fields.get("Content-Type", "application/octet-stream")

    def call() -> httpx.Response:
        meter.restart()
        with path.open("rb") as handle:
            body = cast("IO[bytes]", _MeteredFile(handle, meter))
            return http.post(
                form["url"],
                data=fields,
                files={"file": (path.name, body, content_type)},
            )

    response = retry.run(call, _s3_retryable)
    if response.status_code in (200, 201, 204):
        return
    code, message = s3_error(response)
    if response.status_code == 403 and "expire" in message.lower():
        raise FormExpired(f"{path}: the upload form expired ({message})")
    raise TransferError(f"{path}: S3 refused the upload: {message} ({code})")


@dataclass(frozen=True)
class Downloaded:
    path: Path
    size: int
    sha256: str


def download(
    http: httpx.Client,
    retry: Retry,
    url: str,
    destination: Path,
    meter: Meter,
    expected_sha256: str | None,
) -> Downloaded:
    """GET `url` into `destination`, replaced only if the SHA-256 matches.

    The bytes land in a `.part` file beside it first, so a failed or
    mismatching download never leaves a half or wrong file under the name.
    """
    partial = destination.with_name(f".{destination.name}.part")
    fetched: tuple[int, str] | None = None
    for attempt in range(retry.attempts):
        meter.restart()
        fetched = _fetch(http, url, partial, meter, retry.attempts - attempt - 1)
        if fetched is not None:
            break
        retry.sleep(retry.delay(attempt))
    assert fetched is not None
    size, actual = fetched
    if expected_sha256 is not None and actual != expected_sha256:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        raise IntegrityError(
            f"{destination.name}: the downloaded bytes have SHA-256 {actual}, "
            f"but the index says {expected_sha256}; nothing was written"
        )
    partial.replace(destination)
    return Downloaded(destination, size, actual)


def _fetch(
    http: httpx.Client, url: str, partial: Path, meter: Meter, tries_left: int
) -> tuple[int, str] | None:
    """The size and SHA-256 of what landed in `partial`; None to try again."""
    digest = hashlib.sha256()
    size = 0
    try:
        with http.stream("GET", url) as response:
            if _s3_retryable(response) and tries_left:
                return None
            if response.status_code != 200:
                response.read()
                code, message = s3_error(response)
                raise TransferError(f"S3 refused the download: {message} ({code})")
            with partial.open("wb") as out:
                for chunk in response.iter_bytes(CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                    meter.advance(len(chunk))
    except httpx.TransportError:
        if not tries_left:
            raise
        return None
    return size, digest.hexdigest()
