"""What a browser needs to let the page talk to the bucket and the API.

moto's server answers CORS for any origin, so the page's browser test
alone would pass with no rule at all. These tests read the rules that are
configured (the local stack's and the deployed template's) and evaluate
them as S3 does, for the page's origin, methods and headers.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any

import pytest
import requests

from chalicelib.web import CORS
from devstack.resources import BUCKET_CORS_RULES
from infra.template import BUCKET as FILES_BUCKET
from infra.template import template
from tests.e2e.helpers import HTTP_TIMEOUT
from tests.e2e.stack import ROOT

PAGE_SCRIPT = ROOT / "web" / "app.js"
LOCAL_PAGE_ORIGIN = "http://127.0.0.1:8080"
DEPLOYED_PAGE_ORIGIN = "https://files.example.com"
# The page POSTs the presigned form with upload progress listeners, which
# makes the browser ask first; a download is a plain navigation (GET).
BUCKET_METHODS = ("POST", "GET")
# FormData's own Content-Type is all the upload sends.
BUCKET_REQUEST_HEADERS = ("content-type",)
# What the page may read of S3's answers.
BUCKET_EXPOSED = ("ETag",)
# What the page sends the API (besides the simple headers).
API_REQUEST_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key")


def s3_rule_for(
    rules: list[dict[str, Any]], origin: str, method: str, headers: tuple[str, ...]
) -> dict[str, Any] | None:
    """The first rule that lets this preflight through, as S3 matches them.

    An origin or a header may carry one `*` wildcard; headers match
    case-insensitively; methods exactly.
    """
    for rule in rules:
        origins = rule.get("AllowedOrigins", [])
        allowed_headers = [h.lower() for h in rule.get("AllowedHeaders", [])]
        if not any(fnmatch.fnmatchcase(origin, pattern) for pattern in origins):
            continue
        if method not in rule.get("AllowedMethods", []):
            continue
        if all(
            any(fnmatch.fnmatchcase(h.lower(), p) for p in allowed_headers)
            for h in headers
        ):
            return rule
    return None


def deployed_rules(origins: list[str]) -> list[dict[str, Any]]:
    """The template's bucket rules with its AllowedOrigins parameter set,
    spelled as the S3 API spells them."""
    names = {"ExposedHeaders": "ExposeHeaders", "MaxAge": "MaxAgeSeconds", "Id": "ID"}
    # The files' bucket: the stack has another, for the deploy's own state.
    bucket = template()["Resources"][FILES_BUCKET]
    rules = bucket["Properties"]["CorsConfiguration"]["CorsRules"]
    resolved = []
    for rule in rules:
        assert rule["AllowedOrigins"] == {"Ref": "AllowedOrigins"}
        converted = {names.get(key, key): value for key, value in rule.items()}
        converted["AllowedOrigins"] = origins
        resolved.append(converted)
    return resolved


@pytest.mark.parametrize(
    ("where", "rules", "origin"),
    [
        ("local stack", BUCKET_CORS_RULES, LOCAL_PAGE_ORIGIN),
        ("deployed, default origins", deployed_rules(["*"]), DEPLOYED_PAGE_ORIGIN),
        (
            "deployed, the page's origin named",
            deployed_rules([DEPLOYED_PAGE_ORIGIN]),
            DEPLOYED_PAGE_ORIGIN,
        ),
    ],
)
def test_the_bucket_lets_the_page_upload_and_read_etags(
    where: str, rules: list[dict[str, Any]], origin: str
) -> None:
    for method in BUCKET_METHODS:
        rule = s3_rule_for(rules, origin, method, BUCKET_REQUEST_HEADERS)

        assert rule is not None, f"{where}: no CORS rule lets {origin} {method}"
        exposed = {h.lower() for h in rule.get("ExposeHeaders", [])}
        assert {h.lower() for h in BUCKET_EXPOSED} <= exposed, where


def test_a_deployed_bucket_naming_its_page_refuses_other_origins() -> None:
    rules = deployed_rules([DEPLOYED_PAGE_ORIGIN])

    assert s3_rule_for(rules, "https://evil.example.net", "POST", ()) is None


def test_the_api_allows_every_header_the_page_sends() -> None:
    granted = CORS.get_access_control_headers()["Access-Control-Allow-Headers"]
    allowed = {h.strip().lower() for h in granted.split(",")}
    script = PAGE_SCRIPT.read_text()

    for header in API_REQUEST_HEADERS:
        assert re.search(rf"\b{header}\b", script), f"the page sends no {header}"
        assert header.lower() in allowed, f"the API does not allow {header}"


@pytest.mark.e2e
def test_the_running_stack_answers_the_pages_preflights(stack: dict[str, Any]) -> None:
    origin = stack["web_url"]
    checks = [
        (
            f"{stack['api_url']}/files",
            "POST",
            "authorization,content-type,idempotency-key",
        ),
        (f"{stack['api_url']}/files", "GET", "authorization"),
        (
            f"{stack['api_url']}/files/0123456789abcdef0123456789abcdef",
            "DELETE",
            "authorization",
        ),
        (
            f"{stack['api_url']}/files/0123456789abcdef0123456789abcdef",
            "PATCH",
            "authorization,content-type",
        ),
        (
            f"{stack['api_url']}/files/0123456789abcdef0123456789abcdef/trash",
            "POST",
            "authorization",
        ),
        (
            f"{stack['api_url']}/files/0123456789abcdef0123456789abcdef/restore",
            "POST",
            "authorization",
        ),
        (f"{stack['api_url']}/trash", "GET", "authorization"),
        (f"{stack['api_url']}/changes", "GET", "authorization"),
        (f"{stack['aws_endpoint_url']}/{stack['bucket']}", "POST", ""),
    ]
    for url, method, headers in checks:
        answer = requests.options(
            url,
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": headers,
            },
            timeout=HTTP_TIMEOUT,
        )

        assert answer.status_code in (200, 204), (url, method, answer.text)
        assert answer.headers["Access-Control-Allow-Origin"] in ("*", origin), url
        assert method in answer.headers["Access-Control-Allow-Methods"].replace(" ", "")
        granted = answer.headers.get("Access-Control-Allow-Headers", "").lower()
        for header in filter(None, headers.split(",")):
            assert header in granted or granted == "*", (url, header)
