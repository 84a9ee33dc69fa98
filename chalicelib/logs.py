"""Structured logging: one JSON object per line, with the current trace id.

Lambda sends stdout to CloudWatch Logs, where Logs Insights can query JSON
fields directly; the same lines are readable in the local stack's terminal.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

from chalicelib.tracing import current_trace_id

# Attributes every LogRecord has; anything else passed through `extra=` is a
# structured field of ours.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
) | {"message", "asctime", "taskName"}


class JsonLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "trace_id": current_trace_id(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def configure_logging() -> None:
    """Send the package's logs to stdout as JSON lines, once per process."""
    package_logger = logging.getLogger("chalicelib")
    if any(isinstance(h.formatter, JsonLineFormatter) for h in package_logger.handlers):
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonLineFormatter())
    package_logger.addHandler(handler)
    package_logger.setLevel(os.environ.get("LOG_LEVEL", "INFO").upper())
    # Lambda's and chalice local's root handlers would print each line twice.
    package_logger.propagate = False
