"""Isolation over HTTP: one user never reaches another's files, and only a
valid ID token of our app client gets in.

Case 10 (user B asks for, downloads or deletes user A's file) and case 9
(tokens that must be refused with a JSON 401, in `chalice local` too) of the
shared cases, played against the whole local stack.

Tokens: a forged one is signed by a key of our own; an expired one is signed
by the very key moto's user pool signs with (moto ships it), with the right
`kid`, so that only its expiry is wrong; the token of another app client
comes from a second app client created in the stack's own pool.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from devstack.auth import add_user
from tests.e2e.helpers import (
    HTTP_TIMEOUT,
    Inspector,
    User,
    available_file,
    create_file,
    demo_user,
    describe,
    error_of,
    id_claims,
    mint,
    moto_signing_key,
    new_user,
    stranger_key,
    subject_of,
    upload,
)
from tests.e2e.stack import aws_client, wait_until

pytestmark = pytest.mark.e2e

ROUTES = [
    ("POST", "/files"),
    ("GET", "/files"),
    ("GET", "/files/{file_id}"),
    ("PATCH", "/files/{file_id}"),
    ("POST", "/files/{file_id}/trash"),
    ("POST", "/files/{file_id}/restore"),
    ("GET", "/trash"),
    ("DELETE", "/files/{file_id}"),
    ("GET", "/changes"),
    ("GET", "/changes/latest"),
    ("GET", "/usage"),
]
PASSWORD = "Isolation-password-1"


# --- the two users and their files --------------------------------------------


@pytest.fixture(scope="module")
def alice(stack: dict[str, Any]) -> User:
    return demo_user(stack)


@pytest.fixture(scope="module")
def bob(stack: dict[str, Any]) -> User:
    return new_user(stack, "bob")


@pytest.fixture(scope="module")
def alice_file(stack: dict[str, Any], alice: User) -> dict[str, Any]:
    """One of A's two files (two, so that her listing has two pages of one)."""
    available_file(stack, alice, "alice-private/second.txt")
    return available_file(stack, alice, "alice-private/diary 2026.txt")


@pytest.fixture(scope="module")
def bob_file(stack: dict[str, Any], bob: User) -> dict[str, Any]:
    """One of B's two files."""
    available_file(stack, bob, "bob-public/more.txt")
    return available_file(stack, bob, "bob-public/notes.txt")


def call(
    stack: dict[str, Any],
    method: str,
    path: str,
    headers: dict[str, str],
    **kwargs: Any,
) -> requests.Response:
    return requests.request(
        method, stack["api_url"] + path, headers=headers, timeout=HTTP_TIMEOUT, **kwargs
    )


def every_listed(
    stack: dict[str, Any], user: User, **params: str
) -> tuple[list[dict[str, Any]], list[str]]:
    """Every item and folder of a listing, page after page."""
    items: list[dict[str, Any]] = []
    folders: list[str] = []
    cursor = None
    while True:
        query = {**params, "limit": "2", **({"cursor": cursor} if cursor else {})}
        answer = call(stack, "GET", "/files", user.headers, params=query)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        items += page["items"]
        folders += [folder["name"] for folder in page["folders"]]
        cursor = page["next_cursor"]
        if not cursor:
            return items, folders


def comparable(answer: requests.Response, requested_id: str) -> tuple[Any, ...]:
    """An answer as a client sees it, minus what differs on every request."""
    headers = {
        name.lower(): value
        for name, value in answer.headers.items()
        if name.lower() not in {"x-trace-id", "date"}
    }
    body = answer.text.replace(requested_id, "<file id>")
    return answer.status_code, sorted(headers.items()), body


def first_cursor(stack: dict[str, Any], user: User) -> str:
    answer = call(stack, "GET", "/files", user.headers, params={"limit": "1"})
    assert answer.status_code == 200, answer.text
    cursor = answer.json()["next_cursor"]
    assert cursor, answer.text
    return str(cursor)


def feed(stack: dict[str, Any], user: User, cursor: str | None = None) -> Any:
    params = {"cursor": cursor} if cursor else {}
    answer = call(stack, "GET", "/changes", user.headers, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


# --- user B and user A's files ------------------------------------------------


def test_another_user_lists_none_of_a_users_files_or_folders(
    stack: dict[str, Any], alice: User, bob: User, alice_file: Any, bob_file: Any
) -> None:
    everything, _ = every_listed(stack, bob)
    in_alices_folder, _ = every_listed(stack, bob, prefix="alice-private/")
    _, top_folders = every_listed(stack, bob, delimiter="/")

    assert [item["name"] for item in everything] == [
        "bob-public/more.txt",
        "bob-public/notes.txt",
    ]
    assert in_alices_folder == []
    assert top_folders == ["bob-public/"]
    alices, _ = every_listed(stack, alice, prefix="alice-private/")
    assert alice_file["file_id"] in [item["file_id"] for item in alices]


def test_a_users_file_reads_to_another_user_exactly_as_an_unknown_id(
    stack: dict[str, Any], alice: User, bob: User, alice_file: Any
) -> None:
    unknown = uuid.uuid4().hex

    hers = describe(stack, bob, alice_file["file_id"])
    nobodys = describe(stack, bob, unknown)

    assert hers.status_code == 404
    assert error_of(hers)["Code"] == "FileNotFound"
    assert "download_url" not in hers.text
    assert comparable(hers, alice_file["file_id"]) == comparable(nobodys, unknown)


def test_another_user_cannot_delete_a_users_file_and_learns_nothing_trying(
    stack: dict[str, Any], alice: User, bob: User, alice_file: Any
) -> None:
    unknown = uuid.uuid4().hex
    before = Inspector(stack).settle()

    hers = call(stack, "DELETE", f"/files/{alice_file['file_id']}", bob.headers)
    nobodys = call(stack, "DELETE", f"/files/{unknown}", bob.headers)

    assert hers.status_code == 404
    assert error_of(hers)["Code"] == "FileNotFound"
    assert comparable(hers, alice_file["file_id"]) == comparable(nobodys, unknown)
    assert Inspector(stack).snapshot() == before
    still = describe(stack, alice, alice_file["file_id"])
    assert still.json()["status"] == "AVAILABLE"
    assert still.json()["download_url"]


def test_another_user_cannot_rename_a_users_file_and_learns_nothing_trying(
    stack: dict[str, Any], alice: User, bob: User, alice_file: Any
) -> None:
    unknown = uuid.uuid4().hex
    before = Inspector(stack).settle()
    body = {"name": "bob-public/taken.txt"}

    hers = call(
        stack, "PATCH", f"/files/{alice_file['file_id']}", bob.headers, json=body
    )
    nobodys = call(stack, "PATCH", f"/files/{unknown}", bob.headers, json=body)

    assert hers.status_code == 404
    assert error_of(hers)["Code"] == "FileNotFound"
    assert comparable(hers, alice_file["file_id"]) == comparable(nobodys, unknown)
    assert Inspector(stack).snapshot() == before
    assert (
        describe(stack, alice, alice_file["file_id"]).json()["name"]
        == (alice_file["name"])
    )


def test_another_user_can_neither_trash_nor_restore_nor_see_a_users_trash(
    stack: dict[str, Any], alice: User, bob: User, alice_file: Any
) -> None:
    unknown = uuid.uuid4().hex
    before = Inspector(stack).settle()

    for action in ("trash", "restore"):
        hers = call(
            stack, "POST", f"/files/{alice_file['file_id']}/{action}", bob.headers
        )
        nobodys = call(stack, "POST", f"/files/{unknown}/{action}", bob.headers)
        assert hers.status_code == 404
        assert comparable(hers, alice_file["file_id"]) == comparable(nobodys, unknown)
    bobs_trash = call(stack, "GET", "/trash", bob.headers)

    assert bobs_trash.json()["items"] == []
    assert Inspector(stack).snapshot() == before
    assert describe(stack, alice, alice_file["file_id"]).json()["status"] == (
        "AVAILABLE"
    )


def test_a_name_a_user_holds_is_free_for_another_user_so_no_409_tells_it_exists(
    stack: dict[str, Any], bob: User, alice_file: Any
) -> None:
    created = create_file(stack, bob, alice_file["name"])

    assert created["name"] == alice_file["name"]
    gone = call(stack, "DELETE", f"/files/{created['file_id']}", bob.headers)
    assert gone.status_code == 202, gone.text


def test_another_users_change_feed_never_shows_a_users_changes(
    stack: dict[str, Any], alice: User, bob: User, bob_file: Any
) -> None:
    Inspector(stack).settle()  # B's own deletes of earlier tests are recorded
    bobs_start = call(stack, "GET", "/changes/latest", bob.headers).json()["cursor"]
    alices_start = call(stack, "GET", "/changes/latest", alice.headers).json()["cursor"]
    created = create_file(stack, alice, "alice-private/short-lived.txt")
    upload(created)
    wait_until(
        lambda: (
            describe(stack, alice, created["file_id"]).json().get("status")
            == "AVAILABLE"
        ),
        "A's short-lived file to become AVAILABLE",
    )
    deleted = call(stack, "DELETE", f"/files/{created['file_id']}", alice.headers)
    assert deleted.status_code == 202, deleted.text

    def alice_saw_it_deleted() -> bool:
        changes = feed(stack, alice, alices_start)["changes"]
        return ("deleted", created["file_id"]) in {
            (c["type"], c["file_id"]) for c in changes
        }

    wait_until(alice_saw_it_deleted, "A's feed to show the delete")
    assert feed(stack, bob, bobs_start)["changes"] == []
    bobs_ids = {c["file_id"] for c in feed(stack, bob)["changes"]}
    alices_ids = {c["file_id"] for c in feed(stack, alice)["changes"]}
    assert bob_file["file_id"] in bobs_ids
    assert created["file_id"] in alices_ids
    assert not bobs_ids & alices_ids


def test_a_users_usage_counts_only_their_own_files(
    stack: dict[str, Any], bob: User, alice_file: Any
) -> None:
    newcomer = new_user(stack, "isolation-usage")
    before = call(stack, "GET", "/usage", newcomer.headers).json()
    mine = create_file(stack, newcomer, alice_file["name"])

    after = call(stack, "GET", "/usage", newcomer.headers).json()

    assert before["files"]["used"] == 0
    assert before["bytes"]["used"] == 0
    assert after["files"]["used"] == 1
    assert after["bytes"]["used"] == mine_size(stack, newcomer, mine["file_id"])


def mine_size(stack: dict[str, Any], user: User, file_id: str) -> int:
    size: int = describe(stack, user, file_id).json()["size"]
    return size


@pytest.mark.parametrize(
    ("route", "cursor_of"),
    [
        ("/files", first_cursor),
        (
            "/changes",
            lambda stack, user: call(
                stack, "GET", "/changes/latest", user.headers
            ).json()["cursor"],
        ),
    ],
    ids=["listing", "changes"],
)
def test_a_cursor_of_one_user_is_a_400_for_the_other_either_way(
    stack: dict[str, Any],
    alice: User,
    bob: User,
    alice_file: Any,
    bob_file: Any,
    route: str,
    cursor_of: Callable[[dict[str, Any], User], str],
) -> None:
    for owner, other in ((bob, alice), (alice, bob)):
        cursor = cursor_of(stack, owner)
        answer = call(stack, "GET", route, other.headers, params={"cursor": cursor})
        assert answer.status_code == 400, answer.text
        assert error_of(answer)["Code"] == "InvalidCursor"
        mine = call(stack, "GET", route, owner.headers, params={"cursor": cursor})
        assert mine.status_code == 200, mine.text


# --- tokens that must be refused ----------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def hs256_signed_with_the_public_key(claims: dict[str, Any], jwks_url: str) -> str:
    """The algorithm-confusion token: HS256 keyed with the pool's public key."""
    jwk = requests.get(jwks_url, timeout=HTTP_TIMEOUT).json()["keys"][0]
    public_pem = jwt.PyJWK(jwk).key.public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64(json.dumps({"alg": "HS256", "kid": jwk["kid"]}).encode())
    payload = _b64(json.dumps(claims).encode())
    signed = f"{header}.{payload}".encode()
    return f"{header}.{payload}." + _b64(
        hmac.new(public_pem, signed, hashlib.sha256).digest()
    )


def other_app_client_token(stack: dict[str, Any], username: str) -> str:
    """An ID token of the stack's pool, signed in through a second app client."""
    cognito = aws_client(stack, "cognito-idp")
    client = cognito.create_user_pool_client(
        UserPoolId=stack["user_pool_id"],
        ClientName=f"another-app-{uuid.uuid4().hex[:6]}",
        GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]
    assert client["ClientId"] != stack["user_pool_client_id"]
    result = cognito.initiate_auth(
        ClientId=client["ClientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    return str(result["IdToken"])


def other_pool_token(stack: dict[str, Any]) -> str:
    """An ID token of another user pool of the same (moto) account."""
    cognito = aws_client(stack, "cognito-idp")
    pool = cognito.create_user_pool(PoolName=f"other-pool-{uuid.uuid4().hex[:6]}")
    pool_id = pool["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="other-pool-app",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"],
    )["UserPoolClient"]["ClientId"]
    cognito.admin_create_user(
        UserPoolId=pool_id, Username="mallory", MessageAction="SUPPRESS"
    )
    cognito.admin_set_user_password(
        UserPoolId=pool_id, Username="mallory", Password=PASSWORD, Permanent=True
    )
    result = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "mallory", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    return str(result["IdToken"])


@pytest.fixture(scope="module")
def carol(stack: dict[str, Any]) -> dict[str, Any]:
    """A user with a known password, and every token we get for her."""
    username = f"carol-{uuid.uuid4().hex[:8]}"
    add_user(stack, username, PASSWORD)
    result = aws_client(stack, "cognito-idp").initiate_auth(
        ClientId=stack["user_pool_client_id"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    return {"username": username, **result}


@pytest.fixture(scope="module")
def refused_tokens(stack: dict[str, Any], carol: dict[str, Any]) -> dict[str, str]:
    sub = subject_of(carol["IdToken"])
    now = int(time.time())
    pool_key, stranger = moto_signing_key(), stranger_key()
    claims = id_claims(stack, sub)
    return {
        "forged-with-the-pools-kid": mint(claims, stranger),
        "forged-with-an-unknown-kid": mint(claims, stranger, kid="stranger-kid"),
        "unsigned-alg-none": jwt.encode(claims, None, algorithm="none"),
        "hs256-keyed-with-the-public-key": hs256_signed_with_the_public_key(
            claims, stack["jwks_url"]
        ),
        "expired-ten-minutes-ago": mint(
            id_claims(stack, sub, iat=now - 4200, auth_time=now - 4200, exp=now - 600),
            pool_key,
        ),
        "not-valid-for-an-hour": mint(id_claims(stack, sub, nbf=now + 3600), pool_key),
        "issued-in-an-hour": mint(id_claims(stack, sub, iat=now + 3600), pool_key),
        "minted-for-another-audience": mint(
            id_claims(stack, sub, aud="another-client"), pool_key
        ),
        "minted-by-another-issuer": mint(
            id_claims(stack, sub, iss="https://cognito-idp.example/other"), pool_key
        ),
        "minted-as-an-access-token": mint(
            id_claims(stack, sub, token_use="access"), pool_key
        ),
        "minted-without-a-subject": mint(
            {k: v for k, v in claims.items() if k != "sub"}, pool_key
        ),
        "of-another-app-client": other_app_client_token(stack, carol["username"]),
        "of-another-user-pool": other_pool_token(stack),
        "access-token": carol["AccessToken"],
        "refresh-token": carol["RefreshToken"],
    }


REFUSED = [
    "forged-with-the-pools-kid",
    "forged-with-an-unknown-kid",
    "unsigned-alg-none",
    "hs256-keyed-with-the-public-key",
    "expired-ten-minutes-ago",
    "not-valid-for-an-hour",
    "issued-in-an-hour",
    "minted-for-another-audience",
    "minted-by-another-issuer",
    "minted-as-an-access-token",
    "minted-without-a-subject",
    "of-another-app-client",
    "of-another-user-pool",
    "access-token",
    "refresh-token",
]


def test_a_token_minted_with_the_pools_own_key_gets_in(
    stack: dict[str, Any], carol: dict[str, Any]
) -> None:
    """The control: what the refused tokens change is all that is wrong."""
    claims = id_claims(stack, subject_of(carol["IdToken"]))
    headers = {"Authorization": f"Bearer {mint(claims, moto_signing_key())}"}

    answer = call(stack, "GET", "/files", headers)

    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("kind", REFUSED)
def test_a_token_that_is_no_valid_id_token_of_our_app_is_a_json_401_everywhere(
    stack: dict[str, Any],
    refused_tokens: dict[str, str],
    alice_file: Any,
    kind: str,
) -> None:
    token = refused_tokens[kind]
    inspector = Inspector(stack)
    before = inspector.snapshot()

    for method, route in ROUTES:
        path = route.format(file_id=alice_file["file_id"])
        for authorization in (token, f"Bearer {token}"):
            body = {"name": f"{kind}.txt", "size": 1} if method == "POST" else None
            answer = call(
                stack, method, path, {"Authorization": authorization}, json=body
            )
            assert answer.status_code == 401, f"{method} {path}: {answer.text}"
            assert error_of(answer)["Code"] == "Unauthorized"
            assert answer.headers["WWW-Authenticate"].startswith("Bearer")

    assert inspector.snapshot() == before
