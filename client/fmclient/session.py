"""Signing in to the user pool and keeping the session fresh.

The API takes the pool's ID token. Signing in (USER_PASSWORD_AUTH) also
yields a refresh token, which buys new ID tokens (REFRESH_TOKEN_AUTH)
until it expires or is revoked; only then must the user sign in again.
Both calls are the pool's public JSON API, which needs no AWS credentials.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from fmclient.errors import ApiError, ClientError, SignInRequired
from fmclient.retry import Retry
from fmclient.target import Target, state_dir

# Refresh a little before the token runs out, so a request never races it.
EXPIRY_MARGIN_SECONDS = 60
_TARGET_HEADER = "AWSCognitoIdentityProviderService.InitiateAuth"
# What Cognito says when signing in cannot work without the user's action.
_SIGN_IN_AGAIN = {
    "NotAuthorizedException",
    "UserNotFoundException",
    "PasswordResetRequiredException",
    "UserNotConfirmedException",
}
_THROTTLED = {"TooManyRequestsException", "LimitExceededException"}


@dataclass
class Session:
    username: str
    id_token: str
    refresh_token: str
    expires_at: float

    def fresh(self, now: float | None = None) -> bool:
        moment = time.time() if now is None else now
        return self.expires_at - EXPIRY_MARGIN_SECONDS > moment


def token_expiry(token: str) -> float:
    """The `exp` claim of a JWT; its signature is the API's to check."""
    try:
        payload = token.split(".")[1]
        padded = payload + "=" * (-len(payload) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
        return float(claims["exp"])
    except (IndexError, KeyError, ValueError, TypeError, binascii.Error) as exc:
        raise ClientError("the user pool sent a token that is not a JWT") from exc


class CognitoAuth:
    """USER_PASSWORD_AUTH and REFRESH_TOKEN_AUTH against one app client."""

    def __init__(self, target: Target, http: httpx.Client, retry: Retry) -> None:
        self._target = target
        self._http = http
        self._retry = retry

    def sign_in(self, username: str, password: str) -> Session:
        result = self._initiate(
            "USER_PASSWORD_AUTH", {"USERNAME": username, "PASSWORD": password}
        )
        if "AuthenticationResult" not in result:
            challenge = result.get("ChallengeName", "an unknown challenge")
            raise ClientError(
                f"the user pool asks for {challenge}, which fm cannot answer: "
                "finish signing up in the page or with your administrator"
            )
        tokens = result["AuthenticationResult"]
        return Session(
            username=username,
            id_token=tokens["IdToken"],
            refresh_token=tokens["RefreshToken"],
            expires_at=token_expiry(tokens["IdToken"]),
        )

    def refresh(self, session: Session) -> Session:
        result = self._initiate(
            "REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": session.refresh_token}
        )
        tokens = result["AuthenticationResult"]
        return Session(
            username=session.username,
            id_token=tokens["IdToken"],
            # Cognito sends a new refresh token only when rotation is on.
            refresh_token=tokens.get("RefreshToken") or session.refresh_token,
            expires_at=token_expiry(tokens["IdToken"]),
        )

    def _initiate(self, flow: str, parameters: dict[str, str]) -> dict[str, Any]:
        body = {
            "AuthFlow": flow,
            "ClientId": self._target.client_id,
            "AuthParameters": parameters,
        }
        headers = {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": _TARGET_HEADER,
        }

        def call() -> httpx.Response:
            return self._http.post(self._target.cognito_url, json=body, headers=headers)

        response = self._retry.run(call, retryable=_cognito_throttled)
        if response.status_code == 200:
            answer: dict[str, Any] = response.json()
            return answer
        kind, message = _cognito_error(response)
        if kind in _SIGN_IN_AGAIN:
            if flow == "REFRESH_TOKEN_AUTH":
                raise SignInRequired(
                    f"your session ended ({message}): sign in again with `fm login`"
                )
            raise SignInRequired(f"could not sign in: {message}")
        raise ApiError(response.status_code, kind, f"the user pool said: {message}")


def _cognito_error(response: httpx.Response) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        return "UnknownError", response.text[:200] or response.reason_phrase
    kind = str(body.get("__type", "UnknownError")).rsplit("#", 1)[-1]
    return kind, str(body.get("message") or body.get("Message") or kind)


def _cognito_throttled(response: httpx.Response) -> bool:
    if response.status_code >= 500:
        return True
    return response.status_code == 400 and _cognito_error(response)[0] in _THROTTLED


class SessionStore:
    """Sessions on disk, one per stage, readable by their owner only."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or state_dir() / "sessions.json"

    def _read_all(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except ValueError:
            # A damaged file only costs a new sign-in.
            return {}
        return data

    def load(self, target: Target) -> Session | None:
        raw = self._read_all().get(target.session_key)
        if raw is None:
            return None
        try:
            return Session(**raw)
        except TypeError:
            return None

    def save(self, target: Target, session: Session) -> None:
        data = self._read_all()
        data[target.session_key] = asdict(session)
        self._write(data)

    def forget(self, target: Target) -> bool:
        data = self._read_all()
        if data.pop(target.session_key, None) is None:
            return False
        self._write(data)
        return True

    def _write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        # Created private, so the tokens are never readable by others.
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=2)
        partial.replace(self.path)
