"""The API's OpenAPI description: generated from the models, committed, served.

`tools/generate_openapi.py` writes `openapi.json` beside this module from the
request and response models; a test fails when the committed file and the
models disagree.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from pydantic import RootModel

DOCUMENT_PATH = Path(__file__).with_name("openapi.json")


class OpenApiDocument(RootModel[dict[str, Any]]):
    pass


@functools.cache
def load_openapi() -> OpenApiDocument:
    return OpenApiDocument(json.loads(DOCUMENT_PATH.read_text(encoding="utf-8")))
