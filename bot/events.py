"""What comes in: people, places and the things they do, in platform-neutral terms."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class PlaceKind(StrEnum):
    """The kind of conversation something happened in."""

    CHANNEL = "channel"
    FORUM = "forum"
    DIRECT = "direct"
    GROUP = "group"


@dataclass(frozen=True, slots=True)
class Community:
    """One Slack workspace, Discord guild or console: no data crosses between them."""

    platform: str
    external_id: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class Actor:
    """A person (or bot) as the platform identifies them."""

    user_id: str
    display_name: str
    is_platform_admin: bool = False
    is_bot: bool = False
    timezone: str | None = None


@dataclass(frozen=True, slots=True)
class Place:
    """Where something happened: a channel, optionally a thread inside it."""

    channel_id: str
    thread_id: str | None = None
    kind: PlaceKind = PlaceKind.CHANNEL
    channel_name: str = ""


def new_invocation_id() -> str:
    """Return a short id that ties every log line of one request together."""
    return uuid.uuid4().hex[:12]


def _now() -> datetime:
    return datetime.now(UTC)


# The key of `Invocation.options` that names the subcommand path below the root command, for
# platforms whose typed options arrive with the command already resolved (Discord).
SUBCOMMAND_OPTION = "__subcommand__"


@dataclass(frozen=True, slots=True)
class Invocation:
    """A command someone ran, such as `/ask …` or `/crowdmentor questions mine`.

    `text` is everything after the command name for text platforms (console, Slack);
    `options` carries already-typed values where the platform has them (Discord).
    """

    command: str
    text: str
    actor: Actor
    community: Community
    place: Place
    options: dict[str, Any] | None = None
    invocation_id: str = field(default_factory=new_invocation_id)
    received_at: datetime = field(default_factory=_now)


@dataclass(frozen=True, slots=True)
class ButtonPress:
    """Someone pressed a button the bot rendered earlier."""

    action: str
    value: str
    actor: Actor
    community: Community
    place: Place
    invocation_id: str = field(default_factory=new_invocation_id)


@dataclass(frozen=True, slots=True)
class FormSubmission:
    """Someone submitted a form (Slack modal, Discord modal) the bot asked for."""

    form_id: str
    values: dict[str, Any]
    actor: Actor
    community: Community
    place: Place
    invocation_id: str = field(default_factory=new_invocation_id)


@dataclass(frozen=True, slots=True)
class ThreadMessage:
    """A message somebody wrote in a thread the bot may be tracking."""

    message_id: str
    actor: Actor
    community: Community
    place: Place
    invocation_id: str = field(default_factory=new_invocation_id)
