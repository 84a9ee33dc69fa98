"""Fixtures for the local stack's tests: one moto server, reset per test."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from moto.server import ThreadedMotoServer

from devstack import config, resources
from devstack.processes import free_port
from devstack.provision import ProvisionedStack, Target, provision

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    # moto's request log would bury every failure's own log lines.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def stage(moto_endpoint: str) -> config.StageConfig:
    """The real config's local stage, pointed at the test's moto server."""
    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=5).raise_for_status()
    return config.with_endpoint(config.load_stage(REPO_ROOT), moto_endpoint)


@pytest.fixture
def names(stage: config.StageConfig) -> resources.StackNames:
    return resources.StackNames.from_env(stage.app_name, stage.stage, stage.env)


@pytest.fixture
def target(stage: config.StageConfig) -> Target:
    return Target.from_env(stage.env)


@pytest.fixture
def stack(target: Target, names: resources.StackNames) -> ProvisionedStack:
    return provision(target, resources.stack_spec(names))


def wait_for(
    condition: Callable[[], object], timeout: float = 15.0, what: str = "condition"
) -> object:
    """Poll until `condition()` is truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)
