"""Which stage to talk to: the local stack, a saved profile, or flags.

A target is the API's URL and the user pool's coordinates. The local stack
writes them to `.local/stack.json` (`make dev`); a deployed stage's come
from `fm configure`, saved as a profile in the config file, or from flags.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import platformdirs

from fmclient.errors import ConfigError

APP_NAME = "fm"
HOME_VARIABLE = "FM_HOME"
LOCAL_STACK_FILE = Path(".local") / "stack.json"
DEFAULT_PROFILE = "default"


def config_dir() -> Path:
    home = os.environ.get(HOME_VARIABLE)
    return Path(home) if home else platformdirs.user_config_path(APP_NAME)


def state_dir() -> Path:
    home = os.environ.get(HOME_VARIABLE)
    return Path(home) if home else platformdirs.user_state_path(APP_NAME)


def config_file() -> Path:
    return config_dir() / "config.toml"


@dataclass(frozen=True)
class Target:
    """A stage of the file manager and the user pool that signs its users."""

    api_url: str
    region: str
    user_pool_id: str
    client_id: str
    # Empty means AWS's own endpoint for the region.
    cognito_endpoint: str = ""
    source: str = ""
    # The local stack's demo user (username, password); none elsewhere.
    demo_user: tuple[str, str] | None = None

    @property
    def cognito_url(self) -> str:
        if self.cognito_endpoint:
            return self.cognito_endpoint.rstrip("/") + "/"
        return f"https://cognito-idp.{self.region}.amazonaws.com/"

    @property
    def session_key(self) -> str:
        return f"{self.api_url.rstrip('/')} {self.client_id}"

    def to_profile(self) -> dict[str, str]:
        values = {
            "api_url": self.api_url,
            "region": self.region,
            "user_pool_id": self.user_pool_id,
            "client_id": self.client_id,
        }
        if self.cognito_endpoint:
            values["cognito_endpoint"] = self.cognito_endpoint
        return values


PROFILE_KEYS = ("api_url", "region", "user_pool_id", "client_id", "cognito_endpoint")
REQUIRED_KEYS = ("api_url", "user_pool_id", "client_id")


def from_stack_file(path: Path) -> Target:
    """The coordinates a running local stack wrote."""
    try:
        state: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ConfigError(
            f"{path} does not exist: is the local stack running (make dev)?"
        ) from exc
    except ValueError as exc:
        raise ConfigError(f"{path} is not a stack file: {exc}") from exc
    return Target(
        api_url=state["api_url"],
        region=state["region"],
        user_pool_id=state["user_pool_id"],
        client_id=state["user_pool_client_id"],
        cognito_endpoint=state["aws_endpoint_url"],
        source=f"local stack ({path})",
        demo_user=(state["demo_user"]["username"], state["demo_user"]["password"]),
    )


def read_profiles(path: Path | None = None) -> dict[str, dict[str, str]]:
    path = path or config_file()
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    profiles = raw.get("profiles", {})
    return {name: dict(values) for name, values in profiles.items()}


def from_profile(name: str, path: Path | None = None) -> Target:
    path = path or config_file()
    profiles = read_profiles(path)
    if name not in profiles:
        raise ConfigError(
            f"no profile {name!r} in {path}: add it with `fm configure {name} ...`"
        )
    return _complete(profiles[name], f"profile {name!r} ({path})")


def _complete(values: Mapping[str, str], source: str) -> Target:
    missing = [key for key in REQUIRED_KEYS if not values.get(key)]
    if missing:
        raise ConfigError(f"{source} lacks {', '.join(missing)}")
    pool_id = str(values["user_pool_id"])
    # A pool's id starts with its region ("eu-west-1_AbC123"), which is all
    # `make deploy` prints.
    region = values.get("region") or pool_id.split("_", 1)[0]
    return Target(
        api_url=str(values["api_url"]),
        region=str(region),
        user_pool_id=str(values["user_pool_id"]),
        client_id=str(values["client_id"]),
        cognito_endpoint=str(values.get("cognito_endpoint") or ""),
        source=source,
    )


def find_stack_file(start: Path) -> Path | None:
    """`.local/stack.json` here or in a parent folder (inside the checkout)."""
    for folder in (start, *start.parents):
        candidate = folder / LOCAL_STACK_FILE
        if candidate.exists():
            return candidate
    return None


def resolve(
    *,
    profile: str | None = None,
    stack_file: Path | None = None,
    overrides: Mapping[str, str | None] | None = None,
    cwd: Path | None = None,
) -> Target:
    """The target a command talks to.

    Flags win over everything; then an explicit profile or stack file; then
    the profile named `default`; then a local stack found from the current
    folder.
    """
    given = {key: value for key, value in (overrides or {}).items() if value}
    base: Target | None = None
    if profile:
        base = from_profile(profile)
    elif stack_file:
        base = from_stack_file(stack_file)
    elif _has_required(given):
        return _complete(given, "command-line flags")
    elif DEFAULT_PROFILE in read_profiles():
        base = from_profile(DEFAULT_PROFILE)
    else:
        found = find_stack_file((cwd or Path.cwd()).resolve())
        base = from_stack_file(found) if found is not None else recall()
    if base is None:
        raise ConfigError(
            "no file manager to talk to: start the local stack (make dev), "
            "or save a stage with `fm configure`, or pass --api-url, "
            "--user-pool-id and --client-id"
        )
    if given:
        merged = {**base.to_profile(), **given}
        base = replace(
            _complete(merged, f"{base.source} with flags"), demo_user=base.demo_user
        )
    return base


def _has_required(given: Mapping[str, str]) -> bool:
    return all(given.get(key) for key in REQUIRED_KEYS)


def _last_target_file() -> Path:
    return state_dir() / "last-target.json"


def remember(target: Target) -> None:
    """The stage last signed in to, so fm works outside the checkout too."""
    path = _last_target_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**target.to_profile(), "source": target.source}))


def recall() -> Target | None:
    try:
        values = json.loads(_last_target_file().read_text())
    except (FileNotFoundError, ValueError):
        return None
    source = values.get("source") or "the stage last signed in to"
    return _complete(values, f"{source}, last signed in to")


def save_profile(name: str, target: Target, path: Path | None = None) -> Path:
    """Add or replace one profile, keeping the others."""
    path = path or config_file()
    profiles = read_profiles(path)
    profiles[name] = target.to_profile()
    lines = ["# Stages of the file manager that `fm --profile NAME` talks to."]
    for profile_name, values in sorted(profiles.items()):
        lines += ["", f"[profiles.{json.dumps(profile_name)}]"]
        # A JSON string is a valid TOML basic string.
        lines += [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path
