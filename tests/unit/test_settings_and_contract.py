"""Run-time settings, and the committed OpenAPI description of the API."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

from chalicelib.openapi import DOCUMENT_PATH
from chalicelib.settings import SettingsError, get_settings

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = {
    "FILES_BUCKET": "bucket",
    "FILES_TABLE": "table",
    "EVENT_BUS_NAME": "bus",
    "DELETE_QUEUE_NAME": "queue",
    "CHANGE_FEED_QUEUE_NAME": "feed-queue",
    "COGNITO_USER_POOL_ID": "eu-west-1_pool",
    "COGNITO_APP_CLIENT_ID": "client",
    "CURSOR_SECRET": "secret",
}


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    for name, value in REQUIRED.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    for name in ("COGNITO_JWKS_URL", "PRESIGN_TTL_SECONDS", "AUTH_MODE"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_settings_default_to_cognitos_own_keys_and_a_15_minute_url_lifetime(
    environment: pytest.MonkeyPatch,
) -> None:
    settings = get_settings()

    assert (
        settings.issuer == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_pool"
    )
    assert settings.jwks_url == f"{settings.issuer}/.well-known/jwks.json"
    assert settings.presign_ttl_seconds == 900
    assert settings.gateway_authorizer is True
    assert settings.cursor_secret == b"secret"


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_a_missing_required_setting_is_named(
    environment: pytest.MonkeyPatch, missing: str
) -> None:
    environment.delenv(missing)

    with pytest.raises(SettingsError, match=f"environment variable {missing} is not"):
        get_settings()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("604800", "PRESIGN_TTL_SECONDS must be 1..3600, got 604800"),
        ("0", "PRESIGN_TTL_SECONDS must be 1..3600, got 0"),
        ("15m", "PRESIGN_TTL_SECONDS is not a number: '15m'"),
    ],
)
def test_no_stage_can_make_urls_live_longer_than_the_ceiling(
    environment: pytest.MonkeyPatch, value: str, message: str
) -> None:
    environment.setenv("PRESIGN_TTL_SECONDS", value)

    with pytest.raises(SettingsError) as caught:
        get_settings()

    assert str(caught.value) == message


def test_the_committed_openapi_description_matches_the_models() -> None:
    spec = importlib.util.spec_from_file_location(
        "generate_openapi", ROOT / "tools" / "generate_openapi.py"
    )
    assert spec is not None
    assert spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)

    assert DOCUMENT_PATH.read_text(encoding="utf-8") == generator.render()
