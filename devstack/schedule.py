"""EventBridge schedule expressions, computed locally.

moto does not fire schedule rules, so the runner fires `@app.schedule`
handlers itself. `rate(...)` is supported fully; `cron(...)` supports what a
housekeeping job uses: numbers, names, `*`, `?`, lists, ranges and steps. The
`L`, `W` and `#` forms are refused with `UnsupportedSchedule`, which the
runner logs instead of firing at a wrong time. Times are UTC, as on AWS.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minutes?|hours?|days?)\s*\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_UNSUPPORTED_ATOM = re.compile(r"\d*[LW]|LW|.*#.*", re.IGNORECASE)
_MONTHS = [
    *("JAN", "FEB", "MAR", "APR", "MAY", "JUN"),
    *("JUL", "AUG", "SEP", "OCT", "NOV", "DEC"),
]
_WEEKDAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
# How far ahead a cron expression is searched before it is called impossible.
_SEARCH_DAYS = 5 * 366


class UnsupportedSchedule(ValueError):
    """An expression this local scheduler cannot fire faithfully."""


@dataclass(frozen=True)
class Rate:
    seconds: int

    def next_after(self, moment: datetime) -> datetime:
        return moment + timedelta(seconds=self.seconds)


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    days_of_month: frozenset[int] | None
    months: frozenset[int]
    # ISO weekdays, Monday 1 .. Sunday 7.
    days_of_week: frozenset[int] | None
    years: frozenset[int] | None

    def next_after(self, moment: datetime) -> datetime | None:
        start = moment.astimezone(UTC).replace(second=0, microsecond=0)
        start += timedelta(minutes=1)
        day = start.replace(hour=0, minute=0)
        for _ in range(_SEARCH_DAYS):
            if self._day_matches(day):
                found = self._first_time_in(day, start)
                if found is not None:
                    return found
            day += timedelta(days=1)
        return None

    def _day_matches(self, day: datetime) -> bool:
        if self.years is not None and day.year not in self.years:
            return False
        if day.month not in self.months:
            return False
        if self.days_of_month is not None and day.day not in self.days_of_month:
            return False
        return self.days_of_week is None or day.isoweekday() in self.days_of_week

    def _first_time_in(self, day: datetime, start: datetime) -> datetime | None:
        for hour in sorted(self.hours):
            for minute in sorted(self.minutes):
                candidate = day.replace(hour=hour, minute=minute)
                if candidate >= start:
                    return candidate
        return None


Schedule = Rate | Cron


def parse(expression: str) -> Schedule:
    """A schedule from a Chalice/EventBridge expression string."""
    text = expression.strip()
    if rate := _RATE.match(text):
        return _parse_rate(int(rate.group(1)), rate.group(2))
    if cron := _CRON.match(text):
        return _parse_cron(cron.group(1))
    raise UnsupportedSchedule(f"not a rate() or cron() expression: {expression!r}")


def _parse_rate(value: int, unit: str) -> Rate:
    if value < 1:
        raise UnsupportedSchedule(f"rate value must be positive, got {value}")
    singular = unit.removesuffix("s")
    # EventBridge refuses "1 minutes" and "5 minute"; so does this, early.
    if (value == 1) != (unit == singular):
        raise UnsupportedSchedule(
            f"rate({value} {unit}): write '1 {singular}' or 'N {singular}s'"
        )
    return Rate(seconds=value * _UNIT_SECONDS[singular])


def _parse_cron(body: str) -> Cron:
    fields = body.split()
    if len(fields) != 6:
        raise UnsupportedSchedule(f"cron() takes 6 fields, got {len(fields)}: {body!r}")
    minute, hour, dom, month, dow, year = fields
    if dom != "?" and dow != "?":
        raise UnsupportedSchedule("cron(): day-of-month or day-of-week must be '?'")
    return Cron(
        minutes=_field(minute, 0, 59),
        hours=_field(hour, 0, 23),
        days_of_month=None if dom in {"?", "*"} else _field(dom, 1, 31),
        months=_field(month, 1, 12, _name_lookup(_MONTHS, 1)),
        days_of_week=None if dow in {"?", "*"} else _weekdays(dow),
        years=None if year in {"?", "*"} else _field(year, 1970, 2199),
    )


def _weekdays(text: str) -> frozenset[int]:
    aws_days = _field(text, 1, 7, _name_lookup(_WEEKDAYS, 1))
    # EventBridge counts 1 = Sunday .. 7 = Saturday; datetime counts ISO days.
    return frozenset(7 if day == 1 else day - 1 for day in aws_days)


def _name_lookup(names: list[str], first: int) -> Callable[[str], int]:
    def lookup(token: str) -> int:
        upper = token.upper()
        if upper in names:
            return names.index(upper) + first
        return int(token)

    return lookup


def _field(
    text: str, low: int, high: int, value: Callable[[str], int] = int
) -> frozenset[int]:
    if any(_UNSUPPORTED_ATOM.fullmatch(atom) for atom in re.split(r"[,/-]", text)):
        raise UnsupportedSchedule(
            f"cron field {text!r}: L, W and # are not supported locally"
        )
    result: set[int] = set()
    for part in text.split(","):
        result.update(_part(part, low, high, value))
    if not result or min(result) < low or max(result) > high:
        raise UnsupportedSchedule(f"cron field {text!r} is outside {low}..{high}")
    return frozenset(result)


def _part(part: str, low: int, high: int, value: Callable[[str], int]) -> range:
    base, _, step_text = part.partition("/")
    step = int(step_text) if step_text else 1
    if base in {"*", "?"}:
        start, stop = low, high
    elif "-" in base:
        first, last = base.split("-", 1)
        start, stop = value(first), value(last)
    else:
        start = value(base)
        stop = high if step_text else start
    if step < 1 or start > stop:
        raise UnsupportedSchedule(f"cron part {part!r} is empty")
    return range(start, stop + 1, step)
