"""The local stage as `.chalice/config.json` declares it.

That file is the one source of truth for the local stack's resource names, its
moto endpoint and its Cognito ids: `chalice local` imposes its environment
variables on the app, so the runner and provisioning read the same values
from the same place instead of repeating them.

A stack on another moto port (a test stack next to a developer's) cannot
change what `chalice local` imposes, so `chalice local` runs from an overlay
project directory with a rewritten config (see `devstack.overlay`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

LOCAL_STAGE = "local"
CONFIG_FILE = Path(".chalice") / "config.json"
ENDPOINT_VAR = "AWS_ENDPOINT_URL"
# Chalice's defaults when the config sets neither.
DEFAULT_LAMBDA_TIMEOUT = 60
DEFAULT_LAMBDA_MEMORY = 128
# Variables of a developer's shell that would point boto3 at a real account or
# fail on a profile the local stack does not have.
_SHELL_VARS_TO_DROP = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "CHALICE_WORKER",
)


class ConfigError(RuntimeError):
    """The Chalice config lacks something the local stack needs."""


@dataclass(frozen=True)
class StageConfig:
    """One stage of a Chalice project, with its environment merged."""

    project_dir: Path
    app_name: str
    stage: str
    env: dict[str, str]
    raw: dict[str, Any]

    @property
    def endpoint(self) -> str:
        return self.require(ENDPOINT_VAR)

    @property
    def region(self) -> str:
        return self.env.get("AWS_DEFAULT_REGION") or self.env.get(
            "AWS_REGION", "us-east-1"
        )

    def require(self, name: str) -> str:
        value = self.env.get(name, "").strip()
        if not value:
            raise ConfigError(
                f"{self.project_dir / CONFIG_FILE}: stage {self.stage!r} sets no "
                f"environment variable {name}"
            )
        return value

    def function_setting(self, handler: str, key: str, default: int) -> int:
        """A per-function setting as Chalice resolves it: function, stage, top."""
        stage = self.raw.get("stages", {}).get(self.stage, {})
        function = stage.get("lambda_functions", {}).get(handler, {})
        for scope in (function, stage, self.raw):
            if key in scope:
                return int(scope[key])
        return default

    def lambda_timeout(self, handler: str) -> int:
        return self.function_setting(handler, "lambda_timeout", DEFAULT_LAMBDA_TIMEOUT)

    def lambda_memory(self, handler: str) -> int:
        return self.function_setting(
            handler, "lambda_memory_size", DEFAULT_LAMBDA_MEMORY
        )


def read_config(project_dir: Path) -> dict[str, Any]:
    path = project_dir / CONFIG_FILE
    try:
        raw: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ConfigError(f"{path} does not exist") from exc
    return raw


def load_stage(project_dir: Path, stage: str = LOCAL_STAGE) -> StageConfig:
    raw = read_config(project_dir)
    stages = raw.get("stages", {})
    if stage not in stages:
        raise ConfigError(f"{project_dir / CONFIG_FILE} has no stage {stage!r}")
    env = {
        **raw.get("environment_variables", {}),
        **stages[stage].get("environment_variables", {}),
    }
    return StageConfig(
        project_dir=project_dir.resolve(),
        app_name=raw["app_name"],
        stage=stage,
        env={key: str(value) for key, value in env.items()},
        raw=raw,
    )


def endpoint_on_port(stage: StageConfig, port: int) -> str:
    """The config's moto endpoint with another port."""
    parts = urlsplit(stage.endpoint)
    host = parts.hostname or "127.0.0.1"
    return urlunsplit((parts.scheme, f"{host}:{port}", parts.path, "", ""))


def endpoint_port(endpoint: str) -> int:
    port = urlsplit(endpoint).port
    if port is None:
        raise ConfigError(f"{ENDPOINT_VAR} {endpoint!r} names no port")
    return port


def with_endpoint(stage: StageConfig, endpoint: str) -> StageConfig:
    """The stage as seen through another moto endpoint.

    Every variable that starts with the configured endpoint (the endpoint
    itself, the JWKS URL) moves along, so no name is repeated here.
    """
    old = stage.endpoint.rstrip("/")
    new = endpoint.rstrip("/")
    env = {
        key: new + value[len(old) :] if value.startswith(old) else value
        for key, value in stage.env.items()
    }
    return replace(stage, env=env)


def process_env(
    stage: StageConfig, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment a local function runs with: the shell's plus the stage's.

    The stage's values win, as `chalice local` imposes them; AWS_REGION is set
    as Lambda sets it, so a region left in the developer's shell cannot leak in.
    """
    env = dict(os.environ if base is None else base)
    for name in _SHELL_VARS_TO_DROP:
        env.pop(name, None)
    env.update(stage.env)
    env["AWS_REGION"] = stage.region
    return env


def write_cognito_ids(
    project_dir: Path, stage: str, pool_id: str, client_id: str
) -> bool:
    """Record moto's deterministic Cognito ids in the config; True if changed.

    The JWKS URL follows the pool id on the configured endpoint.
    """
    path = project_dir / CONFIG_FILE
    raw = read_config(project_dir)
    env = raw["stages"][stage]["environment_variables"]
    endpoint = env[ENDPOINT_VAR].rstrip("/")
    wanted = {
        "COGNITO_USER_POOL_ID": pool_id,
        "COGNITO_APP_CLIENT_ID": client_id,
        "COGNITO_JWKS_URL": jwks_url(endpoint, pool_id),
    }
    if all(env.get(key) == value for key, value in wanted.items()):
        return False
    env.update(wanted)
    path.write_text(json.dumps(raw, indent=2) + "\n")
    return True


def jwks_url(endpoint: str, pool_id: str) -> str:
    """Where moto serves a pool's signing keys."""
    return f"{endpoint.rstrip('/')}/{pool_id}/.well-known/jwks.json"
