"""Time, injectable: tests and the console can move it forward to show schedules at work."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    """The current time in UTC, with an optional offset (console time travel, tests)."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self.offset = offset

    def now(self) -> datetime:
        """Return the current aware UTC time."""
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        """Move this clock forward (never backward: schedules only look ahead)."""
        if delta < timedelta(0):
            raise ValueError("time only moves forward")
        self.offset += delta
