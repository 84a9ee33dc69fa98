"""The environment a stage gives the app, and the identity that signs its tokens.

The benchmarks run the app with the local stage's settings from
`.chalice/config.json`, pointed at a moto of their own and at a JWKS served
here over loopback, with RS256 ID tokens minted for any user (as
`tests/app/conftest.py` does).
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parents[1]
STAGE = "local"
KID = "bench-key-1"
# Variables of the developer's shell that must not reach the app.
SHELL_VARS_TO_DROP = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL")


def config() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((ROOT / ".chalice" / "config.json").read_text())
    return loaded


def stage_env(jwks_url: str, endpoint: str | None) -> dict[str, str]:
    """The stage's variables, on our moto (`endpoint`, or mock_aws if None)."""
    raw = config()
    env = {
        **raw.get("environment_variables", {}),
        **raw["stages"][STAGE].get("environment_variables", {}),
    }
    env = {key: str(value) for key, value in env.items()}
    env.pop("AWS_ENDPOINT_URL", None)
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint
    region = env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    env["AWS_REGION"] = region
    env["AWS_ACCESS_KEY_ID"] = "bench"
    env["AWS_SECRET_ACCESS_KEY"] = "bench"  # noqa: S105 - moto takes any key
    env["COGNITO_JWKS_URL"] = jwks_url
    return env


@contextlib.contextmanager
def environment(env: Mapping[str, str]) -> Iterator[None]:
    """Set `env` in this process, and put everything back afterwards."""
    saved = dict(os.environ)
    for name in SHELL_VARS_TO_DROP:
        os.environ.pop(name, None)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def child_env(env: Mapping[str, str], **extra: str) -> dict[str, str]:
    """A subprocess's whole environment: the stage's and little else."""
    kept = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    return {**kept, **env, **extra}


@dataclass
class Identity:
    """Signs ID tokens as the stage's user pool would."""

    region: str
    pool_id: str
    app_client_id: str
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(
            public_exponent=65537, key_size=2048
        )
    )

    @classmethod
    def for_stage(cls) -> Identity:
        env = stage_env("", None)
        return cls(
            region=env["AWS_REGION"],
            pool_id=env["COGNITO_USER_POOL_ID"],
            app_client_id=env["COGNITO_APP_CLIENT_ID"],
        )

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.pool_id}"

    def token(self, sub: str) -> str:
        now = int(time.time())
        claims = {
            "sub": sub,
            "aud": self.app_client_id,
            "iss": self.issuer,
            "token_use": "id",
            "cognito:username": f"bench-{sub[:8]}",
            "auth_time": now,
            "iat": now,
            "exp": now + 3600,
            "jti": str(uuid.uuid4()),
        }
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": KID})

    def jwks(self) -> bytes:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk |= {"kid": KID, "alg": "RS256", "use": "sig"}
        return json.dumps({"keys": [jwk]}).encode()


class _JwksHandler(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the table is the output."""


@contextlib.contextmanager
def jwks_server(identity: Identity) -> Iterator[str]:
    """Serve the identity's public key on loopback; its JWKS URL."""
    handler = type("JwksHandler", (_JwksHandler,), {"body": identity.jwks()})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_port
        yield f"http://127.0.0.1:{port}/{identity.pool_id}/.well-known/jwks.json"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
