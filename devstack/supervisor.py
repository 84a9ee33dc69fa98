"""`python -m devstack`: moto, provisioning, the runner and `chalice local`.

The supervisor starts each piece in order and waits for it to answer before
the next (provisioning needs moto; the API is only "up" once everything it
calls exists), writes the state file last, then watches: a dead moto or API
ends the stack, and a change to the app's code restarts the runner (a fresh
process imports the new code) and updates the overlay `chalice local` runs
from (which then reloads itself; see `devstack.overlay`).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import sysconfig
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devstack import config, resources, web
from devstack.overlay import SHIPPED, sync_overlay
from devstack.processes import (
    Child,
    StartupError,
    answers,
    port_is_free,
    wait_until,
)
from devstack.provision import CognitoIds, ProvisionedStack, Target, provision
from devstack.state import DEFAULT_STATE_FILE, remove_state, write_state

log = logging.getLogger(__name__)

# Where `python -m devstack` can be imported from (this package's parent).
DEVSTACK_ROOT = Path(__file__).resolve().parent.parent
# moto hands out the same Cognito ids at every start only with these.
MOTO_HASH_IDS = {
    "MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY": "HASH",
    "MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY": "HASH",
}
MOTO_START_TIMEOUT = 30.0
API_START_TIMEOUT = 60.0
WATCH_INTERVAL = 1.0


@dataclass(frozen=True)
class UpOptions:
    project_dir: Path
    api_port: int = 8000
    moto_port: int | None = None
    autoreload: bool = True
    state_file: Path | None = None
    host: str = "127.0.0.1"
    # The page's own port, so it calls the API from another origin, as it
    # does once deployed.
    web_port: int = 8080

    @property
    def state_path(self) -> Path:
        path = self.state_file or DEFAULT_STATE_FILE
        return path if path.is_absolute() else self.project_dir / path


def start_moto(host: str, port: int, log_path: Path | None) -> Child:
    """A moto server of our own on `port`; refuses a port already taken."""
    if not port_is_free(host, port):
        raise StartupError(_port_taken(port))
    with tempfile.TemporaryDirectory(prefix="devstack-") as scratch:
        ready = Path(scratch) / "moto.ready"
        argv = [sys.executable, "-m", "devstack.moto_server", "--host", host]
        argv += ["--port", str(port), "--ready-file", str(ready)]
        env = {**os.environ, **MOTO_HASH_IDS, "MOTO_PORT": str(port)}
        child = Child("moto", argv, env=env, cwd=DEVSTACK_ROOT, log_path=log_path)
        child.start()
        try:
            wait_until(
                ready.exists, what="moto", timeout=MOTO_START_TIMEOUT, child=child
            )
        except StartupError as exc:
            child.stop()
            if child.returncode == 1:
                raise StartupError(_port_taken(port)) from exc
            raise
        except BaseException:
            child.stop()
            raise
    return child


def _port_taken(port: int) -> str:
    return (
        f"port {port} is in use: another local stack (make dev)? "
        "Pick a free one with --moto-port."
    )


def chalice_executable() -> str:
    """The real `chalice` CLI of this environment.

    Its reloader re-runs its own argv, so it must be the console script,
    not `python -m chalice`.
    """
    script = Path(sysconfig.get_path("scripts")) / "chalice"
    if script.exists():
        return str(script)
    found = shutil.which("chalice")
    if found is None:
        raise StartupError("the chalice CLI is not installed in this environment")
    return found


class SourceWatcher:
    """Notices edits to what Lambda would run (app.py, chalicelib, vendor)."""

    def __init__(self, project_dir: Path) -> None:
        self._project_dir = project_dir
        self._last = self._snapshot()

    def _snapshot(self) -> dict[Path, int]:
        snapshot = {}
        for name in SHIPPED:
            root = self._project_dir / name
            files = sorted(root.rglob("*")) if root.is_dir() else [root]
            for path in files:
                if "__pycache__" in path.parts:
                    continue
                try:
                    snapshot[path] = path.stat().st_mtime_ns
                except FileNotFoundError:
                    continue
        return snapshot

    def changed(self) -> bool:
        current = self._snapshot()
        if current == self._last:
            return False
        self._last = current
        return True


class LocalStack:
    """One local stack: start it, watch it, stop it."""

    def __init__(self, options: UpOptions) -> None:
        self.options = options
        self.state: dict[str, Any] = {}
        base = config.load_stage(options.project_dir)
        self._moto_port = options.moto_port or config.endpoint_port(base.endpoint)
        endpoint = config.endpoint_on_port(base, self._moto_port)
        self.stage = config.with_endpoint(base, endpoint)
        state_path = options.state_path
        self._overlay_dir = state_path.parent / f"{state_path.stem}-project"
        self._children: dict[str, Child] = {}
        self._runner_down_logged = False
        self._page_config: Path | None = None

    @property
    def api_url(self) -> str:
        return f"http://{self.options.host}:{self.options.api_port}"

    def start(self) -> dict[str, Any]:
        """Bring everything up; on any failure stop what was started."""
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> dict[str, Any]:
        options = self.options
        state_path = options.state_path
        for port, flag in (
            (options.api_port, "--api-port"),
            (options.web_port, "--web-port"),
        ):
            if not port_is_free(options.host, port):
                raise StartupError(f"port {port} is in use: pick another with {flag}")
        remove_state(state_path, pid=_stale_pid(state_path))
        log_dir = state_path.parent
        self._children["moto"] = start_moto(
            options.host, self._moto_port, log_dir / f"moto-{self._moto_port}.log"
        )
        provisioned = self._provision()
        sync_overlay(self.stage, self._overlay_dir)
        self._start_runner()
        self._start_chalice()
        wait_until(
            lambda: answers(f"{self.api_url}/"),
            what="chalice local",
            timeout=API_START_TIMEOUT,
            child=self._children["chalice"],
        )
        self.state = self._state(provisioned.to_dict())
        self.state["web_url"] = self._start_web(state_path)
        write_state(state_path, self.state)
        return self.state

    @property
    def web_url(self) -> str:
        return f"http://{self.options.host}:{self.options.web_port}"

    def _start_web(self, state_path: Path) -> str | None:
        """Serve the page from `web/`, configured for this stack."""
        root = self.stage.project_dir / "web"
        if not root.is_dir():
            log.info("no web/ folder; no page served")
            return None
        page_config = state_path.parent / f"{state_path.stem}-web-config.json"
        page_config.write_text(json.dumps(web.page_config(self.state), indent=2))
        self._page_config = page_config
        argv = [sys.executable, "-m", "devstack.web", "--host", self.options.host]
        argv += ["--port", str(self.options.web_port), "--root", str(root)]
        argv += ["--config", str(page_config)]
        self._children["web"] = Child("web", argv, cwd=DEVSTACK_ROOT).start()
        wait_until(
            lambda: answers(f"{self.web_url}/"),
            what="the page's server",
            timeout=API_START_TIMEOUT,
            child=self._children["web"],
        )
        return self.web_url

    def _provision(self) -> ProvisionedStack:
        stage = self.stage
        names = resources.StackNames.from_env(stage.app_name, stage.stage, stage.env)
        expected = CognitoIds(
            user_pool_id=stage.require("COGNITO_USER_POOL_ID"),
            user_pool_client_id=stage.require("COGNITO_APP_CLIENT_ID"),
        )
        return provision(
            Target.from_env(stage.env), resources.stack_spec(names), expected
        )

    def _start_runner(self) -> None:
        argv = [
            sys.executable,
            "-m",
            "devstack",
            "runner",
            "--project-dir",
            str(self.stage.project_dir),
            "--moto-port",
            str(self._moto_port),
        ]
        env = {**config.process_env(self.stage), "PYTHONUNBUFFERED": "1"}
        self._children["runner"] = Child(
            "runner", argv, env=env, cwd=DEVSTACK_ROOT
        ).start()
        self._runner_down_logged = False

    def _start_chalice(self) -> None:
        argv = [chalice_executable(), "--project-dir", str(self._overlay_dir), "local"]
        argv += ["--stage", self.stage.stage, "--host", self.options.host]
        argv += ["--port", str(self.options.api_port)]
        if not self.options.autoreload:
            argv.append("--no-autoreload")
        env = {
            **config.process_env(self.stage),
            "PYTHONUNBUFFERED": "1",
            # Compiled files in the overlay would look like edits to chalice.
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        self._children["chalice"] = Child(
            "chalice", argv, env=env, cwd=self.stage.project_dir
        ).start()

    def _state(self, provisioned: dict[str, Any]) -> dict[str, Any]:
        return {
            "api_url": self.api_url,
            **provisioned,
            "stage": self.stage.stage,
            "project_dir": str(self.stage.project_dir),
            "chalice_project_dir": str(self._overlay_dir),
            "env": self.stage.env,
            "moto_log": str(self._children["moto"].log_path),
            "pid": os.getpid(),
            "pids": {name: child.pid for name, child in self._children.items()},
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }

    def watch(self, stop: threading.Event) -> int:
        """Supervise until `stop` is set (0) or a vital child dies (1)."""
        watcher = (
            SourceWatcher(self.stage.project_dir) if self.options.autoreload else None
        )
        while not stop.wait(WATCH_INTERVAL):
            for name in ("moto", "chalice"):
                child = self._children[name]
                if not child.alive():
                    log.error(
                        "child exited; stopping the stack",
                        extra={"child": name, "returncode": child.returncode},
                    )
                    return 1
            if not self._runner_ok():
                return 1
            if watcher is not None and watcher.changed():
                self._reload()
        return 0

    def _runner_ok(self) -> bool:
        runner = self._children["runner"]
        if runner.alive():
            return True
        if not self.options.autoreload:
            log.error("runner exited", extra={"returncode": runner.returncode})
            return False
        if not self._runner_down_logged:
            log.error(
                "runner exited; it restarts when app.py or chalicelib changes",
                extra={"returncode": runner.returncode},
            )
            self._runner_down_logged = True
        return True

    def _reload(self) -> None:
        log.info("code changed; restarting the runner")
        sync_overlay(self.stage, self._overlay_dir)
        self._children["runner"].stop()
        self._start_runner()

    def stop(self) -> None:
        for name in ("web", "chalice", "runner", "moto"):
            child = self._children.pop(name, None)
            if child is not None:
                child.stop()
        if self._page_config is not None:
            self._page_config.unlink(missing_ok=True)
        remove_state(self.options.state_path, os.getpid())


def _stale_pid(path: Path) -> int:
    """The pid in a state file left by a stack that is gone (0 if none)."""
    try:
        pid = int(json.loads(path.read_text()).get("pid", 0))
    except (FileNotFoundError, ValueError):
        return 0
    if pid and _pid_alive(pid):
        raise StartupError(
            f"{path} belongs to a running stack (pid {pid}); stop it or use "
            "--state-file for another one"
        )
    return pid


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
