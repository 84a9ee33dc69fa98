"""The project as Lambda sees it, for `chalice local` to serve and watch.

`chalice local` runs from this overlay directory, not the repository root,
for two reasons:

- it imposes the config's environment variables on the app, so a stack on
  another moto port needs a config of its own (the endpoint and JWKS URL
  rewritten; nothing else changes);
- its file watcher restarts the server when *any* file below the project
  changes: the state file and logs in `.local/`, `.pytest_cache`, a commit.

The overlay holds only what a Lambda package holds (`app.py`, `chalicelib/`,
`vendor/`), as symlinks to the real files inside real folders, so chalice's
watcher, which reads through file symlinks but does not enter symlinked
folders, sees every edit to app code and nothing else. `sync_overlay` adds
and removes links as files come and go; each change it makes is, to chalice,
an added or removed file, so the server reloads.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from devstack.config import CONFIG_FILE, StageConfig

# What `chalice deploy` puts in the Lambda package (besides dependencies).
SHIPPED = ("app.py", "chalicelib", "vendor")
_SKIPPED_DIRS = frozenset({"__pycache__"})
_SKIPPED_SUFFIXES = (".pyc", ".pyo")


def sync_overlay(stage: StageConfig, overlay_dir: Path) -> Path:
    """Create or update the overlay of `stage`'s project; return its path."""
    overlay_dir.mkdir(parents=True, exist_ok=True)
    for name in SHIPPED:
        _mirror(stage.project_dir / name, overlay_dir / name)
    _write_chalice_dir(stage, overlay_dir / ".chalice")
    return overlay_dir


def _mirror(source: Path, dest: Path) -> None:
    if source.is_dir():
        if dest.is_symlink() or dest.is_file():
            dest.unlink()
        dest.mkdir(exist_ok=True)
        wanted = {entry.name for entry in source.iterdir() if _shipped(entry)}
        for extra in dest.iterdir():
            if extra.name not in wanted:
                _remove(extra)
        for name in sorted(wanted):
            _mirror(source / name, dest / name)
    elif source.exists():
        _symlink(source, dest)
    else:
        _remove(dest)


def _shipped(entry: Path) -> bool:
    if entry.is_dir():
        return entry.name not in _SKIPPED_DIRS
    return not entry.name.endswith(_SKIPPED_SUFFIXES)


def _write_chalice_dir(stage: StageConfig, chalice_dir: Path) -> None:
    chalice_dir.mkdir(exist_ok=True)
    for entry in (stage.project_dir / ".chalice").iterdir():
        if entry.name != "config.json" and entry.is_file():
            _symlink(entry, chalice_dir / entry.name)
    raw = json.loads(json.dumps(stage.raw))
    # The merged variables all go to the stage: top-level ones merge under it,
    # so the app sees the same values.
    raw["stages"][stage.stage]["environment_variables"] = dict(stage.env)
    _write_if_changed(chalice_dir / CONFIG_FILE.name, json.dumps(raw, indent=2) + "\n")


def _write_if_changed(path: Path, text: str) -> None:
    # Rewriting an unchanged config would still look like an edit to chalice.
    if path.exists() and path.read_text() == text:
        return
    path.write_text(text)


def _symlink(target: Path, link: Path) -> None:
    if link.is_symlink() and Path(os.readlink(link)) == target:
        return
    _remove(link)
    link.symlink_to(target)


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)
