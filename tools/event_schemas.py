"""Write the JSON Schema of every message version, as its producer writes it.

python tools/event_schemas.py          # refresh docs/events/schemas/
python tools/event_schemas.py --check  # exit 1 if a file is stale or missing

One file per catalogue entry, `<Type>.v<N>.json`, from the model's pydantic
schema in serialization mode. A refresh never writes a breaking change over
a committed schema (see tools/schema_compat.py): a change that breaks
readers is a new version. `--allow-breaking` overrides that, for a version
that no one has ever published. A committed schema whose version left the
catalogue is reported, not deleted: remove it by hand once nothing reads it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chalicelib.messages import CATALOGUE, Message  # noqa: E402
from tools.schema_compat import breaking_changes  # noqa: E402

SCHEMA_DIR = ROOT / "docs" / "events" / "schemas"
REFRESH = "python tools/event_schemas.py (or make schemas)"
BREAKING = (
    "These changes break readers of a published version; make a new version "
    "instead (see chalicelib/messages.py):"
)
_FILE_NAME = re.compile(r"(?P<type>[A-Za-z]+)\.v(?P<version>[1-9][0-9]*)\.json")


def schema_of(model: type[Message]) -> dict[str, Any]:
    """The JSON Schema of what the producer of `model` writes."""
    return model.model_json_schema(mode="serialization")


def file_name(type_name: str, version: int) -> str:
    return f"{type_name}.v{version}.json"


def render(model: type[Message]) -> str:
    return json.dumps(schema_of(model), indent=2, ensure_ascii=False) + "\n"


def committed(schema_dir: Path = SCHEMA_DIR) -> dict[tuple[str, int], Path]:
    """Each committed schema file, by the (type, version) its name says."""
    found = {}
    for path in sorted(schema_dir.glob("*.json")):
        match = _FILE_NAME.fullmatch(path.name)
        if match is None:
            raise ValueError(f"{path.name} is not named <Type>.v<N>.json")
        found[(match["type"], int(match["version"]))] = path
    return found


def gate(schema_dir: Path = SCHEMA_DIR) -> list[str]:
    """What breaks a committed schema: versions gone, or changed incompatibly."""
    problems = []
    for (type_name, version), path in committed(schema_dir).items():
        model = CATALOGUE.get((type_name, version))
        if model is None:
            problems.append(
                f"{path.name}: {type_name} version {version} is no longer in the "
                "catalogue; delete its schema only once no consumer reads it"
            )
            continue
        old = json.loads(path.read_text(encoding="utf-8"))
        problems += [
            f"{path.name}: {change}"
            for change in breaking_changes(old, schema_of(model))
        ]
    return problems


def stale(schema_dir: Path = SCHEMA_DIR) -> list[str]:
    """The catalogue versions whose committed schema is missing or out of date."""
    problems = []
    for (type_name, version), model in sorted(CATALOGUE.items()):
        path = schema_dir / file_name(type_name, version)
        if not path.exists():
            problems.append(f"{path.name}: missing")
        elif path.read_text(encoding="utf-8") != render(model):
            problems.append(f"{path.name}: differs from what the model writes")
    return problems


def refresh(schema_dir: Path = SCHEMA_DIR, allow_breaking: bool = False) -> int:
    problems = gate(schema_dir)
    if problems:
        print(BREAKING if not allow_breaking else "Written despite breaking:")
        for problem in problems:
            print(f"  {problem}")
        if not allow_breaking:
            return 1
    schema_dir.mkdir(parents=True, exist_ok=True)
    for (type_name, version), model in sorted(CATALOGUE.items()):
        path = schema_dir / file_name(type_name, version)
        text = render(model)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {_shown(path)}")
    return 0


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--allow-breaking", action="store_true")
    args = parser.parse_args()
    if args.check:
        breaking = gate()
        # A file that breaks is not fixed by a refresh, so it is listed once.
        broken = {problem.split(":", 1)[0] for problem in breaking}
        out_of_date = [p for p in stale() if p.split(":", 1)[0] not in broken]
        if breaking:
            print(BREAKING)
            print("\n".join(f"  {problem}" for problem in breaking))
        if out_of_date:
            print(f"Out of date; run {REFRESH}:")
            print("\n".join(f"  {problem}" for problem in out_of_date))
        return 1 if breaking or out_of_date else 0
    return refresh(allow_breaking=args.allow_breaking)


if __name__ == "__main__":
    sys.exit(main())
