"""Property-based fuzzing of the running local stack from its OpenAPI document.

Schemathesis reads the committed description (`chalicelib/openapi.json`),
generates valid and invalid requests for every operation, sends them with a
valid ID token, and checks each answer: never a 5xx, a status the document
lists for the operation, and a body that matches the schema it gives.

Each operation gets schemathesis's coverage phase (boundary values, missing
and repeated parameters, unexpected methods) and at most MAX_EXAMPLES
generated requests, which keeps the module around half a minute on two
cores. A different seed each run explores more over time; a failure prints
the request that reproduces it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from chalicelib.openapi import DOCUMENT_PATH
from devstack.auth import id_token
from tests.e2e.helpers import HTTP_TIMEOUT

pytestmark = pytest.mark.e2e

# Generated requests per operation, valid and invalid ones together.
MAX_EXAMPLES = 100
CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {
            "mode": "all",
            "max-examples": MAX_EXAMPLES,
            # The token is ours to send; no example database is kept.
            "with-security-parameters": False,
            "database": "none",
        },
        "phases": {
            "coverage": {
                "generate-duplicate-query-parameters": True,
                # Not TRACE: `chalice local`'s HTTP server answers it with a
                # bare 501 before any route, which API Gateway never does.
                "unexpected-methods": ["DELETE", "PATCH", "POST", "PUT"],
            },
            "stateful": {"enabled": False},
        },
        # A busy two-core machine makes generation slow; the API is what we test.
        "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
    }
)
SCHEMA = schemathesis.openapi.from_path(DOCUMENT_PATH, config=CONFIG)
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def signed_in(stack: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": id_token(stack)}


def test_the_stack_serves_the_committed_openapi_document(
    stack: dict[str, Any],
) -> None:
    served = requests.get(f"{stack['api_url']}/openapi.json", timeout=HTTP_TIMEOUT)

    assert served.status_code == 200
    assert served.json() == json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))


@SCHEMA.parametrize()
def test_every_operation_answers_as_documented_and_never_with_a_5xx(
    case: schemathesis.Case, stack: dict[str, Any], signed_in: dict[str, str]
) -> None:
    case.call_and_validate(
        base_url=stack["api_url"],
        headers=signed_in,
        checks=CHECKS,
        timeout=HTTP_TIMEOUT,
    )
