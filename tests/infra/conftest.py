"""Fixtures for the deployed stages' tests: a throwaway AWS stand-in.

A rehearsal deploys with the real deploy script to a moto server of its
own, on a free loopback port, and stops it as soon as its assertions are
done: once an event source mapping exists there, moto would try to run the
function through Docker at the first message.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.processes import Child, free_port, wait_until
from infra.deploy import Options, Target
from infra.stages import ROOT

REGION = "us-east-1"
STARTUP_SECONDS = 30
# Variables of a developer's shell that would send a rehearsal to a real
# account, or fail on a profile a stand-in does not know.
_REAL_AWS_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ENDPOINT_URL",
)


@contextlib.contextmanager
def stand_in_credentials() -> Iterator[None]:
    """Fake keys and no profile, for as long as a rehearsal runs."""
    with pytest.MonkeyPatch.context() as patch:
        for name in _REAL_AWS_VARIABLES:
            patch.delenv(name, raising=False)
        patch.setenv("AWS_ACCESS_KEY_ID", "rehearsal")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "rehearsal")
        patch.setenv("AWS_DEFAULT_REGION", REGION)
        yield


@contextlib.contextmanager
def rehearsal_server(workdir: Path) -> Iterator[str]:
    """A moto server with moto's CloudFormation gaps filled; its endpoint."""
    port = free_port()
    ready = workdir / "moto.ready"
    server = Child(
        "rehearsal-moto",
        [
            sys.executable,
            "-m",
            "tests.infra.rehearsal_server",
            "--port",
            str(port),
            "--ready-file",
            str(ready),
        ],
        cwd=ROOT,
        log_path=workdir / "moto.log",
    ).start()
    try:
        wait_until(
            ready.exists,
            what="the rehearsal's moto",
            timeout=STARTUP_SECONDS,
            child=server,
        )
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def rehearsal_options(endpoint: str, workdir: Path, stage: str = "dev") -> Options:
    """The real stage, deployed to the stand-in, its state kept in `workdir`."""
    return Options(
        stage=stage,
        target=Target(region=REGION, endpoint_url=endpoint),
        work_dir=workdir / "projects",
        state_dir=workdir / "deployed",
        skip_rest_api=True,
        with_requirements=False,
    )
