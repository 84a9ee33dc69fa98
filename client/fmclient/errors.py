"""What can go wrong, each with the exit code a script can branch on."""

from __future__ import annotations

from typing import Any

EXIT_FAILED = 1
# 2 is click's own, for a command line it cannot parse.
EXIT_SIGN_IN = 3
EXIT_INTEGRITY = 4


class ClientError(Exception):
    """A failure told to the user as one line."""

    exit_code = EXIT_FAILED


class ConfigError(ClientError):
    """No usable target (API, region, user pool) was given or found."""


class SignInRequired(ClientError):
    """No session, or one that can no longer be refreshed."""

    exit_code = EXIT_SIGN_IN


class IntegrityError(ClientError):
    """Downloaded bytes differ from what the index says they are."""

    exit_code = EXIT_INTEGRITY


class ApiError(ClientError):
    """An answer in the API's error shape {"Code", "Message", "Details"}."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        trace_id: str | None = None,
    ) -> None:
        super().__init__(f"{message} ({code}, HTTP {status})")
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.trace_id = trace_id


class TransferError(ClientError):
    """S3 refused an upload or a download."""
