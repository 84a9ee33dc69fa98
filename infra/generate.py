"""Write the generated, committed infrastructure files, or check them.

    python -m infra.generate          # rewrite them
    python -m infra.generate --check  # exit 1 if any is out of date

The files: `infra/template.json` (the stack) and `.chalice/policy-<function>.json`
(each function's policy, with the placeholders the deploy script fills in).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from infra.policies import Arns, policy_documents
from infra.stages import ACCOUNT, REGION, ROOT, placeholder_names, policy_file
from infra.template import template

TEMPLATE_FILE = Path("infra") / "template.json"

log = logging.getLogger("infra.generate")


def render(document: Any) -> str:
    return json.dumps(document, indent=2) + "\n"


def generated_files() -> dict[Path, str]:
    """Every generated file, by its path relative to the repository."""
    files = {TEMPLATE_FILE: render(template())}
    arns = Arns(placeholder_names(), ACCOUNT, REGION)
    for function, document in policy_documents(arns).items():
        files[Path(".chalice") / policy_file(function)] = render(document)
    return files


def stale_files(root: Path = ROOT) -> list[Path]:
    """The generated files whose committed text differs from the generator's."""
    return [
        path
        for path, text in generated_files().items()
        if not (root / path).exists() or (root / path).read_text() != text
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.generate")
    parser.add_argument(
        "--check", action="store_true", help="only check the committed files"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.check:
        stale = stale_files()
        for path in stale:
            log.error("%s is out of date: run python -m infra.generate", path)
        return 1 if stale else 0
    for path, text in generated_files().items():
        (ROOT / path).write_text(text)
        log.info("wrote %s", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
