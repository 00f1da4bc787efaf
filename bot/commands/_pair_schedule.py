"""When pairing rounds fall: weekly, every other week, or monthly, in the community's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.store.pairing_models import Cadence

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# A round that the bot missed (it was down) still runs when it comes back within this time.
MISSED_ROUND_GRACE = timedelta(hours=12)


def parse_weekday(text: str) -> int:
    """Return 0-6 for a weekday name or its first three letters."""
    word = text.strip().lower()
    for index, name in enumerate(WEEKDAYS):
        if word in (name, name[:3]):
            return index
    raise ValueError(f"“{text}” isn't a weekday (monday … sunday)")


def parse_clock(text: str) -> int:
    """Return minutes after midnight for `HH:MM`."""
    hours, _, minutes = text.strip().partition(":")
    try:
        value = int(hours) * 60 + int(minutes or 0)
    except ValueError:
        raise ValueError(f"“{text}” isn't a time like 09:30") from None
    if not (0 <= int(hours) < 24 and 0 <= int(minutes or 0) < 60):
        raise ValueError(f"“{text}” isn't a time like 09:30")
    return value


def parse_zone(text: str) -> ZoneInfo:
    """Return the time zone named like `Europe/Berlin` (or UTC)."""
    try:
        return ZoneInfo(text.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"“{text}” isn't a time zone I know (try Europe/Berlin or UTC)") from None


def _at(day: date, minute_of_day: int, zone: ZoneInfo) -> datetime:
    local = datetime.combine(day, time(minute_of_day // 60, minute_of_day % 60), tzinfo=zone)
    return local.astimezone(UTC)


def _first_weekday_of_month(year: int, month: int, weekday: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7)


def next_round(
    cadence: Cadence,
    weekday: int,
    minute_of_day: int,
    zone: ZoneInfo,
    after: datetime,
    anchor: datetime | None = None,
) -> datetime:
    """Return the first round strictly after `after` (UTC, aware)."""
    local_day = after.astimezone(zone).date()
    if cadence is Cadence.MONTHLY:
        year, month = local_day.year, local_day.month
        for _ in range(3):
            candidate = _at(_first_weekday_of_month(year, month, weekday), minute_of_day, zone)
            if candidate > after:
                return candidate
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        raise AssertionError("a monthly round always falls within three months")
    day = local_day + timedelta(days=(weekday - local_day.weekday()) % 7)
    candidate = _at(day, minute_of_day, zone)
    while candidate <= after:
        day += timedelta(days=7)
        candidate = _at(day, minute_of_day, zone)
    if cadence is Cadence.BIWEEKLY and anchor is not None:
        weeks = (candidate.astimezone(zone).date() - anchor.astimezone(zone).date()).days // 7
        if weeks % 2:
            candidate = _at(day + timedelta(days=7), minute_of_day, zone)
    return candidate


def round_key(scheduled_for: datetime) -> str:
    """Return the key that makes a scheduled round unique within its community."""
    return scheduled_for.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
