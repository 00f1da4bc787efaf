"""The adapter protocol: the only way the core reaches a platform."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.events import Community
from bot.replies import Reply


class DeliveryKind(StrEnum):
    """What the outbox asks an adapter to do."""

    POST = "post"  # a new message in a channel; opens a thread when `thread_title` is set
    THREAD = "thread"  # a message inside a thread
    UPDATE = "update"  # edit a message the bot posted earlier
    DIRECT = "direct"  # a direct message to one person
    GROUP = "group"  # a conversation with several people


@dataclass(frozen=True, slots=True)
class Delivery:
    """One outbox message, resolved and ready for a platform."""

    key: str  # unique per community; an adapter may use it to avoid posting twice
    kind: DeliveryKind
    community: Community
    reply: Reply
    channel_id: str | None = None
    thread_ref: str | None = None
    update_ref: str | None = None
    recipient_ids: tuple[str, ...] = ()
    thread_title: str = ""
    topics: tuple[str, ...] = ()
    handle: str = ""  # a short human name (e.g. "q12") for text adapters
    attempt: int = 0  # >0: an earlier attempt may have reached the platform


@dataclass(frozen=True, slots=True)
class Delivered:
    """Where the platform put the message."""

    message_ref: str | None = None
    thread_ref: str | None = None
    channel_id: str | None = None


class DeliveryError(Exception):
    """A platform refused or failed a delivery."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, permanent: bool = False
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent


class Adapter(Protocol):
    """What the delivery worker needs from a platform."""

    platform: str
    # Minimum seconds between two messages in one channel (Slack: about one per second).
    channel_interval: float

    async def deliver(self, delivery: Delivery) -> Delivered:
        """Send one message; raise `DeliveryError` when it did not go through."""
        ...


class PlatformAdapter(Adapter, Protocol):
    """An adapter that connects to a real platform and serves it until cancelled."""

    async def serve(self) -> None:
        """Connect and handle the platform's events until the task is cancelled."""
        ...
