"""Timer rows: the database is the truth for everything scheduled (architecture principle 6)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.store.models import Community, Timer


async def set_timer(
    session: AsyncSession,
    *,
    community_id: int,
    key: str,
    kind: str,
    subject_id: int,
    due_at: datetime,
) -> Timer:
    """Create (or move) the timer with this key; an already fired one is armed again."""
    query = select(Timer).where(Timer.community_id == community_id, Timer.key == key)
    timer = (await session.exec(query)).first()
    if timer is None:
        timer = Timer(
            community_id=community_id, key=key, kind=kind, subject_id=subject_id, due_at=due_at
        )
    else:
        timer.due_at = due_at
        timer.fired_at = None
        timer.attempts = 0
    session.add(timer)
    await session.flush()
    return timer


async def cancel_timer(session: AsyncSession, *, community_id: int, key: str) -> None:
    """Forget a timer that is no longer needed."""
    await session.exec(  # type: ignore[call-overload]
        delete(Timer).where(col(Timer.community_id) == community_id, col(Timer.key) == key)
    )


async def claim(session: AsyncSession, timer_id: int, now: datetime) -> bool:
    """Mark a due timer fired; only one caller across every instance gets True."""
    result = await session.exec(  # type: ignore[call-overload]
        update(Timer)
        .where(
            col(Timer.id) == timer_id,
            col(Timer.fired_at).is_(None),
            col(Timer.due_at) <= now,
        )
        .values(fired_at=now)
    )
    return bool(result.rowcount == 1)


async def due(
    session: AsyncSession, now: datetime, *, even_if_removed: tuple[str, ...] = (), limit: int = 500
) -> list[Timer]:
    """Return timers that are due and not yet fired, oldest first, of communities still here.

    A removed community's timers wait for it to come back (only `even_if_removed` kinds run).
    """
    query = (
        select(Timer)
        .join(Community, col(Community.id) == col(Timer.community_id))
        .where(
            col(Timer.fired_at).is_(None),
            col(Timer.due_at) <= now,
            or_(col(Community.removed_at).is_(None), col(Timer.kind).in_(even_if_removed)),
        )
        .order_by(col(Timer.due_at), col(Timer.id))
        .limit(limit)
    )
    return list((await session.exec(query)).all())


async def pending(session: AsyncSession) -> list[Timer]:
    """Return every timer not yet fired."""
    query = select(Timer).where(col(Timer.fired_at).is_(None)).order_by(col(Timer.due_at))
    return list((await session.exec(query)).all())
