"""Run timers at their time, exactly once, across restarts and instances (principle 6).

APScheduler (3.x) only holds in-memory jobs; the `timers` table is the truth. At start every
pending timer is armed again; a periodic sweep picks up timers that another instance created or
that were missed; firing is claimed by a conditional update, so only one instance runs each.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlmodel import update

from bot import timers
from bot.context import Services
from bot.lifecycle import PURGE_TIMER
from bot.logs import invocation_scope
from bot.registry import Access
from bot.store.db import is_unavailable
from bot.store.models import Community, Timer

log = logging.getLogger(__name__)

# A failing timer waits this long, doubled each time, before it is tried again.
RETRY_BASE = timedelta(minutes=1)
MAX_TIMER_ATTEMPTS = 6


class Scheduler:
    """Arm, sweep and fire timers."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.database = services.database
        self.registry = services.registry
        self.settings = services.settings
        self.clock = services.clock
        self._aps: AsyncIOScheduler | None = None

    async def start(self) -> None:
        """Start APScheduler, arm every pending timer and the periodic sweep."""
        self._aps = AsyncIOScheduler(timezone=UTC)
        self._aps.start()
        self._aps.add_job(
            self.run_due,
            IntervalTrigger(seconds=self.settings.scheduler.sweep_seconds),
            id="sweep",
            max_instances=1,
            coalesce=True,
        )
        async with self.database.unit_of_work() as uow:
            pending = await timers.pending(uow.session)
        for timer in pending:
            assert timer.id is not None
            self.arm_timer(timer.id, timer.due_at)
        log.info("scheduler started with %d pending timers", len(pending))

    async def stop(self) -> None:
        """Stop running jobs; timers stay in the database for next time."""
        if self._aps is not None:
            self._aps.shutdown(wait=False)
            self._aps = None

    def arm_timer(self, timer_id: int, due_at: datetime) -> None:
        """Schedule a job for a timer (in real time: the clock's offset is subtracted)."""
        if self._aps is None:
            return
        run_at = max(due_at - self.clock.offset, datetime.now(UTC))
        self._aps.add_job(
            self.fire,
            DateTrigger(run_date=run_at),
            args=[timer_id],
            id=f"timer:{timer_id}",
            replace_existing=True,
            misfire_grace_time=None,
        )

    async def run_due(self) -> int:
        """Fire every timer that is due now; return how many ran."""
        try:
            async with self.database.unit_of_work() as uow:
                found = await timers.due(
                    uow.session, self.clock.now(), even_if_removed=(PURGE_TIMER,)
                )
                due = [t.id for t in found]
        except Exception as error:
            if not is_unavailable(error):
                raise
            # The database is busy or away; the next sweep looks again.
            log.warning("could not look for due timers: %s", error)
            return 0
        fired = 0
        for timer_id in due:
            assert timer_id is not None
            fired += await self.fire(timer_id)
        return fired

    async def fire(self, timer_id: int) -> bool:
        """Claim and run one timer; return True if this call ran it."""
        with invocation_scope(f"timer-{timer_id}"):
            try:
                async with self.database.unit_of_work() as uow:
                    timer = await uow.session.get(Timer, timer_id)
                    if timer is None:
                        return False
                    community = await uow.session.get(Community, timer.community_id)
                    removed = community is not None and community.removed_at is not None
                    if removed and timer.kind != PURGE_TIMER:
                        # Left unclaimed: if the community comes back within its grace period,
                        # the sweep runs it then, so a round or a reminder isn't silently lost.
                        log.info("timer %s (%s) waits for its community", timer_id, timer.kind)
                        return False
                    if not await timers.claim(uow.session, timer_id, self.clock.now()):
                        return False
                    hook = self.registry.hook("timer", timer.kind)
                    if hook is None or community is None:
                        log.warning("timer %s (%s) has nothing to run", timer_id, timer.kind)
                        return True
                    ctx = self.services.context(
                        uow, community, invocation_id=f"timer-{timer_id}", access=Access.ADMIN
                    )
                    await hook.handler(ctx, timer)
                    log.info("timer %s (%s) ran", timer_id, timer.kind)
                    return True
            except Exception:
                log.exception("timer %s failed; it will be retried", timer_id)
                await self._retry_later(timer_id)
                return False

    async def _retry_later(self, timer_id: int) -> None:
        try:
            async with self.database.unit_of_work() as uow:
                timer = await uow.session.get(Timer, timer_id)
                if timer is None:
                    return
                attempts = timer.attempts + 1
                values: dict[str, object] = {"attempts": attempts}
                if attempts >= MAX_TIMER_ATTEMPTS:
                    values["fired_at"] = self.clock.now()  # give up: stop retrying for ever
                    log.error("timer %s gave up after %d attempts", timer_id, attempts)
                else:
                    values["due_at"] = self.clock.now() + RETRY_BASE * 2 ** (attempts - 1)
                await uow.session.exec(  # type: ignore[call-overload]
                    update(Timer).where(Timer.id == timer_id).values(**values)  # type: ignore[arg-type]
                )
                due_at = values.get("due_at")
            if isinstance(due_at, datetime):
                self.arm_timer(timer_id, due_at)
        except Exception:
            log.exception("could not reschedule timer %s; the sweep will find it", timer_id)
