"""The `pause <until>` parameter that pairing and topic tags share."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.durations import TooFarAheadError, parse_until
from bot.errors import BadArgumentsError
from bot.registry import Param, ParamKind
from bot.replies import Rich

PAUSE_UNTIL = Param(
    "until", ParamKind.WORD, "A date like 2026-12-24 or a duration like 2w", required=True
)


def pause_end(text: str, now: datetime, longest: timedelta, *, too_long: str | Rich) -> datetime:
    """Return when a pause ends, or explain (with `too_long` past `longest`) why it can't."""
    try:
        return parse_until(text, now, longest)
    except TooFarAheadError:
        raise BadArgumentsError(too_long) from None
    except ValueError as error:
        raise BadArgumentsError(str(error)) from None
