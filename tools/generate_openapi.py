"""Write the OpenAPI description of the API from its pydantic models.

python tools/generate_openapi.py          # rewrite chalicelib/openapi.json
python tools/generate_openapi.py --check  # exit 1 if the file is stale
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chalicelib import api  # noqa: E402
from chalicelib.openapi import DOCUMENT_PATH  # noqa: E402
from chalicelib.web import IDEMPOTENCY_KEY_PATTERN  # noqa: E402

REF = "#/components/schemas/{model}"

ERRORS = {
    "400": "The request is malformed or breaks a rule; Details says which.",
    "401": "No valid ID token: refresh the session once, then sign in again.",
    "403": "The file would take the caller past their quota; Details says "
    "where they stand (see GET /usage).",
    "404": "No such file for this caller.",
    "409": "The name is taken by another live file, or the file is in no "
    "state for this request; Details names it.",
    "410": "The changes after this cursor expired: list again, then follow "
    "GET /changes/latest.",
    "413": "The request body is too large; bytes go to the presigned URL.",
    "414": "The URL is too long: the HTTP server in front of the API refuses it "
    "before the API runs, so the body may not be JSON.",
    "415": "The request body is not application/json.",
    "422": "The Idempotency-Key was sent before with a different request.",
    "503": "A dependency failed; nothing changed, try again.",
}

# Answered in front of the API (API Gateway, or `chalice local`'s HTTP server),
# so no body schema is promised for them.
FRONT_DOOR_ERRORS = {"414"}

# (path, method) -> what the route takes and answers.
ROUTES: dict[tuple[str, str], dict[str, Any]] = {
    ("/files", "post"): {
        "summary": "Create a file and get a presigned upload form",
        "body": api.CreateFileRequest,
        "answer": (201, api.CreatedFile),
        "headers": [
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": (
                    "Send the same key again with the same request, within 24 "
                    "hours, to get the same file back (with a fresh upload "
                    "form) rather than a second file or a 409."
                ),
                "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN},
            }
        ],
        "errors": ["400", "401", "403", "409", "413", "414", "415", "422", "503"],
    },
    ("/files", "get"): {
        "summary": "List available files, one page at a time",
        "query": api.ListFilesQuery,
        "answer": (200, api.FileListing),
        "errors": ["400", "401", "414", "503"],
    },
    ("/files/{file_id}", "get"): {
        "summary": "Describe a file; an available one comes with a download URL",
        "answer": (200, api.FileDetails),
        "errors": ["401", "404", "414", "503"],
    },
    ("/files/{file_id}", "patch"): {
        "summary": "Rename or move a file (the index changes; the bytes stay)",
        "body": api.RenameFileRequest,
        "answer": (200, api.FileView),
        "errors": ["400", "401", "404", "409", "413", "414", "415", "503"],
    },
    ("/files/{file_id}/trash", "post"): {
        "summary": "Move an available file to the trash (its name is freed)",
        "answer": (200, api.FileView),
        "errors": ["400", "401", "404", "409", "414", "503"],
    },
    ("/files/{file_id}/restore", "post"): {
        "summary": "Bring a file back from the trash, under a free name",
        "answer": (200, api.FileView),
        "errors": ["400", "401", "404", "409", "414", "503"],
    },
    ("/trash", "get"): {
        "summary": "List the caller's trashed files, most recent first",
        "query": api.TrashQuery,
        "answer": (200, api.TrashListing),
        "errors": ["400", "401", "414", "503"],
    },
    ("/files/{file_id}", "delete"): {
        "summary": "Delete a file (asynchronously, once the command is accepted)",
        "answer": (202, api.DeleteAccepted),
        "errors": ["401", "404", "409", "414", "503"],
    },
    ("/usage", "get"): {
        "summary": "What the caller stores, beside their quota",
        "answer": (200, api.UsageView),
        "errors": ["401", "414", "503"],
    },
    ("/changes", "get"): {
        "summary": "What changed in the caller's files after a cursor",
        "query": api.ChangesQuery,
        "answer": (200, api.ChangesView),
        "errors": ["400", "401", "410", "414", "503"],
    },
    ("/changes/latest", "get"): {
        "summary": "A cursor at the latest change, reading no history",
        "answer": (200, api.LatestCursor),
        "errors": ["401", "414", "503"],
    },
}

MODELS: list[type[BaseModel]] = [
    api.CreateFileRequest,
    api.CreatedFile,
    api.FileListing,
    api.FileDetails,
    api.RenameFileRequest,
    api.FileView,
    api.TrashListing,
    api.DeleteAccepted,
    api.ChangesView,
    api.LatestCursor,
    api.UsageView,
    api.ErrorBody,
]


def _json_response(description: str, model: type[BaseModel]) -> dict[str, Any]:
    schema = {"$ref": REF.format(model=model.__name__)}
    return {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema()
    return [
        {"name": name, "in": "query", "required": False, "schema": prop}
        for name, prop in schema["properties"].items()
    ]


def _operation(path: str, spec: dict[str, Any]) -> dict[str, Any]:
    status, model = spec["answer"]
    operation: dict[str, Any] = {
        "summary": spec["summary"],
        "security": [{"CognitoIdToken": []}],
        "parameters": [
            {
                "name": "X-Trace-Id",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"},
            }
        ],
        "responses": {str(status): _json_response("Success", model)},
    }
    if "{file_id}" in path:
        operation["parameters"].append(
            {
                "name": "file_id",
                "in": "path",
                "required": True,
                "schema": {"type": "string"},
            }
        )
    operation["parameters"] += spec.get("headers", [])
    if "query" in spec:
        operation["parameters"] += _query_parameters(spec["query"])
    if "body" in spec:
        operation["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": REF.format(model=spec["body"].__name__)}
                }
            },
        }
    for code in spec["errors"]:
        operation["responses"][code] = (
            {"description": ERRORS[code]}
            if code in FRONT_DOOR_ERRORS
            else _json_response(ERRORS[code], api.ErrorBody)
        )
    return operation


def build_document() -> dict[str, Any]:
    _, schemas = models_json_schema(
        [
            (m, "validation" if m is api.CreateFileRequest else "serialization")
            for m in MODELS
        ],
        ref_template=REF,
    )
    paths: dict[str, dict[str, Any]] = {}
    for (path, method), spec in ROUTES.items():
        paths.setdefault(path, {})[method] = _operation(path, spec)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "File manager API",
            "version": "1.0.0",
            "description": (
                "Create, list, read and delete files. Bytes travel to and from "
                "S3 through presigned URLs; this API carries metadata only."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": schemas["$defs"],
            "securitySchemes": {
                "CognitoIdToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "A Cognito ID token, raw or after 'Bearer '.",
                }
            },
        },
    }


def render() -> str:
    return json.dumps(build_document(), indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    if args.check:
        if DOCUMENT_PATH.read_text(encoding="utf-8") != render():
            print(f"{DOCUMENT_PATH} is stale: run python tools/generate_openapi.py")
            return 1
        return 0
    DOCUMENT_PATH.write_text(render(), encoding="utf-8")
    print(f"wrote {DOCUMENT_PATH.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
