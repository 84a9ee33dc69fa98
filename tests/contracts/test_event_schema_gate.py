"""The gate: no model may break a schema committed for its version.

docs/events/schemas holds each version's schema as its producer writes it.
A model change that breaks a reader of a committed schema fails here; the
fix is a new version, not a new schema for the old one.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from chalicelib.messages import CATALOGUE
from tools import event_schemas
from tools.event_schemas import REFRESH, SCHEMA_DIR, committed, gate, schema_of, stale
from tools.schema_compat import breaking_changes

COMMITTED = committed()


@pytest.mark.parametrize(
    "version", sorted(COMMITTED), ids=[p.name for _, p in sorted(COMMITTED.items())]
)
def test_the_model_of_a_committed_schema_breaks_none_of_its_promises(
    version: tuple[str, int],
) -> None:
    path = COMMITTED[version]
    model = CATALOGUE.get(version)
    assert model is not None, (
        f"{path.name} is committed but the catalogue has no {version[0]} "
        f"version {version[1]}: a consumer may still read it"
    )

    changes = breaking_changes(json.loads(path.read_text()), schema_of(model))

    assert changes == [], f"{model.__name__} breaks {path.name}; make a new version"


def test_every_version_in_the_catalogue_has_a_committed_schema() -> None:
    assert set(COMMITTED) == set(CATALOGUE)


def test_the_committed_schemas_are_what_the_models_write_now() -> None:
    problems = stale()

    assert problems == [], f"run {REFRESH}: " + "; ".join(problems)


@pytest.fixture
def schema_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "schemas"
    shutil.copytree(SCHEMA_DIR, copy)
    return copy


def test_the_gate_passes_the_committed_schemas_as_they_are(schema_copy: Path) -> None:
    assert gate(schema_copy) == []


def test_the_gate_fails_a_committed_version_gone_from_the_catalogue(
    schema_copy: Path,
) -> None:
    shutil.copy(
        schema_copy / "FileCreated.v2.json", schema_copy / "FileCreated.v3.json"
    )
    shutil.copy(schema_copy / "FileCreated.v2.json", schema_copy / "FileMoved.v1.json")

    problems = gate(schema_copy)

    assert problems == [
        "FileCreated.v3.json: FileCreated version 3 is no longer in the catalogue; "
        "delete its schema only once no consumer reads it",
        "FileMoved.v1.json: FileMoved version 1 is no longer in the catalogue; "
        "delete its schema only once no consumer reads it",
    ]


def test_the_gate_fails_a_model_that_dropped_a_committed_property(
    schema_copy: Path,
) -> None:
    path = schema_copy / "FileDeleted.v2.json"
    schema = json.loads(path.read_text())
    schema["$defs"]["FileDetails"]["properties"]["thumbnail"] = {"type": "string"}
    path.write_text(json.dumps(schema))

    assert gate(schema_copy) == [
        "FileDeleted.v2.json: data.file.thumbnail: property removed (or renamed)"
    ]


def test_a_refresh_writes_no_breaking_change_over_a_committed_schema(
    schema_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = schema_copy / "DeleteFile.v1.json"
    schema = json.loads(path.read_text())
    schema["$defs"]["DeleteFileData"]["properties"]["reason"] = {"type": "string"}
    path.write_text(json.dumps(schema))
    before = path.read_text()

    status = event_schemas.refresh(schema_copy)

    assert status == 1
    assert path.read_text() == before
    assert (
        "DeleteFile.v1.json: data.reason: property removed" in capsys.readouterr().out
    )


def test_a_refresh_writes_a_missing_schema_and_then_nothing_is_stale(
    schema_copy: Path,
) -> None:
    (schema_copy / "FileRejected.v1.json").unlink()
    assert stale(schema_copy) == ["FileRejected.v1.json: missing"]

    status = event_schemas.refresh(schema_copy)

    assert status == 0
    assert stale(schema_copy) == []
