"""A community's end: uninstall or removal schedules deletion after a grace period."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, update
from sqlmodel import col

from bot.context import Context, Services
from bot.events import Community as CommunityRef
from bot.registry import on_timer
from bot.store.models import Community, Timer
from bot.store.repositories import community_for
from bot.timers import set_timer

PURGE_TIMER = "community.purge"


async def community_removed(services: Services, community: CommunityRef) -> None:
    """Mark a community removed and schedule its data for deletion after the grace period.

    Reinstalling within the grace period keeps everything (the next event clears the mark).
    """
    async with services.database.unit_of_work() as uow:
        now = services.clock.now()
        row = await community_for(uow.session, community, now)
        row.removed_at = now
        uow.session.add(row)
        assert row.id is not None
        due = now + timedelta(days=services.settings.privacy.removal_grace_days)
        timer = await set_timer(
            uow.session,
            community_id=row.id,
            key=PURGE_TIMER,
            kind=PURGE_TIMER,
            subject_id=row.id,
            due_at=due,
        )
        timer_id = timer.id
        assert timer_id is not None
        uow.after_commit(lambda: services.runtime.arm_timer(timer_id, due))


async def community_returned(services: Services, community: CommunityRef) -> None:
    """Keep a community that came back (reinstall, re-invite) before its data was deleted."""
    async with services.database.unit_of_work() as uow:
        # Clearing the mark is enough: the purge timer then finds nothing to do.
        await uow.session.exec(  # type: ignore[call-overload]
            update(Community)
            .where(
                col(Community.platform) == community.platform,
                col(Community.external_id) == community.external_id,
            )
            .values(removed_at=None)
        )


@on_timer(PURGE_TIMER)
async def purge(ctx: Context, timer: Timer) -> None:
    """Delete everything a removed community left behind (foreign keys cascade)."""
    del timer
    community = ctx.community
    if community.removed_at is None:
        return  # reinstalled in time
    await ctx.session.exec(  # type: ignore[call-overload]
        delete(Timer).where(col(Timer.community_id) == community.id)
    )
    await ctx.session.exec(  # type: ignore[call-overload]
        delete(Community).where(col(Community.id) == community.id)
    )
