"""Who is calling: Cognito ID tokens checked by the app itself, in every stage.

API Gateway's Cognito authorizer turns bad tokens away when deployed, but
`chalice local` does not check signatures at all, so the app verifies every
token against the pool's published keys: signature, issuer, audience (our
app client), `token_use` and expiry. The caller is the token's `sub`.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chalicelib.errors import DependencyUnavailableError, UnauthorizedError
from chalicelib.settings import Settings

if TYPE_CHECKING:
    import jwt

logger = logging.getLogger(__name__)

_ALGORITHMS = ["RS256"]
# Tokens whose clocks disagree with ours by a few seconds are still good.
_LEEWAY_SECONDS = 30


@dataclass(frozen=True)
class Caller:
    sub: str
    username: str | None


@functools.cache
def _jwks_client(url: str) -> jwt.PyJWKClient:
    import jwt  # here, not at the top: event handlers never pay for PyJWT

    # Cached per process: keys are fetched once, refetched when an unknown
    # `kid` shows up (a key rotation).
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=3600, timeout=5)


def _raw_token(authorization: str | None) -> str:
    if not authorization:
        raise UnauthorizedError("missing Authorization header with an ID token")
    scheme, _, rest = authorization.strip().partition(" ")
    token = rest.strip() if scheme.lower() == "bearer" else authorization.strip()
    if not token:
        raise UnauthorizedError("Authorization header holds no token")
    return token


def authenticate(authorization: str | None, settings: Settings) -> Caller:
    """The caller behind an `Authorization` header, or `UnauthorizedError`."""
    import jwt

    token = _raw_token(authorization)
    try:
        signing_key = _jwks_client(settings.jwks_url).get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            signing_key.key,
            algorithms=_ALGORITHMS,
            audience=settings.app_client_id,
            issuer=settings.issuer,
            leeway=_LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "iss", "aud", "sub", "token_use"]},
        )
    except jwt.PyJWKClientConnectionError as exc:
        logger.error("could not fetch the pool's signing keys", exc_info=exc)
        raise DependencyUnavailableError(
            "could not fetch the keys that verify tokens; try again"
        ) from exc
    except jwt.PyJWTError as exc:
        logger.info("token refused", extra={"reason": type(exc).__name__})
        raise UnauthorizedError("token is not a valid ID token for this app") from exc
    if claims.get("token_use") != "id":
        raise UnauthorizedError("an ID token is required, not an access token")
    sub = claims["sub"]
    if not isinstance(sub, str) or not sub:
        raise UnauthorizedError("token has no subject")
    return Caller(sub=sub, username=claims.get("cognito:username"))
