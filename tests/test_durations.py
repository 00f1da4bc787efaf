"""Durations typed by people (`25h`, `2d`, `1w3d`) and described back to them."""

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.durations import describe, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("90m", timedelta(minutes=90)),
        ("25h", timedelta(hours=25)),
        ("2d", timedelta(days=2)),
        ("1w", timedelta(weeks=1)),
        ("1w3d", timedelta(days=10)),
        ("1w 3d 2h 5m", timedelta(days=10, hours=2, minutes=5)),
        ("2d 2d", timedelta(days=4)),
        ("  2D ", timedelta(days=2)),
        ("+2h", timedelta(hours=2)),
        ("0m", timedelta(0)),
        ("999999m", timedelta(minutes=999_999)),
    ],
)
def test_parse_duration_reads_units_and_combinations(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "   ", "2", "d", "2x", "2s", "1.5h", "-2d", "2d junk", "two days", "1234567m", "2d,3h"],
)
def test_parse_duration_refuses_what_is_not_a_duration(text):
    with pytest.raises(ValueError, match="isn't a duration"):
        parse_duration(text)


def test_parse_duration_error_quotes_the_input():
    with pytest.raises(ValueError, match="“soon”"):
        parse_duration("soon")


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(0), "0 min"),
        (timedelta(seconds=59), "0 min"),
        (timedelta(minutes=1), "1 min"),
        (timedelta(minutes=90), "1 h 30 min"),
        (timedelta(hours=1), "1 h"),
        (timedelta(days=1), "1 day"),
        (timedelta(days=2, hours=1), "2 days 1 h"),
        (timedelta(days=14), "14 days"),
        (timedelta(days=1, minutes=5), "1 day 5 min"),
        (timedelta(weeks=1, days=3, hours=2, minutes=5), "10 days 2 h 5 min"),
    ],
)
def test_describe(delta, expected):
    assert describe(delta) == expected


@settings(database=None)
@given(
    st.integers(0, 99),
    st.integers(0, 99),
    st.integers(0, 99),
    st.integers(0, 99),
)
def test_parsed_parts_add_up_and_describe_matches(weeks, days, hours, minutes):
    text = f"{weeks}w{days}d {hours}h {minutes}m"
    delta = parse_duration(text)

    assert delta == timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes)
    total_minutes = int(delta.total_seconds() // 60)
    day_count, rest = divmod(total_minutes, 24 * 60)
    described = describe(delta)
    if day_count:
        assert described.startswith(f"{day_count} day")
    assert (rest // 60 == 0) or f"{rest // 60} h" in described
    assert (rest % 60 == 0 and total_minutes) or described.endswith(f"{rest % 60} min")


def test_parse_until_takes_a_duration_or_a_date_and_refuses_the_past_and_the_far_future():
    from datetime import UTC, datetime, timedelta

    from bot.durations import parse_until

    now = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    year = timedelta(days=366)
    assert parse_until("2w", now, year) == now + timedelta(weeks=2)
    assert parse_until("2026-12-24", now, year) == datetime(2026, 12, 24, tzinfo=UTC)
    for text, message in (
        ("someday", "isn't a date"),
        ("2026-01-01", "already passed"),
        ("2030-01-01", "days away"),
    ):
        with pytest.raises(ValueError, match=message):
            parse_until(text, now, year)
