"""Write messages to the outbox inside the caller's transaction (architecture principle 5)."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.adapters.base import DeliveryKind
from bot.limits import DISCORD_THREAD_NAME_MAX_CHARS
from bot.replies import Reply, reply_to_json
from bot.store.models import Member, OutboxMessage, OutboxStatus
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


async def naming(session: AsyncSession, person: Member) -> list[OutboxMessage]:
    """Return every message queued or sent to, about or naming a member, oldest first."""
    # A mention is stored as the member's platform id in the reply's JSON, quoted.
    mentioned = json.dumps(person.external_id)
    clues = [
        col(OutboxMessage.member_id) == person.id,
        col(OutboxMessage.recipient_ids).contains(person.external_id, autoescape=True),
        col(OutboxMessage.payload).contains(mentioned, autoescape=True),
    ]
    if person.display_name:
        clues.append(col(OutboxMessage.thread_title).contains(person.display_name, autoescape=True))
    rows = await session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.community_id == person.community_id, or_(*clues))
        .order_by(col(OutboxMessage.id))
    )
    # LIKE also matches inside longer ids ("U1" in "U12"): keep the exact matches only.
    return [
        row
        for row in rows.all()
        if row.member_id == person.id
        or person.external_id in row.recipient_ids.split(",")
        or mentioned in row.payload
        or (person.display_name and person.display_name in row.thread_title)
    ]


async def forget_member(session: AsyncSession, person: Member) -> int:
    """Delete what waits for or names a member, and strip them from what was already sent.

    A sent channel message stays as a bare platform reference (its text was blanked on delivery)
    because others' replies thread under it; a conversation with the member (direct or group,
    whose id may name them) goes. Return how many messages were deleted.
    """
    gone: set[str] = set()
    for row in await naming(session, person):
        conversation = row.kind in (DeliveryKind.DIRECT, DeliveryKind.GROUP)
        if row.status == OutboxStatus.SENT and not conversation:
            others = [r for r in row.recipient_ids.split(",") if r and r != person.external_id]
            row.recipient_ids = ",".join(others)
            row.thread_title = ""
            row.member_id = None
            row.last_error = ""
            session.add(row)
        else:
            gone.add(row.key)
            await session.delete(row)
    deleted = len(gone)
    # Follow-ups went to the same conversation, or would wait for it forever: they go too (the
    # delivery worker gives up on any queued later).
    while gone:
        orphans = await session.exec(
            select(OutboxMessage).where(
                OutboxMessage.community_id == person.community_id,
                col(OutboxMessage.parent_key).in_(gone),
            )
        )
        gone = set()
        for orphan in orphans.all():
            gone.add(orphan.key)
            await session.delete(orphan)
        deleted += len(gone)
    return deleted
