"""Read what a pressed button refers to: never trusted, always checked against this community."""

from __future__ import annotations

from typing import Any, TypeVar

from bot.context import Context
from bot.errors import NotFoundError

UNKNOWN_BUTTON = "That button refers to nothing I know. Nothing was changed."

Row = TypeVar("Row")


def button_id(raw: str) -> int:
    """Return the row id a button's value carries, or say kindly that it makes no sense."""
    try:
        return int(raw)
    except ValueError:
        raise NotFoundError(UNKNOWN_BUTTON) from None


async def community_row(ctx: Context, model: type[Row], raw: str, *, gone: str) -> Row:
    """Load the row a button refers to, only if it belongs to this community."""
    row: Any = await ctx.session.get(model, button_id(raw))
    if row is None or row.community_id != ctx.community_id:
        raise NotFoundError(gone)
    return row  # type: ignore[no-any-return]
