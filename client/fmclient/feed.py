"""Following the change feed (GET /changes): how fm learns that something
it asked for (an upload settled, a delete done) has happened."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from fmclient.api import Api
from fmclient.errors import ClientError

POLL_SECONDS = 0.5


def follow(
    api: Api,
    cursor: str | None,
    *,
    interval: float = POLL_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[dict[str, Any]]:
    """Every change after `cursor`, as it comes, forever."""
    while True:
        page = api.changes(cursor)
        yield from page["changes"]
        cursor = page["cursor"]
        if not page["has_more"]:
            sleep(interval)


def await_changes(
    api: Api,
    cursor: str,
    wanted: Mapping[str, frozenset[str]],
    *,
    timeout: float,
    on_change: Callable[[dict[str, Any]], None] | None = None,
    interval: float = POLL_SECONDS,
) -> dict[str, dict[str, Any]]:
    """Wait until each file id in `wanted` has one of its change types.

    Returns the change seen for each; raises once `timeout` passes with
    some still missing (they may yet happen: the service has accepted them).
    """
    pending = dict(wanted)
    seen: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    while pending:
        page = api.changes(cursor)
        cursor = page["cursor"]
        for change in page["changes"]:
            types = pending.get(change["file_id"])
            if types is not None and change["type"] in types:
                seen[change["file_id"]] = change
                del pending[change["file_id"]]
                if on_change is not None:
                    on_change(change)
        if not pending or page["has_more"]:
            continue
        if time.monotonic() > deadline:
            raise ClientError(
                f"{len(pending)} file(s) not settled after {timeout:.0f} s; the "
                "service accepted them, so see `fm watch` or `fm info` later"
            )
        time.sleep(interval)
    return seen
