"""The overlay `chalice local` runs from: what Lambda ships, linked, kept in sync."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from devstack import config
from devstack.overlay import sync_overlay
from tests.devstack.conftest import REPO_ROOT


def make_project(root: Path) -> Path:
    project = root / "project"
    (project / ".chalice").mkdir(parents=True)
    (project / "chalicelib" / "adapters").mkdir(parents=True)
    (project / "chalicelib" / "__pycache__").mkdir()
    (project / "app.py").write_text("app = None\n")
    (project / "chalicelib" / "__init__.py").write_text("")
    (project / "chalicelib" / "data.json").write_text("{}")
    (project / "chalicelib" / "adapters" / "s3.py").write_text("")
    (project / "chalicelib" / "__pycache__" / "x.pyc").write_text("")
    (project / "tests").mkdir()
    shutil.copy(REPO_ROOT / config.CONFIG_FILE, project / config.CONFIG_FILE)
    return project


def files_below(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir()}


def test_overlay_holds_what_lambda_ships_as_links(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    stage = config.load_stage(project)
    moved = config.with_endpoint(stage, "http://127.0.0.1:6124")

    overlay = sync_overlay(moved, project / ".local" / "overlay")

    assert files_below(overlay) == {
        "app.py",
        "chalicelib/__init__.py",
        "chalicelib/data.json",
        "chalicelib/adapters/s3.py",
        ".chalice/config.json",
    }
    assert (overlay / "app.py").resolve() == (project / "app.py").resolve()
    # Real folders, so chalice's file watcher walks into them.
    assert not (overlay / "chalicelib").is_symlink()
    assert (overlay / "chalicelib" / "adapters" / "s3.py").is_symlink()
    assert config.load_stage(overlay).env == moved.env


def test_sync_follows_files_that_come_and_go(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    stage = config.load_stage(project)
    overlay = sync_overlay(stage, tmp_path / "overlay")
    config_mtime = (overlay / ".chalice" / "config.json").stat().st_mtime_ns

    (project / "chalicelib" / "new.py").write_text("")
    shutil.rmtree(project / "chalicelib" / "adapters")
    sync_overlay(stage, overlay)

    assert (overlay / "chalicelib" / "new.py").is_symlink()
    assert not (overlay / "chalicelib" / "adapters").exists()
    # An unchanged config is not rewritten (chalice would take it for an edit).
    assert (overlay / ".chalice" / "config.json").stat().st_mtime_ns == config_mtime
    assert json.loads((overlay / ".chalice" / "config.json").read_text())
