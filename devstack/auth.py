"""Signing in to the local user pool, for tokens in curl calls and tests.

The app checks ID tokens against the pool's JWKS, so a token from the local
pool is all a request needs; nothing here is a shortcut around that check.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from devstack.provision import Target, ensure_user


def _cognito(state: Mapping[str, Any]) -> Any:
    return Target(state["aws_endpoint_url"], state["region"]).client("cognito-idp")


def id_token(
    state: Mapping[str, Any], username: str | None = None, password: str | None = None
) -> str:
    """An ID token for a user of the stack's pool (the demo user by default)."""
    demo = state["demo_user"]
    result = _cognito(state).initiate_auth(
        ClientId=state["user_pool_client_id"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={
            "USERNAME": username or demo["username"],
            "PASSWORD": password or demo["password"],
        },
    )
    return str(result["AuthenticationResult"]["IdToken"])


def add_user(state: Mapping[str, Any], username: str, password: str) -> None:
    """A confirmed user with this password (a second owner, for tests)."""
    ensure_user(_cognito(state), state["user_pool_id"], username, password)
