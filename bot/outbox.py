"""Write messages to the outbox inside the caller's transaction (architecture principle 5)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.adapters.base import DeliveryKind
from bot.limits import DISCORD_THREAD_NAME_MAX_CHARS
from bot.replies import Reply, reply_to_json
from bot.store.models import OutboxMessage
from bot.store.repositories import insert_ignoring_conflicts


async def enqueue(
    session: AsyncSession,
    *,
    community_id: int,
    key: str,
    kind: DeliveryKind,
    reply: Reply,
    now: datetime,
    channel_id: str | None = None,
    thread_ref: str | None = None,
    update_ref: str | None = None,
    parent_key: str | None = None,
    recipient_ids: tuple[str, ...] = (),
    thread_title: str = "",
    topics: tuple[str, ...] = (),
    handle: str = "",
    member_id: int | None = None,
    on_delivered: str = "",
    subject_id: int | None = None,
) -> bool:
    """Queue one message under an idempotency key; return False if that key was queued before."""
    result = await session.exec(  # type: ignore[call-overload]
        insert_ignoring_conflicts(
            session,
            OutboxMessage,
            community_id=community_id,
            key=key[:200],
            kind=kind.value,
            channel_id=channel_id,
            thread_ref=thread_ref,
            update_ref=update_ref,
            parent_key=parent_key,
            recipient_ids=",".join(recipient_ids),
            thread_title=thread_title[:DISCORD_THREAD_NAME_MAX_CHARS],
            topics=",".join(topics)[:300],
            handle=handle,
            payload=reply_to_json(reply),
            member_id=member_id,
            on_delivered=on_delivered,
            subject_id=subject_id,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            last_error="",
            created_at=now,
        )
    )
    return bool(result.rowcount)


async def find(session: AsyncSession, community_id: int, key: str) -> OutboxMessage | None:
    """Return the outbox row queued under a key."""
    query = select(OutboxMessage).where(
        OutboxMessage.community_id == community_id, OutboxMessage.key == key
    )
    return (await session.exec(query)).first()
