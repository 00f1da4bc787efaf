"""Errors a handler may raise on purpose; each becomes a kind, private reply."""

from __future__ import annotations

from bot.replies import Reply, Rich, as_rich


class UserError(Exception):
    """Something the member can fix; the message is shown to them as it is."""

    def __init__(self, message: str | Rich, *, reply: Reply | None = None) -> None:
        super().__init__(as_rich(message).plain())
        self.rich = as_rich(message)
        self.reply = reply


class BadArgumentsError(UserError):
    """The command's words did not fit its parameters."""


class PermissionDeniedError(UserError):
    """The member's role does not allow this."""


class NotFoundError(UserError):
    """The thing referred to does not exist in this community."""
