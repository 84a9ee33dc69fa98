"""Schedule expressions as the runner fires them (UTC, EventBridge's syntax)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from devstack.schedule import UnsupportedSchedule, parse

# A Thursday.
NOW = datetime(2026, 12, 3, 13, 55, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("rate(5 minutes)", datetime(2026, 12, 3, 14, 0, 10, tzinfo=UTC)),
        ("rate(1 hour)", datetime(2026, 12, 3, 14, 55, 10, tzinfo=UTC)),
        ("rate(1 day)", datetime(2026, 12, 4, 13, 55, 10, tzinfo=UTC)),
        ("cron(*/15 * * * ? *)", datetime(2026, 12, 3, 14, 0, tzinfo=UTC)),
        ("cron(0 2 * * ? *)", datetime(2026, 12, 4, 2, 0, tzinfo=UTC)),
        ("cron(0 9 ? * MON-FRI *)", datetime(2026, 12, 4, 9, 0, tzinfo=UTC)),
        ("cron(0 10 ? * 1 *)", datetime(2026, 12, 6, 10, 0, tzinfo=UTC)),
        ("cron(30 0 1 JAN,JUL ? *)", datetime(2027, 1, 1, 0, 30, tzinfo=UTC)),
        ("cron(0 0 1 1 ? 2030)", datetime(2030, 1, 1, 0, 0, tzinfo=UTC)),
    ],
)
def test_next_fire_time(expression: str, expected: datetime) -> None:
    assert parse(expression).next_after(NOW) == expected


def test_a_cron_schedule_never_fires_twice_in_one_minute() -> None:
    plan = parse("cron(* * * * ? *)")
    first = plan.next_after(NOW)
    assert first is not None
    assert plan.next_after(first) == datetime(2026, 12, 3, 13, 57, tzinfo=UTC)


def test_an_impossible_date_never_fires() -> None:
    assert parse("cron(0 0 31 2 ? *)").next_after(NOW) is None


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 minutes)",
        "rate(5 minute)",
        "rate(0 minutes)",
        "cron(0 0 L * ? *)",
        "cron(0 0 15W * ? *)",
        "cron(0 0 ? * 6#3 *)",
        "cron(0 0 * * * *)",
        "cron(0 0 * *)",
        "cron(99 0 * * ? *)",
        "every day",
    ],
)
def test_unsupported_or_invalid_expressions_are_refused(expression: str) -> None:
    with pytest.raises(UnsupportedSchedule):
        parse(expression)
