"""A moto server process that says when *it* is listening.

`python -m moto.server` binds its port only after importing moto, a second
or two after it starts; a supervisor polling the port in that window can get
its answer from another moto already there (a developer's stack) and then
provision into the wrong server. This process binds first, then writes a
ready file, and exits at once if the port is taken.

    python -m devstack.moto_server --port 5005 --ready-file PATH
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

# The JSON protocol's name for SQS ReceiveMessage, as boto3 sends it.
LONG_POLL_TARGET = "AmazonSQS.ReceiveMessage"


class OneRequestAtATime:
    """Serve moto's requests one after another, on concurrent connections.

    moto's backends are not thread-safe: two TransactWriteItems at once (the
    API and the event runner, or a few clients) break its table copy with
    "dictionary changed size during iteration", and the caller gets a 500.

    SQS's ReceiveMessage is let through: a long poll waits on its queue's own
    condition, which moto's queues are built for. Under the lock, each of the
    event runner's long polls would stall every other request for its whole
    wait (seconds per call), and no message could arrive to end it early.
    """

    def __init__(self, app: Any) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ.get("HTTP_X_AMZ_TARGET") == LONG_POLL_TARGET:
            return list(self._app(environ, start_response))
        with self._lock:
            return list(self._app(environ, start_response))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.moto_server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ready-file", type=Path, required=True)
    args = parser.parse_args(argv)
    app = OneRequestAtATime(DomainDispatcherApplication(create_backend_app))
    try:
        server = make_server(
            args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler
        )
    except OSError as exc:
        print(f"moto: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _exit)
    signal.signal(signal.SIGINT, _exit)
    args.ready_file.write_text(f"{args.host}:{args.port}\n")
    try:
        server.serve_forever()
    except SystemExit:
        pass
    finally:
        server.server_close()
    return 0


def _exit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


if __name__ == "__main__":
    sys.exit(main())
