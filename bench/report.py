"""Rows of the one table `python -m bench` prints, and the arithmetic of them.

Every timing is shown beside its floor, measured in the same run, and as the
ratio of the two: the machines these run on are shared and noisy, so a ratio
travels between runs and machines where a raw figure would not.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

OK = "ok"
MISS = "MISS"
INFO = "info"
SKIP = "skip"
ERROR = "ERROR"

COLUMNS = ("ID", "Measured", "Floor", "Ratio", "Target", "Verdict", "Notes")


@dataclass(frozen=True)
class Row:
    id: str
    measured: str
    floor: str = "-"
    ratio: str = "-"
    target: str = "-"
    verdict: str = INFO
    notes: str = ""

    def cells(self) -> tuple[str, ...]:
        return (
            self.id,
            self.measured,
            self.floor,
            self.ratio,
            self.target,
            self.verdict,
            self.notes,
        )


def error_row(row_id: str, problem: str) -> Row:
    return Row(row_id, "-", verdict=ERROR, notes=problem)


def skipped_row(row_id: str, reason: str) -> Row:
    return Row(row_id, "-", verdict=SKIP, notes=reason)


def with_note(row: Row, note: str) -> Row:
    notes = f"{row.notes}; {note}" if row.notes else note
    return replace(row, notes=notes)


# --- arithmetic ----------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (p95 of 100 values is the 95th smallest)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def ratio(measured: float, floor: float) -> float:
    return measured / floor if floor > 0 else math.inf


def times(value: float) -> str:
    return f"{value:.2f}x"


def ms(seconds: float) -> str:
    millis = seconds * 1000
    return f"{millis:.1f} ms" if millis < 10 else f"{millis:.0f} ms"


def per_second(value: float) -> str:
    return f"{value:.0f}/s" if value >= 10 else f"{value:.1f}/s"


def count(value: float) -> str:
    return f"{value:g}"


def within(value: float, limit: float) -> str:
    return OK if value <= limit else MISS


# --- rendering -----------------------------------------------------------------


def render_text(rows: Iterable[Row]) -> str:
    table = [COLUMNS, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS) - 1)]

    def line(cells: Sequence[str]) -> str:
        padded = [cell.ljust(width) for cell, width in zip(cells, widths, strict=False)]
        return "  ".join([*padded, cells[-1]]).rstrip()

    rule = "  ".join("-" * width for width in widths) + "  -----"
    return "\n".join([line(table[0]), rule, *(line(cells) for cells in table[1:])])


def render_markdown(rows: Iterable[Row]) -> str:
    def line(cells: Sequence[str]) -> str:
        escaped = (cell.replace("|", "\\|") for cell in cells)
        return "| " + " | ".join(escaped) + " |"

    header = [line(COLUMNS), "|" + "---|" * len(COLUMNS)]
    return "\n".join([*header, *(line(row.cells()) for row in rows)])
