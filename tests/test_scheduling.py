"""Timers fire at their time, exactly once, and survive failures and restarts."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot import timers
from bot.adapters.base import DeliveryKind
from bot.app import App
from bot.clock import Clock
from bot.events import Community as CommunityRef
from bot.registry import HookSpec
from bot.replies import Reply
from bot.scheduling import MAX_TIMER_ATTEMPTS, RETRY_BASE
from bot.store.models import OutboxMessage, Timer
from bot.store.repositories import community_for

KIND = "test.tick"


class Ticks:
    """A timer handler that records its calls and writes a row in the timer's transaction."""

    def __init__(self, failures: int = 0) -> None:
        self.calls: list[int] = []
        self.failures = failures

    async def __call__(self, ctx, timer: Timer) -> None:
        self.calls.append(timer.id)
        await asyncio.sleep(0)  # let concurrent firings interleave
        await ctx.send(f"tick:{timer.id}:{len(self.calls)}", DeliveryKind.POST, Reply.say("tick"))
        if self.failures:
            self.failures -= 1
            raise RuntimeError("the handler broke")


@pytest.fixture
def ticks(app) -> Ticks:
    handler = Ticks()
    app.registry.add(HookSpec("timer", KIND, handler))
    return handler


async def _timer(app: App, key: str, due_at: datetime, kind: str = KIND) -> int:
    async with app.database.unit_of_work() as uow:
        community = await community_for(
            uow.session, CommunityRef("memory", "T1", "Test"), app.clock.now()
        )
        timer = await timers.set_timer(
            uow.session,
            community_id=community.id,
            key=key,
            kind=kind,
            subject_id=1,
            due_at=due_at,
        )
    assert timer.id is not None
    return timer.id


async def _load(app: App, timer_id: int) -> Timer:
    async with app.database.unit_of_work() as uow:
        return await uow.session.get(Timer, timer_id)


async def _outbox_keys(app: App) -> list[str]:
    async with app.database.unit_of_work() as uow:
        return sorted((await uow.session.exec(select(OutboxMessage.key))).all())


def _job_ids(app: App) -> set[str]:
    return {job.id for job in app.scheduler._aps.get_jobs()}


async def test_a_timer_fired_eight_times_at_once_runs_exactly_once(app, ticks):
    timer_id = await _timer(app, "once", app.clock.now())

    results = await asyncio.gather(*(app.scheduler.fire(timer_id) for _ in range(8)))

    assert sorted(results) == [False] * 7 + [True]
    assert ticks.calls == [timer_id]
    assert await _outbox_keys(app) == [f"tick:{timer_id}:1"]
    assert (await _load(app, timer_id)).fired_at is not None


async def test_running_due_timers_twice_runs_each_once(app, ticks):
    first = await _timer(app, "first", app.clock.now() - timedelta(minutes=5))
    second = await _timer(app, "second", app.clock.now())

    assert await app.scheduler.run_due() == 2
    assert await app.scheduler.run_due() == 0

    assert sorted(ticks.calls) == sorted([first, second])


async def test_concurrent_sweeps_run_each_due_timer_once(app, ticks):
    ids = [await _timer(app, f"t{n}", app.clock.now()) for n in range(5)]

    fired = await asyncio.gather(app.scheduler.run_due(), app.scheduler.run_due())

    assert sum(fired) == 5
    assert sorted(ticks.calls) == sorted(ids)


async def test_a_timer_in_the_future_does_not_fire_until_its_time(app, ticks):
    timer_id = await _timer(app, "later", app.clock.now() + timedelta(hours=1))

    assert await app.scheduler.run_due() == 0
    assert await app.scheduler.fire(timer_id) is False  # an early job must not run it
    assert ticks.calls == []
    assert (await _load(app, timer_id)).fired_at is None

    app.clock.advance(timedelta(minutes=59))
    assert await app.scheduler.run_due() == 0

    app.clock.advance(timedelta(minutes=1))
    assert await app.scheduler.run_due() == 1
    assert ticks.calls == [timer_id]


async def test_a_failing_timer_rolls_back_and_is_retried_later(app, ticks):
    ticks.failures = 1
    timer_id = await _timer(app, "flaky", app.clock.now())
    failed_at = app.clock.now()

    assert await app.scheduler.fire(timer_id) is False

    timer = await _load(app, timer_id)
    assert timer.fired_at is None  # the claim rolled back with the handler's work
    assert timer.attempts == 1
    assert timer.due_at >= failed_at + RETRY_BASE
    assert timer.due_at <= app.clock.now() + RETRY_BASE
    assert await _outbox_keys(app) == []  # what the handler wrote is gone
    assert f"timer:{timer_id}" in _job_ids(app)  # armed again for its new time

    assert await app.scheduler.run_due() == 0  # not before its new time
    app.clock.advance(RETRY_BASE)
    assert await app.scheduler.run_due() == 1

    assert ticks.calls == [timer_id, timer_id]
    assert await _outbox_keys(app) == [f"tick:{timer_id}:2"]
    assert (await _load(app, timer_id)).fired_at is not None


async def test_retries_back_off_and_give_up_after_max_attempts(app, ticks):
    ticks.failures = 100
    timer_id = await _timer(app, "hopeless", app.clock.now())
    waits = []

    for _ in range(MAX_TIMER_ATTEMPTS):
        before = app.clock.now()
        assert await app.scheduler.run_due() == 0
        timer = await _load(app, timer_id)
        if timer.fired_at is None:
            waits.append(timer.due_at - before)
        app.clock.advance(timedelta(days=1))

    timer = await _load(app, timer_id)
    assert timer.attempts == MAX_TIMER_ATTEMPTS
    assert timer.fired_at is not None  # given up: no longer pending
    assert len(ticks.calls) == MAX_TIMER_ATTEMPTS
    assert [round(w / RETRY_BASE) for w in waits] == [2**n for n in range(MAX_TIMER_ATTEMPTS - 1)]
    assert await app.scheduler.run_due() == 0


async def test_a_timer_of_an_unknown_kind_is_marked_fired_without_running(app):
    timer_id = await _timer(app, "orphan", app.clock.now(), kind="no.such.kind")

    assert await app.scheduler.run_due() == 1
    assert (await _load(app, timer_id)).fired_at is not None
    assert await app.scheduler.run_due() == 0


async def test_pending_timers_are_armed_again_after_a_restart(settings):
    first = App(settings, clock=Clock())
    await first.start(background=False)
    try:
        now = first.clock.now()
        soon = await _timer(first, "soon", now + timedelta(hours=1))
        later = await _timer(first, "later", now + timedelta(days=3))
        done = await _timer(first, "done", now - timedelta(minutes=1))
        assert await first.scheduler.run_due() == 1  # `done` fires (no handler: nothing to run)
    finally:
        await first.stop()
    assert first.scheduler._aps is None

    second = App(settings, clock=Clock())
    await second.start(background=False)
    try:
        jobs = {job.id: job for job in second.scheduler._aps.get_jobs()}
        assert set(jobs) == {"sweep", f"timer:{soon}", f"timer:{later}"}
        assert f"timer:{done}" not in jobs
        expected = now + timedelta(hours=1)
        run_at = jobs[f"timer:{soon}"].trigger.run_date
        assert abs(run_at - expected) < timedelta(seconds=5)
        assert run_at.tzinfo is not None
        assert jobs[f"timer:{soon}"].args == (soon,)
    finally:
        await second.stop()


async def test_arming_uses_real_time_when_the_clock_was_moved(app):
    app.clock.advance(timedelta(days=2))
    due = app.clock.now() + timedelta(hours=1)
    timer_id = await _timer(app, "moved", due)

    app.arm_timer(timer_id, due)

    [job] = [j for j in app.scheduler._aps.get_jobs() if j.id == f"timer:{timer_id}"]
    real_due = datetime.now(UTC) + timedelta(hours=1)
    assert abs(job.trigger.run_date - real_due) < timedelta(seconds=5)


async def test_sweep_survives_a_database_that_is_away(settings):
    gone = App(settings.model_copy(update={"database_url": "postgresql://x:y@127.0.0.1:1/nope"}))
    try:
        assert await gone.scheduler.run_due() == 0  # a warning, not a crash; the next sweep retries
    finally:
        await gone.database.dispose()
