"""The file manager's exceptions: one root, one subclass per kind of outcome.

Each class carries the stable machine-readable `code` that clients branch on
and the HTTP status it maps to; `app.py` turns any of them into Chalice's
error shape in one place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.domain import Quota, Usage


class FileManagerError(Exception):
    code = "InternalError"
    status = 500

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class BadRequestError(FileManagerError):
    code = "BadRequest"
    status = 400


class ValidationFailedError(BadRequestError):
    code = "ValidationError"


class InvalidNameError(BadRequestError):
    code = "InvalidName"


class InvalidCursorError(BadRequestError):
    code = "InvalidCursor"


class UnauthorizedError(FileManagerError):
    # One code for every 401: the client refreshes its session once, then
    # signs in again, whatever was wrong with the token.
    code = "Unauthorized"
    status = 401


class NoSuchFileError(FileManagerError):
    code = "FileNotFound"
    status = 404


class NameConflictError(FileManagerError):
    code = "NameConflict"
    status = 409


class FileStateConflictError(FileManagerError):
    code = "FileStateConflict"
    status = 409


class QuotaExceededError(FileManagerError):
    # 403, not 413: the request is fine, the caller may not store more.
    code = "QuotaExceeded"
    status = 403

    @classmethod
    def for_request(cls, used: Usage, quota: Quota, size: int) -> QuotaExceededError:
        return cls(
            f"one more file of {size} bytes would pass your quota of "
            f"{quota.max_files} files and {quota.max_bytes} bytes "
            f"(you store {used.files} files, {used.bytes} bytes)",
            details={
                "files": {"used": used.files, "limit": quota.max_files},
                "bytes": {"used": used.bytes, "limit": quota.max_bytes},
                "requested_bytes": size,
            },
        )


class IdempotencyKeyReusedError(FileManagerError):
    """An Idempotency-Key sent again with a different request."""

    code = "IdempotencyKeyReused"
    status = 422


class PayloadTooLargeError(FileManagerError):
    code = "PayloadTooLarge"
    status = 413


class UnsupportedMediaTypeError(FileManagerError):
    code = "UnsupportedMediaType"
    status = 415


class DependencyUnavailableError(FileManagerError):
    """An AWS dependency refused or failed; the caller may retry."""

    code = "ServiceUnavailable"
    status = 503


class ConcurrentUpdateError(FileManagerError):
    """A conditional write lost a race; retrying the message settles it."""

    code = "ConcurrentUpdate"
    status = 409


class UnknownMessageError(FileManagerError):
    """A queue delivered a message no handler of ours reads."""

    code = "UnknownMessage"


class CursorExpiredError(FileManagerError):
    """The changes after a cursor are older than the feed keeps."""

    code = "CursorExpired"
    status = 410


class IdempotencyKeyTaken(Exception):
    """A create found its Idempotency-Key already claimed by an earlier one.

    Not an answer in itself: the file service decides whether the earlier
    create was the same request (answer it again) or not (refuse).
    """

    def __init__(self, file_id: str, fingerprint: str) -> None:
        super().__init__(f"idempotency key already used for file {file_id}")
        self.file_id = file_id
        self.fingerprint = fingerprint
