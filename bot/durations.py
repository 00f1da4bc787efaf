"""Read and write short durations such as `25h`, `2d`, `1w3d`, `90m`."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_PART = re.compile(r"(\d{1,6})\s*([mhdw])")
_WHOLE = re.compile(r"^\+?\s*(?:\d{1,6}\s*[mhdw]\s*)+$")


def parse_duration(text: str) -> timedelta:
    """Return the duration `text` describes; raise ValueError when it describes none."""
    cleaned = text.strip().lower()
    if not _WHOLE.match(cleaned):
        raise ValueError(f"“{text}” isn't a duration like 30m, 25h, 2d or 1w")
    total = timedelta()
    for amount, unit in _PART.findall(cleaned):
        total += timedelta(**{_UNITS[unit]: int(amount)})
    return total


def describe(delta: timedelta) -> str:
    """Return a short human description (`2 days 1 h`)."""
    minutes = int(delta.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = []
    if days:
        parts.append(f"{days} day{'s' if days != 1 else ''}")
    if hours:
        parts.append(f"{hours} h")
    if minutes or not parts:
        parts.append(f"{minutes} min")
    return " ".join(parts)


class TooFarAheadError(ValueError):
    """A pause's end lies further ahead than allowed."""


def parse_until(text: str, now: datetime, longest: timedelta) -> datetime:
    """Return when a pause ends: a duration (`2w`) from now, or a date (`2026-12-24`, UTC).

    Raises ValueError with a message fit to show when it is neither or in the past, and
    TooFarAheadError when it lies more than `longest` ahead.
    """
    try:
        end = now + parse_duration(text)
    except ValueError:
        try:
            day = datetime.strptime(text.strip(), "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError:
            raise ValueError(
                f"“{text}” isn't a date (2026-12-24) or a duration (2w, 10d)."
            ) from None
        end = datetime.combine(day.date(), time(0), tzinfo=UTC)
    if end <= now:
        raise ValueError("That date has already passed.")
    if end - now > longest:
        raise TooFarAheadError(f"That's more than {longest.days} days away.")
    return end
