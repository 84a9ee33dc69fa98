"""Opaque listing cursors, signed so that a client can neither alter one nor
replay one against another user's or another query's listing."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from chalicelib.errors import InvalidCursorError

_VERSION = 1


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scope(owner: str, query: dict[str, Any]) -> str:
    canonical = json.dumps([owner, query], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


class CursorCodec:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()

    def encode(
        self, owner: str, query: dict[str, Any], position: dict[str, str]
    ) -> str:
        body = {"v": _VERSION, "s": _scope(owner, query), "p": position}
        payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        return f"{_b64encode(payload)}.{_b64encode(self._sign(payload))}"

    def decode(self, owner: str, query: dict[str, Any], cursor: str) -> dict[str, str]:
        """The position a cursor points at, or `InvalidCursorError`."""
        payload_part, _, signature_part = cursor.partition(".")
        try:
            payload = _b64decode(payload_part)
            signature = _b64decode(signature_part)
        except (binascii.Error, ValueError) as exc:
            raise InvalidCursorError("cursor is not one this API issued") from exc
        if not hmac.compare_digest(signature, self._sign(payload)):
            raise InvalidCursorError("cursor is not one this API issued")
        body = json.loads(payload)
        if body.get("v") != _VERSION:
            raise InvalidCursorError("cursor is from an older version of the API")
        if body.get("s") != _scope(owner, query):
            raise InvalidCursorError(
                "cursor belongs to another listing or feed, or to another user"
            )
        position = body.get("p")
        if not isinstance(position, dict):
            raise InvalidCursorError("cursor is not one this API issued")
        return position
