"""Retrying what the service asks to retry: throttling and passing failures.

Backoff is exponential with full jitter, so parallel uploads that were
throttled together do not come back together; a `Retry-After` header, when
sent, is the least wait.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

# Throttled (429, S3's 503 SlowDown) or a passing failure of the service.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def retry_status(response: httpx.Response) -> bool:
    return response.status_code in RETRY_STATUSES


@dataclass
class Retry:
    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 8.0
    sleep: Callable[[float], None] = time.sleep
    # Told about each retry: (attempt, reason), e.g. to log it.
    on_retry: Callable[[int, str], None] | None = None
    _random: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        ceiling = min(self.max_delay, self.base_delay * 2**attempt)
        # Jitter, not a secret: any generator will do.
        jittered = self._random.uniform(0, ceiling)
        return max(jittered, retry_after or 0.0)

    def run(
        self,
        call: Callable[[], httpx.Response],
        retryable: Callable[[httpx.Response], bool] = retry_status,
    ) -> httpx.Response:
        """`call` until it answers something not retryable, or tries run out.

        The last answer is returned as it is; a connection that keeps
        failing raises its last error.
        """
        for attempt in range(self.attempts):
            last = attempt == self.attempts - 1
            try:
                response = call()
            except httpx.TransportError as exc:
                if last:
                    raise
                self._wait(attempt, f"{type(exc).__name__}: {exc}", None)
                continue
            if last or not retryable(response):
                return response
            response.read()
            self._wait(attempt, f"HTTP {response.status_code}", _retry_after(response))
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _wait(self, attempt: int, reason: str, retry_after: float | None) -> None:
        if self.on_retry is not None:
            self.on_retry(attempt + 1, reason)
        self.sleep(self.delay(attempt, retry_after))


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return min(float(value), 60.0)
    except ValueError:
        return None
