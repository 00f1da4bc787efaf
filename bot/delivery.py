"""The outbox worker: send queued messages through their adapter, in order, exactly once.

Rows are claimed with a lease (and `FOR UPDATE SKIP LOCKED` on PostgreSQL) so several instances
share the work without sending anything twice; each lease is renewed just before its send, so a
batch that takes longer than a lease is never sent by two instances. A lease that ran out without
a result means its holder died mid-send, so the next send is a retry (the adapter first looks for
the copy the platform may already hold). A failed send is retried with exponential back-off, or
after the platform's Retry-After; the platform's ids are stored back and handed to the row's
`on_delivered` hook in the same transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, or_, select

from bot.adapters.base import Adapter, Delivered, Delivery, DeliveryError, DeliveryKind
from bot.context import Services
from bot.events import Community as CommunityRef
from bot.logs import invocation_scope
from bot.registry import Access
from bot.replies import reply_from_json
from bot.store.models import Community, OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

BATCH_SIZE = 50
BACKOFF_MAX_SECONDS = 15 * 60
# How long a message waits for the message it belongs to (its parent) before looking again.
PARENT_WAIT = timedelta(seconds=2)


class ParentGoneError(LookupError):
    """A message's parent was deleted or given up on, so it can never be placed."""


def backoff(attempt: int, base: float) -> float:
    """Return seconds to wait before retry number `attempt` (1-based), from `base`, with jitter."""
    # Retries go on until a time span has passed, so the exponent is capped to stay finite.
    delay = min(BACKOFF_MAX_SECONDS, base * 2 ** (min(attempt, 32) - 1))
    return delay * random.uniform(0.8, 1.2)


class DeliveryWorker:
    """Sends what the outbox holds."""

    def __init__(self, services: Services, adapters: dict[str, Adapter]) -> None:
        self.services = services
        self.database = services.database
        self.registry = services.registry
        self.settings = services.settings
        self.clock = services.clock
        self.adapters = adapters
        self._wake = asyncio.Event()
        self._stopping = False
        # When each channel may take its next message, by (community, channel).
        self._channel_free_at: dict[tuple[str, str], datetime] = {}
        # Messages postponed for pacing in the current drain, by (community id, key).
        self._paced: dict[tuple[int, str], datetime] = {}

    def wake(self) -> None:
        """Look for work now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Deliver until stopped."""
        while not self._stopping:
            try:
                await self.drain()
            except Exception:
                log.exception("delivery pass failed; retrying at the next poll")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.delivery.poll_seconds)
            self._wake.clear()

    def stop(self) -> None:
        """Finish the current message and stop."""
        self._stopping = True
        self._wake.set()

    async def drain(self) -> int:
        """Deliver everything due now; return how many messages were sent."""
        # A message that must wait for its channel's pace is postponed, not slept on, so other
        # conversations' messages go out meanwhile; the drain still ends only once it is sent.
        sent = 0
        self._forget_free_channels()
        self._paced = {}
        while True:
            batch = await self._claim()
            if not batch:
                if not self._paced or self._stopping:
                    return sent
                await self._wait_for_pace()
                continue
            for row, community, interrupted in batch:
                sent += await self._deliver(row, community, interrupted)

    async def _wait_for_pace(self) -> None:
        """Sleep until the first paced message may go (or new work arrives)."""
        soonest = min(self._paced.values())
        wait = (soonest - self.clock.now()).total_seconds()
        if wait > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)
            self._wake.clear()
        now = self.clock.now()
        self._paced = {key: at for key, at in self._paced.items() if at > now}

    def _forget_free_channels(self) -> None:
        # One entry per channel ever posted to would otherwise live as long as the process.
        now = self.clock.now()
        self._channel_free_at = {k: at for k, at in self._channel_free_at.items() if at > now}

    async def _claim(self) -> list[tuple[OutboxMessage, Community, bool]]:
        """Lease due rows; say of each whether an earlier lease on it ran out unfinished."""
        now = self.clock.now()
        lease = timedelta(seconds=self.settings.delivery.lease_seconds)
        platforms = list(self.adapters)
        async with self.database.unit_of_work() as uow:
            query = (
                select(OutboxMessage, Community)
                .join(Community, col(Community.id) == col(OutboxMessage.community_id))
                .where(
                    OutboxMessage.status == OutboxStatus.PENDING,
                    col(OutboxMessage.next_attempt_at) <= now,
                    or_(
                        col(OutboxMessage.lease_until).is_(None),
                        col(OutboxMessage.lease_until) < now,
                    ),
                    col(Community.platform).in_(platforms),
                )
                .order_by(col(OutboxMessage.id))
                .limit(BATCH_SIZE)
            )
            if not self.database.is_sqlite:
                # Another instance skips what this one holds instead of waiting for it.
                query = query.with_for_update(skip_locked=True, of=OutboxMessage)
            rows = list((await uow.session.exec(query)).all())
            claimed = []
            for row, community in rows:
                # Finishing, failing or postponing clears the lease: one still set was cut short.
                claimed.append((row, community, row.lease_until is not None))
                row.lease_until = now + lease
                uow.session.add(row)
        return claimed

    async def _renew(self, row: OutboxMessage) -> bool:
        """Extend this instance's lease right before sending; False if the row is not ours now."""
        renewed = self.clock.now() + timedelta(seconds=self.settings.delivery.lease_seconds)
        async with self.database.unit_of_work() as uow:
            result = await uow.session.exec(  # type: ignore[call-overload]
                update(OutboxMessage)
                .where(
                    col(OutboxMessage.id) == row.id,
                    col(OutboxMessage.status) == OutboxStatus.PENDING,
                    col(OutboxMessage.lease_until) == row.lease_until,
                )
                .values(lease_until=renewed)
            )
        if result.rowcount != 1:
            log.info("%s was taken over by another instance", row.key)
            return False
        row.lease_until = renewed
        return True

    async def _resolve_parent(
        self, row: OutboxMessage, session: object
    ) -> tuple[str | None, str | None, str | None] | None:
        """Return the parent's (message, thread, channel), or None while it is not delivered.

        Raise `ParentGoneError` when it never will be (forgotten with its member, or given up on).
        """
        assert row.parent_key is not None
        query = select(OutboxMessage).where(
            OutboxMessage.community_id == row.community_id, OutboxMessage.key == row.parent_key
        )
        parent = (await session.exec(query)).first()  # type: ignore[attr-defined]
        if parent is None or parent.status == OutboxStatus.FAILED:
            raise ParentGoneError(row.parent_key)
        if parent.status != OutboxStatus.SENT:
            return None
        return (
            parent.platform_ref,
            parent.platform_thread_ref or parent.platform_ref,
            parent.platform_channel_id,
        )

    async def _deliver(self, row: OutboxMessage, community: Community, interrupted: bool) -> int:
        with invocation_scope(f"outbox-{row.id}"):
            adapter = self.adapters[community.platform]
            thread_ref, update_ref, channel_id = row.thread_ref, row.update_ref, row.channel_id
            if row.parent_key:
                try:
                    async with self.database.unit_of_work() as uow:
                        refs = await self._resolve_parent(row, uow.session)
                except ParentGoneError:
                    # Waiting would be forever: a thread reply has nowhere to go without its post.
                    await self._failed(row, "its parent message is gone", None, permanent=True)
                    return 0
                if refs is None:
                    paced = self._paced.get((row.community_id, row.parent_key))
                    if paced is not None:
                        # The parent only waits for its channel's pace: go right after it.
                        await self._postpone(row, paced, "waiting for its parent message")
                        self._paced[(row.community_id, row.key)] = paced
                    else:
                        later = self.clock.now() + PARENT_WAIT
                        await self._postpone(row, later, "waiting for its parent message")
                    return 0
                message_ref, parent_thread, parent_channel = refs
                channel_id = parent_channel or channel_id
                if row.kind == DeliveryKind.UPDATE:
                    update_ref = update_ref or message_ref
                else:
                    thread_ref = thread_ref or parent_thread
            delivery = Delivery(
                key=row.key,
                kind=DeliveryKind(row.kind),
                community=CommunityRef(community.platform, community.external_id, community.name),
                reply=reply_from_json(row.payload),
                channel_id=channel_id,
                thread_ref=thread_ref,
                update_ref=update_ref,
                recipient_ids=tuple(r for r in row.recipient_ids.split(",") if r),
                thread_title=row.thread_title,
                topics=tuple(t for t in row.topics.split(",") if t),
                handle=row.handle,
                attempt=row.attempts + interrupted,
            )
            if (free_at := self._pace(adapter, community, channel_id)) is not None:
                # Postponed rather than slept on, so one busy channel holds up no other.
                await self._postpone(row, free_at, "waiting for its channel's pace")
                self._paced[(row.community_id, row.key)] = free_at
                return 0
            if not await self._renew(row):
                return 0
            try:
                delivered = await adapter.deliver(delivery)
            except DeliveryError as error:
                await self._failed(row, str(error), error.retry_after, error.permanent)
                return 0
            except Exception as error:
                log.exception("adapter %s failed on %s", community.platform, row.key)
                await self._failed(row, repr(error), None, permanent=False)
                return 0
            await self._succeeded(row, community, delivered)
            return 1

    def _pace(self, adapter: Adapter, community: Community, channel: str | None) -> datetime | None:
        """Take the channel's send slot now, or return when the channel is free again."""
        # Every message waiting for one channel gets the same moment, so they keep their order
        # (by id) when claimed again.
        interval = timedelta(seconds=getattr(adapter, "channel_interval", 0.0))
        if not interval or not channel:
            return None
        key = (community.external_id, channel)
        now = self.clock.now()
        free_at = self._channel_free_at.get(key)
        # More than one interval ahead means the clock was set back: the slot is long free.
        if free_at is not None and timedelta(0) < free_at - now <= interval:
            return free_at
        self._channel_free_at[key] = now + interval
        return None

    async def _succeeded(self, row: OutboxMessage, community: Community, done: Delivered) -> None:
        async with self.database.unit_of_work() as uow:
            fresh = await uow.session.get(OutboxMessage, row.id)
            if fresh is None:  # forgotten while in flight (/crowdmentor forget)
                return
            fresh.status = OutboxStatus.SENT
            fresh.sent_at = self.clock.now()
            # What was said now lives on the platform; keeping a copy would only be a liability.
            fresh.payload = ""
            fresh.platform_ref = done.message_ref
            fresh.platform_thread_ref = done.thread_ref
            fresh.platform_channel_id = done.channel_id or fresh.channel_id
            fresh.lease_until = None
            fresh.attempts += 1
            uow.session.add(fresh)
            hook = (
                self.registry.hook("delivered", fresh.on_delivered) if fresh.on_delivered else None
            )
            if hook is not None:
                ctx = self.services.context(
                    uow, community, invocation_id=f"outbox-{row.id}", access=Access.ADMIN
                )
                await hook.handler(ctx, fresh, done)
        log.info("delivered %s (%s)", row.key, row.kind)

    async def _postpone(self, row: OutboxMessage, until: datetime, why: str) -> None:
        async with self.database.unit_of_work() as uow:
            fresh = await uow.session.get(OutboxMessage, row.id)
            if fresh is None:
                return
            fresh.next_attempt_at = until
            fresh.lease_until = None
            fresh.last_error = why
            uow.session.add(fresh)

    def _given_up(self, row: OutboxMessage) -> bool:
        """Tell whether a message failed often enough, and for long enough, to stop trying."""
        settings = self.settings.delivery
        # Counting attempts alone would give up within a minute of 1-second Retry-Afters: an
        # outage of minutes must cost a delay, never a message.
        failing_for = self.clock.now() - row.created_at
        return row.attempts >= settings.max_attempts and failing_for >= timedelta(
            minutes=settings.give_up_after_minutes
        )

    async def _failed(
        self, row: OutboxMessage, error: str, retry_after: float | None, permanent: bool
    ) -> None:
        async with self.database.unit_of_work() as uow:
            fresh = await uow.session.get(OutboxMessage, row.id)
            if fresh is None:
                return
            fresh.attempts += 1
            fresh.last_error = error[:500]
            fresh.lease_until = None
            if permanent or self._given_up(fresh):
                fresh.status = OutboxStatus.FAILED
                log.error("gave up on %s after %d attempts: %s", row.key, fresh.attempts, error)
            else:
                settings = self.settings.delivery
                delay = (
                    retry_after
                    if retry_after is not None
                    else backoff(fresh.attempts, settings.backoff_base_seconds)
                )
                fresh.next_attempt_at = self.clock.now() + timedelta(seconds=delay)
                log.warning("will retry %s in %.1fs: %s", row.key, delay, error)
            uow.session.add(fresh)
