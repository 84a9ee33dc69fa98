"""The local stage read from .chalice/config.json, and overlays of it."""

from __future__ import annotations

import json

from devstack import config
from tests.devstack.conftest import REPO_ROOT


def test_stage_merges_top_level_variables_under_the_stage() -> None:
    stage = config.load_stage(REPO_ROOT)
    raw = json.loads((REPO_ROOT / config.CONFIG_FILE).read_text())

    assert stage.app_name == raw["app_name"]
    for key, value in raw.get("environment_variables", {}).items():
        assert key in stage.env
        if key not in raw["stages"]["local"]["environment_variables"]:
            assert stage.env[key] == value
    assert stage.env["AWS_ENDPOINT_URL"] == stage.endpoint


def test_the_config_jwks_url_is_the_pools_on_the_endpoint() -> None:
    stage = config.load_stage(REPO_ROOT)

    expected = config.jwks_url(stage.endpoint, stage.env["COGNITO_USER_POOL_ID"])
    assert stage.env["COGNITO_JWKS_URL"] == expected


def test_another_endpoint_moves_every_url_on_it() -> None:
    stage = config.load_stage(REPO_ROOT)
    moved = config.with_endpoint(stage, config.endpoint_on_port(stage, 6123))

    assert moved.endpoint == "http://127.0.0.1:6123"
    assert moved.env["COGNITO_JWKS_URL"].startswith("http://127.0.0.1:6123/")
    assert moved.env["FILES_BUCKET"] == stage.env["FILES_BUCKET"]


def test_process_env_imposes_the_stage_and_drops_profiles() -> None:
    stage = config.load_stage(REPO_ROOT)
    shell = {"AWS_PROFILE": "prod", "AWS_REGION": "eu-west-3", "PATH": "/bin"}

    env = config.process_env(stage, shell)

    assert "AWS_PROFILE" not in env
    assert env["AWS_REGION"] == stage.region
    assert env["PATH"] == "/bin"
    assert env["FILES_TABLE"] == stage.env["FILES_TABLE"]
