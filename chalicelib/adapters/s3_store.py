"""File bytes in S3, reached by clients only through presigned requests."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.domain import StoredObject
from chalicelib.errors import DependencyUnavailableError
from chalicelib.ports import PresignedPost

logger = logging.getLogger(__name__)

_MISSING = {"404", "NoSuchKey", "NotFound"}


def content_disposition(filename: str) -> str:
    """An RFC 6266 attachment header that carries any file name.

    Old clients read the ASCII `filename`; every current one prefers the
    UTF-8 `filename*`, percent-encoded so that quotes, `;` and non-ASCII
    letters survive.
    """
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_"
        for c in filename
    )
    encoded = quote(filename, safe="")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def _hex_to_base64(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode("ascii")


def _base64_to_hex(b64_digest: str) -> str | None:
    # A multipart upload's checksum is a checksum of part checksums
    # ("<base64>-<parts>"), not the file's SHA-256.
    if "-" in b64_digest:
        return None
    return base64.b64decode(b64_digest).hex()


class S3ObjectStore:
    def __init__(self, client_factory: Callable[[], Any], bucket: str) -> None:
        self._client_factory = client_factory
        self._bucket = bucket

    @property
    def _client(self) -> Any:
        return self._client_factory()

    def presign_upload(
        self,
        key: str,
        size: int,
        content_type: str,
        sha256: str | None,
        expires_in: int,
    ) -> PresignedPost:
        fields = {"Content-Type": content_type}
        conditions: list[Any] = [
            {"Content-Type": content_type},
            ["content-length-range", size, size],
        ]
        if sha256 is not None:
            # S3 then refuses bytes whose SHA-256 differs from the declared one.
            checksum = _hex_to_base64(sha256)
            fields |= {
                "x-amz-checksum-algorithm": "SHA256",
                "x-amz-checksum-sha256": checksum,
            }
            conditions += [
                {"x-amz-checksum-algorithm": "SHA256"},
                {"x-amz-checksum-sha256": checksum},
            ]
        # generate_presigned_post pins the key itself.
        form = self._client.generate_presigned_post(
            Bucket=self._bucket,
            Key=key,
            Fields=fields,
            Conditions=conditions,
            ExpiresIn=expires_in,
        )
        return PresignedPost(url=form["url"], fields=form["fields"])

    def presign_download(
        self, key: str, filename: str, content_type: str, expires_in: int
    ) -> str:
        url: str = self._client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self._bucket,
                "Key": key,
                "ResponseContentDisposition": content_disposition(filename),
                "ResponseContentType": content_type,
            },
            ExpiresIn=expires_in,
        )
        return url

    def head(self, key: str) -> StoredObject | None:
        try:
            answer = self._client.head_object(
                Bucket=self._bucket, Key=key, ChecksumMode="ENABLED"
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] in _MISSING:
                return None
            raise DependencyUnavailableError(f"could not read object {key}") from exc
        except BotoCoreError as exc:
            raise DependencyUnavailableError(f"could not read object {key}") from exc
        checksum = answer.get("ChecksumSHA256")
        return StoredObject(
            key=key,
            size=int(answer["ContentLength"]),
            content_type=answer.get("ContentType"),
            etag=answer["ETag"].strip('"'),
            last_modified=answer["LastModified"],
            sha256=_base64_to_hex(checksum) if checksum else None,
        )

    def delete(self, key: str) -> None:
        try:
            self._client.delete_object(Bucket=self._bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise DependencyUnavailableError(f"could not delete object {key}") from exc
        logger.debug("deleted object %s", key)
