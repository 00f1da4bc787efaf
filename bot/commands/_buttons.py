"""Read what a pressed button refers to: never trusted, always checked against this community."""

from __future__ import annotations

import re
from typing import Any, TypeVar

from bot.context import Context
from bot.errors import NotFoundError

UNKNOWN_BUTTON = "That button refers to nothing I know. Nothing was changed."

# Row ids are SQL INTEGER columns: PostgreSQL refuses anything above 2**31 - 1 with an error
# instead of finding nothing. Source: https://www.postgresql.org/docs/15/datatype-numeric.html
ROW_ID_MAX = 2**31 - 1

# ASCII digits only: int() also reads "٣", "  7 ", "+7" and "1_000", none of which we ever send.
_ROW_ID = re.compile(r"[0-9]{1,10}")

Row = TypeVar("Row")


def button_id(raw: str) -> int:
    """Return the row id a button's value carries, or say kindly that it makes no sense."""
    if not isinstance(raw, str) or not _ROW_ID.fullmatch(raw) or int(raw) > ROW_ID_MAX:
        raise NotFoundError(UNKNOWN_BUTTON)
    return int(raw)


async def community_row(ctx: Context, model: type[Row], raw: str, *, gone: str) -> Row:
    """Load the row a button refers to, only if it belongs to this community."""
    row: Any = await ctx.session.get(model, button_id(raw))
    if row is None or row.community_id != ctx.community_id:
        raise NotFoundError(gone)
    return row  # type: ignore[no-any-return]
