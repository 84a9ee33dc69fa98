"""Fixtures of the end-to-end tier: a whole local stack, reached only over HTTP
and boto3. The stack starts once per module.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from devstack.auth import id_token
from tests.e2e.sample_folder import build_sample_folder
from tests.e2e.stack import aws_client, running_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A running local stack's coordinates (what it writes to its state file)."""
    with running_stack(tmp_path_factory.mktemp("stack")) as state:
        yield state


@pytest.fixture(scope="module")
def api(stack: dict[str, Any]) -> requests.Session:
    """An HTTP session signed in as the stack's demo user."""
    session = requests.Session()
    session.headers["Authorization"] = id_token(stack)
    return session


@pytest.fixture(scope="module")
def s3(stack: dict[str, Any]) -> Any:
    return aws_client(stack, "s3")


@pytest.fixture(scope="module")
def sqs(stack: dict[str, Any]) -> Any:
    return aws_client(stack, "sqs")


@pytest.fixture(scope="module")
def sample_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sample")
    build_sample_folder(folder)
    return folder
