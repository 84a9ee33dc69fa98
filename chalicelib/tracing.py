"""Trace ids: where they come from and how they follow the work.

A trace id starts at an API request (the caller's `X-Trace-Id`, if well
formed) or at an S3 event, rides in every command's and event's metadata, and
is a field of every log line written while the work runs.
"""

from __future__ import annotations

import contextvars
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

TRACE_HEADER = "X-Trace-Id"
_VALID_TRACE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "trace_id", default=None
)


def new_trace_id() -> str:
    return uuid.uuid4().hex


def accept_trace_id(candidate: str | None) -> str:
    """The caller's trace id when well formed; a fresh one otherwise.

    A malformed id is replaced rather than refused: tracing must never be the
    reason a request fails.
    """
    if candidate and _VALID_TRACE_ID.fullmatch(candidate):
        return candidate
    return new_trace_id()


def current_trace_id() -> str | None:
    return _current.get()


@contextmanager
def traced(trace_id: str) -> Iterator[str]:
    token = _current.set(trace_id)
    try:
        yield trace_id
    finally:
        _current.reset(token)
