"""Working hours as UTC intervals: conversion from local hours, overlap, and slot masks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

DAY = 24 * 60
SLOT = 30  # minutes per bit of a working-hours mask; 48 slots fit one uint64
SLOTS = DAY // SLOT
DEFAULT_LOCAL_HOURS = (9 * 60, 17 * 60)

Interval = tuple[int, int]


def utc_offset_minutes(zone: str, at: datetime) -> int:
    """Return the UTC offset of an IANA time zone at a moment (daylight saving included)."""
    offset = at.astimezone(ZoneInfo(zone)).utcoffset()
    return 0 if offset is None else int(offset.total_seconds() // 60)


def working_hours_utc(start_local: int, end_local: int, offset_minutes: int) -> tuple[Interval]:
    """Return local working hours (minutes of the day) as one UTC interval."""
    return (((start_local - offset_minutes) % DAY, (end_local - offset_minutes) % DAY),)


def _pieces(intervals: Iterable[Interval]) -> list[Interval]:
    """Split intervals that wrap midnight, so every piece has start < end within one day."""
    pieces: list[Interval] = []
    for start, end in intervals:
        start, end = start % DAY, end % DAY
        if start < end:
            pieces.append((start, end))
        else:  # wraps midnight, or a full day when start == end
            pieces.append((start, DAY))
            if end:
                pieces.append((0, end))
    return pieces


def effective_hours(
    working_hours: Sequence[Interval], utc_offset: int | None
) -> tuple[Interval, ...] | None:
    """Return a member's UTC working hours: explicit, else 9–17 local from the offset, else None."""
    if working_hours:
        return tuple(working_hours)
    if utc_offset is not None:
        return working_hours_utc(*DEFAULT_LOCAL_HOURS, utc_offset)
    return None


def common_hours(groups: Sequence[Sequence[Interval]]) -> list[Interval]:
    """Return the UTC intervals inside everyone's working hours (pieces within one day)."""
    common = _pieces(groups[0])
    for other in groups[1:]:
        pieces = _pieces(other)
        common = [
            (max(a, c), min(b, d)) for a, b in common for c, d in pieces if max(a, c) < min(b, d)
        ]
    common.sort()
    # Join pieces that touch, including a window that wraps midnight.
    merged: list[Interval] = []
    for start, end in common:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    if len(merged) > 1 and merged[0][0] == 0 and merged[-1][1] == DAY:
        merged = [(merged[-1][0], merged[0][1]), *merged[1:-1]]
    return merged


def overlap_minutes(windows: Sequence[Interval]) -> int:
    """Return the total length of intervals as returned by `common_hours`."""
    return sum((end - start) % DAY or DAY for start, end in windows)


def slot_mask(intervals: Iterable[Interval]) -> int:
    """Return a 48-bit mask of the half-hour UTC slots whose middle lies in working hours."""
    mask = 0
    for start, end in _pieces(intervals):
        for slot in range(SLOTS):
            middle = slot * SLOT + SLOT // 2
            if start <= middle < end:
                mask |= 1 << slot
    return mask


def describe_window(window: Interval) -> str:
    """Return `13:00–16:00 UTC`."""
    start, end = window

    def hhmm(minute: int) -> str:
        return f"{minute % DAY // 60:02d}:{minute % 60:02d}"

    return f"{hhmm(start)}–{hhmm(end)} UTC"
