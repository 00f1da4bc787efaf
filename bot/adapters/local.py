"""A platform that lives in this process: the console prints it, tests read it.

It keeps channels, threads and direct messages in memory, answers deliveries idempotently (a
repeated key returns what the first delivery returned), and can be told to fail, so the same
code paths the real platforms use can be exercised without a network.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.adapters.base import Delivered, Delivery, DeliveryError, DeliveryKind
from bot.replies import Reply


@dataclass
class LocalMessage:
    """One message as it stands in a local channel or thread."""

    message_id: str
    channel_id: str
    reply: Reply
    thread_id: str | None = None
    opened_thread: str | None = None
    edits: int = 0
    recipients: tuple[str, ...] = ()
    kind: DeliveryKind = DeliveryKind.POST


@dataclass
class LocalPlatform:
    """The in-process platform shared by the console and the test harness."""

    platform: str = "console"
    channel_interval: float = 0.0
    messages: dict[str, LocalMessage] = field(default_factory=dict)
    log: list[LocalMessage] = field(default_factory=list)
    # Deliveries still to fail, each with the retry-after the "platform" asks for (tests).
    failures: list[float | None] = field(default_factory=list)
    on_message: Callable[[LocalMessage, bool], None] | None = None
    _by_key: dict[str, Delivered] = field(default_factory=dict)

    def _message_id(self, delivery: Delivery) -> str:
        if delivery.kind is DeliveryKind.POST and delivery.handle:
            return delivery.handle
        return "m" + hashlib.sha1(delivery.key.encode(), usedforsecurity=False).hexdigest()[:8]

    async def deliver(self, delivery: Delivery) -> Delivered:
        """Put a message where the delivery says, once per key."""
        if delivery.key in self._by_key:
            return self._by_key[delivery.key]
        if self.failures:
            retry_after = self.failures.pop(0)
            raise DeliveryError("the local platform was told to fail", retry_after=retry_after)
        if delivery.kind is DeliveryKind.UPDATE:
            if not delivery.update_ref:
                raise DeliveryError("an edit needs the message it edits", permanent=True)
            target = self.messages.get(delivery.update_ref)
            if target is None:
                # Posted in an earlier run of the console: this process never saw it.
                target = LocalMessage(
                    delivery.update_ref, delivery.channel_id or "", delivery.reply
                )
                target.opened_thread = delivery.update_ref
                self.messages[target.message_id] = target
            target.reply = delivery.reply
            target.edits += 1
            done = Delivered(message_ref=target.message_id, thread_ref=target.opened_thread)
            self._notify(target, edited=True)
        else:
            channel = delivery.channel_id or ""
            if delivery.kind in (DeliveryKind.DIRECT, DeliveryKind.GROUP):
                # A conversation of its own, named after the people in it.
                channel = "dm:" + ",".join(sorted(delivery.recipient_ids))
            message = LocalMessage(
                message_id=self._message_id(delivery),
                channel_id=channel,
                reply=delivery.reply,
                thread_id=delivery.thread_ref if delivery.kind is DeliveryKind.THREAD else None,
                recipients=delivery.recipient_ids,
                kind=delivery.kind,
            )
            if delivery.kind is DeliveryKind.POST and delivery.thread_title:
                message.opened_thread = message.message_id
            self.messages[message.message_id] = message
            self.log.append(message)
            done = Delivered(
                message_ref=message.message_id,
                thread_ref=message.opened_thread,
                channel_id=message.channel_id,
            )
            self._notify(message, edited=False)
        self._by_key[delivery.key] = done
        return done

    def _notify(self, message: LocalMessage, *, edited: bool) -> None:
        if self.on_message is not None:
            self.on_message(message, edited)

    def in_channel(self, channel_id: str) -> list[LocalMessage]:
        """Return the top-level messages of a channel, oldest first."""
        return [
            m
            for m in self.log
            if m.channel_id == channel_id and m.thread_id is None and m.kind is DeliveryKind.POST
        ]

    def in_thread(self, thread_id: str) -> list[LocalMessage]:
        """Return the bot's messages in a thread, oldest first."""
        return [m for m in self.log if m.thread_id == thread_id]
