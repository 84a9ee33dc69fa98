"""Who may call: only a valid Cognito ID token of our pool and app client.

Whatever is wrong with the token, the answer is the same 401 with a JSON
body (case 9), never a 500 or a dropped connection.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
from collections.abc import Callable
from typing import Any

import pytest
from chalice.test import Client
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.utils import base64url_encode

from chalicelib import bootstrap
from tests.app.conftest import ALICE, KID, Tokens, new_rsa_key

FILE_PATH = "/files/0123456789abcdef0123456789abcdef"
ROUTES = [
    ("GET", "/files"),
    ("POST", "/files"),
    ("GET", FILE_PATH),
    ("DELETE", FILE_PATH),
]
INVALID = "token is not a valid ID token for this app"


@pytest.fixture(scope="module")
def stranger_key() -> rsa.RSAPrivateKey:
    return new_rsa_key()


def _hs256_signed_with_our_public_key(tokens: Tokens) -> str:
    """The algorithm-confusion forgery: HMAC keyed with the published RSA key."""
    secret = tokens.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "typ": "JWT", "kid": KID}
    signing_input = b".".join(
        base64url_encode(json.dumps(part).encode())
        for part in (header, tokens.claims(ALICE))
    )
    signature = hmac.new(secret, signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + base64url_encode(signature)).decode()


def _unsigned(tokens: Tokens) -> str:
    header = {"alg": "none", "typ": "JWT", "kid": KID}
    parts = (
        base64url_encode(json.dumps(p).encode()) for p in (header, tokens.claims(ALICE))
    )
    return (b".".join(parts) + b".").decode()


Header = Callable[[Tokens, rsa.RSAPrivateKey], str | None]
BAD_HEADERS: dict[str, tuple[Header, str]] = {
    "no header": (
        lambda t, k: None,
        "missing Authorization header with an ID token",
    ),
    "empty header": (lambda t, k: "", "missing Authorization header with an ID token"),
    "bearer and nothing": (
        lambda t, k: "Bearer ",
        "Authorization header holds no token",
    ),
    "garbage": (lambda t, k: "garbage", INVALID),
    "bearer garbage": (lambda t, k: "Bearer not.a.token", INVALID),
    "signed by another key under our key id": (
        lambda t, k: t.id_token(key=k),
        INVALID,
    ),
    "signed by another key under an unknown key id": (
        lambda t, k: t.id_token(key=k, kid="someone-elses-key"),
        INVALID,
    ),
    "another app client": (lambda t, k: t.id_token(aud="another-client"), INVALID),
    "another user pool": (
        lambda t, k: t.id_token(iss="https://cognito-idp.us-east-1.amazonaws.com/x"),
        INVALID,
    ),
    "access token as cognito issues it": (
        lambda t, k: t.id_token(
            token_use="access", aud=None, client_id="test-app-client-id"
        ),
        INVALID,
    ),
    "access token with an audience": (
        lambda t, k: t.id_token(token_use="access"),
        "an ID token is required, not an access token",
    ),
    "no token use": (lambda t, k: t.id_token(token_use=None), INVALID),
    "expired an hour ago": (
        lambda t, k: t.id_token(exp=int(time.time()) - 3600),
        INVALID,
    ),
    "issued in the future": (
        lambda t, k: t.id_token(iat=int(time.time()) + 3600),
        INVALID,
    ),
    "no subject": (lambda t, k: t.id_token(sub=""), "token has no subject"),
    "hs256 signed with the public key": (
        lambda t, k: _hs256_signed_with_our_public_key(t),
        INVALID,
    ),
    "unsigned": (lambda t, k: _unsigned(t), INVALID),
}


def _call(client: Client, method: str, path: str, headers: dict[str, str]) -> Any:
    if method == "POST":
        headers = headers | {"Content-Type": "application/json"}
        body = json.dumps({"name": "a.txt", "size": 1})
        return client.http.request(method, path, headers=headers, body=body.encode())
    return client.http.request(method, path, headers=headers)


@pytest.mark.parametrize("case", list(BAD_HEADERS))
def test_a_bad_or_missing_token_is_a_json_401(
    client: Client,
    tokens: Tokens,
    stranger_key: rsa.RSAPrivateKey,
    aws: None,
    case: str,
) -> None:
    make_header, message = BAD_HEADERS[case]
    header = make_header(tokens, stranger_key)
    headers = {} if header is None else {"Authorization": header}

    answer = client.http.get("/files", headers=headers)

    assert answer.status_code == 401
    assert answer.json_body == {"Code": "Unauthorized", "Message": message}
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.headers["WWW-Authenticate"] == 'Bearer realm="filemanager"'
    assert len(answer.headers["X-Trace-Id"]) == 32


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_file_route_turns_a_garbage_token_away(
    client: Client, aws: None, method: str, path: str
) -> None:
    answer = _call(client, method, path, {"Authorization": "garbage"})

    assert answer.status_code == 401
    assert answer.json_body == {"Code": "Unauthorized", "Message": INVALID}


@pytest.mark.parametrize("scheme", ["Bearer ", "bearer ", ""])
def test_a_valid_id_token_is_taken_raw_or_after_bearer(
    client: Client, tokens: Tokens, stack: object, scheme: str
) -> None:
    headers = {"Authorization": scheme + tokens.id_token()}

    answer = client.http.get("/files", headers=headers)

    assert answer.status_code == 200


def test_a_token_expired_by_a_few_seconds_is_still_good(
    client: Client, tokens: Tokens, stack: object
) -> None:
    token = tokens.id_token(exp=int(time.time()) - 5)

    answer = client.http.get("/files", headers={"Authorization": token})

    assert answer.status_code == 200


def test_when_the_signing_keys_cannot_be_fetched_the_answer_is_a_json_503(
    client: Client, tokens: Tokens, aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    monkeypatch.setenv("COGNITO_JWKS_URL", f"http://127.0.0.1:{closed_port}/jwks")
    bootstrap.reset()  # settings are read once per process

    answer = client.http.get("/files", headers=tokens.headers())

    assert answer.status_code == 503
    assert answer.json_body == {
        "Code": "ServiceUnavailable",
        "Message": "could not fetch the keys that verify tokens; try again",
    }


def test_the_openapi_document_is_public(client: Client) -> None:
    answer = client.http.get("/openapi.json")

    assert answer.status_code == 200
    assert answer.json_body["openapi"].startswith("3.")
    assert set(answer.json_body["paths"]) == {
        "/files",
        "/files/{file_id}",
        "/files/{file_id}/trash",
        "/files/{file_id}/restore",
        "/trash",
        "/changes",
        "/changes/latest",
        "/usage",
    }
