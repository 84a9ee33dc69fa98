"""`python -m bench`: every benchmark, one table.

    python -m bench              # the full run (a few minutes)
    python -m bench --quick      # few repetitions, small sizes: proves it runs
    python -m bench --format markdown --only cold --only calls
    python -m bench --list-rows  # the rows a run prints, one id a line
    python -m bench --markdown-out table.md   # also keep the table as Markdown

Progress goes to stderr; the header and the table go to stdout. The exit
status is 1 when a benchmark could not run (a row says ERROR), not when a
figure misses its target (a row says MISS).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

from bench import (
    calls,
    coldstart,
    latency,
    listing,
    machine,
    package,
    report,
    throughput,
)
from bench.context import FULL, QUICK, Context
from bench.harness import Handlers, load_app
from bench.report import Row
from bench.stage import Identity, environment, jwks_server, stage_env


@dataclass(frozen=True)
class Section:
    name: str
    plan: Callable[[Context], list[str]]
    run: Callable[[Context], list[Row]]


def _section(name: str, module: ModuleType) -> Section:
    return Section(name, module.plan, module.run)


SECTIONS = (
    _section("cold", coldstart),
    _section("calls", calls),
    _section("throughput", throughput),
    _section("listing", listing),
    _section("latency", latency),
    _section("package", package),
)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Measure cold start, AWS calls, throughput, listing cost, "
        "local event latency and package size; print one table.",
    )
    parser.add_argument("--quick", action="store_true", help="few runs, small sizes")
    parser.add_argument("--format", choices=("text", "markdown"), default="text")
    parser.add_argument(
        "--only",
        action="append",
        choices=[s.name for s in SECTIONS],
        help="run only this section (repeatable)",
    )
    parser.add_argument(
        "--list-rows", action="store_true", help="print the row ids a run prints"
    )
    parser.add_argument(
        "--markdown-out",
        type=Path,
        help="also write the header and table as Markdown to this file",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    sections = [s for s in SECTIONS if not args.only or s.name in args.only]
    identity = Identity.for_stage()
    with jwks_server(identity) as jwks_url:
        with environment(stage_env(jwks_url, None)):
            module = load_app()
        ctx = Context(
            sizes=QUICK if args.quick else FULL,
            quick=args.quick,
            identity=identity,
            jwks_url=jwks_url,
            module=module,
            handlers=Handlers.of(module.app),
        )
        if args.list_rows:
            print("\n".join(i for s in sections for i in s.plan(ctx)))
            return 0
        started = time.monotonic()
        rows = [row for section in sections for row in run_section(section, ctx)]
    top = header(args.quick, time.monotonic() - started)
    render = report.render_markdown if args.format == "markdown" else report.render_text
    print(top)
    print(render(rows))
    if args.markdown_out:
        args.markdown_out.write_text(f"{top}\n{report.render_markdown(rows)}\n")
    return 1 if any(row.verdict == report.ERROR for row in rows) else 0


def run_section(section: Section, ctx: Context) -> list[Row]:
    """The section's rows; every planned row, as ERROR if it could not run."""
    planned = section.plan(ctx)
    started = time.monotonic()
    print(f"[bench] {section.name}: running", file=sys.stderr, flush=True)
    try:
        rows = section.run(ctx)
    except Exception as exc:  # one broken section must not hide the others
        problem = f"{type(exc).__name__}: {exc}".replace("\n", " ")[:300]
        rows = [report.error_row(row_id, problem) for row_id in planned]
    took = time.monotonic() - started
    print(f"[bench] {section.name}: {took:.0f} s", file=sys.stderr, flush=True)
    made = {row.id for row in rows}
    missing = [i for i in planned if i not in made]
    return rows + [report.error_row(i, "planned but not measured") for i in missing]


def header(quick: bool, took: float) -> str:
    mode = "quick (--quick: few runs, small sizes)" if quick else "full"
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"python -m bench, {mode}: {when}, {took:.0f} s\n"
        f"machine: {machine.describe()}\n"
        "Ratio: measured / floor (both from this run; counts: measured / minimum)\n"
    )
