"""JSON-line logging for the local stack's own processes.

The runner's lines sit next to the app's in one terminal and in test logs, so
they use the app's own formatter (one JSON object per line) and can be
filtered the same way. Library modules only log; the entry points call `configure`.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from chalicelib.logs import JsonLineFormatter


def configure(level: str = "INFO", stream: TextIO | None = None) -> None:
    """Send the `devstack` loggers to `stream` (stdout) as JSON lines, once."""
    logger = logging.getLogger("devstack")
    if any(isinstance(h.formatter, JsonLineFormatter) for h in logger.handlers):
        return
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonLineFormatter())
    logger.addHandler(handler)
    logger.setLevel(level.upper())
    logger.propagate = False
