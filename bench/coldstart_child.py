"""One cold start: a fresh process imports an app and serves one request.

    python -m bench.coldstart_child SPEC.json RESULT.json

SPEC names the module (`app`, or `bench.floor_app` for the floor) and the
Lambda event; RESULT gets the moments (on the system-wide monotonic clock,
which the parent reads too) at which this process began its work, had
imported the app, and had answered, with the AWS clients built by then.
"""

from __future__ import annotations

import time

BEGAN = time.monotonic()

import importlib  # noqa: E402 - the clock starts first
import json  # noqa: E402
import sys  # noqa: E402
import traceback  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402


def _serve(module: Any, spec: dict[str, Any]) -> dict[str, Any]:
    from bench.events import LambdaContext

    context = LambdaContext(spec.get("handler") or "api")
    if spec["handler"]:
        getattr(module, spec["handler"])(spec["event"], context)
        return {"status": None}
    answer = module.app(spec["event"], context)
    return {"status": answer["statusCode"], "body": answer.get("body", "")[:300]}


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[1]).read_text())
    from bench.recorder import Recorder

    recorder = Recorder().install()
    result: dict[str, Any] = {"began": BEGAN}
    try:
        module = importlib.import_module(spec["module"])
        result["imported"] = time.monotonic()
        result["clients_at_import"] = list(recorder.clients_built)
        result |= _serve(module, spec)
        result["answered"] = time.monotonic()
        result["clients"] = list(recorder.clients_built)
    except Exception:
        result["error"] = traceback.format_exc(limit=5)
    Path(argv[2]).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
