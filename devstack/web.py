"""The web page's static server: `web/` on a port (and origin) of its own.

    python -m devstack.web --port 8080 --root web --config .local/web-config.json

It serves the folder as any static host would, except `/config.json`, which
comes from the stack's own values (the API's URL, moto's Cognito endpoint,
the pool and client ids), written by the supervisor at start. Nothing is
cached, so an edit to the page shows on the next reload.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Mapping, Sequence
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

CONFIG_PATH = "/config.json"


def page_config(state: Mapping[str, Any]) -> dict[str, Any]:
    """What the page needs to know about a stack, in the page's own terms."""
    return {
        "apiUrl": state["api_url"],
        "region": state["region"],
        "cognitoEndpoint": state["aws_endpoint_url"],
        "userPoolId": state["user_pool_id"],
        "clientId": state["user_pool_client_id"],
        # Only the local stack has a demo user, so the page can say who.
        "demoUser": state["demo_user"]["username"],
        "demoPassword": state["demo_user"]["password"],
    }


class PageHandler(SimpleHTTPRequestHandler):
    def __init__(self, *args: Any, config_file: Path, **kwargs: Any) -> None:
        self._config_file = config_file
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] == CONFIG_PATH:
            self._send_config()
            return
        super().do_GET()

    def _send_config(self) -> None:
        body = self._config_file.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        # One line per request on stderr, as the base class does, but only
        # for failures: the page's own requests would drown the stack's log.
        if len(args) > 1 and str(args[1]).startswith(("4", "5")):
            super().log_message(format, *args)


def serve(host: str, port: int, root: Path, config_file: Path) -> None:
    handler = functools.partial(
        PageHandler, directory=str(root), config_file=config_file
    )
    with ThreadingHTTPServer((host, port), handler) as server:
        server.serve_forever()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.web")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--config", type=Path, required=True)
    args = parser.parse_args(argv)
    json.loads(args.config.read_text())  # refuse to serve a broken config
    try:
        serve(args.host, args.port, args.root, args.config)
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
