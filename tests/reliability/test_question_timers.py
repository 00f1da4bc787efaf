"""A question's nudge and close wait for a reply being counted on another instance."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from bot.adapters.local import LocalPlatform
from bot.app import App
from bot.clock import Clock
from bot.events import Community
from bot.settings import Settings
from bot.store.db import Database
from bot.testing import TEST_PLATFORM, Chat
from tests.commands.test_ask import SENIOR

pytestmark = pytest.mark.postgres


@pytest.fixture
async def pg_chat(postgres_url: str) -> AsyncIterator[Chat]:
    app = App(Settings(database_url=postgres_url), clock=Clock())
    platform = LocalPlatform(platform=TEST_PLATFORM)
    app.add_adapter(platform)
    async with app.running(background=False):
        yield Chat(app, platform, Community(TEST_PLATFORM, "T1", "Test community"))


async def counted_elsewhere(url: str, started: asyncio.Event, release: asyncio.Event) -> None:
    """Count a reply the way another instance does: row locked until its transaction commits."""
    database = Database(url)
    try:
        async with database.unit_of_work() as uow:
            await uow.session.exec(  # type: ignore[call-overload]
                text("SELECT id FROM questions WHERE number = 1 FOR UPDATE")
            )
            await uow.session.exec(  # type: ignore[call-overload]
                text(
                    "UPDATE questions SET reply_count = reply_count + 1,"
                    " last_activity_at = last_activity_at + interval '10 days' WHERE number = 1"
                )
            )
            started.set()
            await release.wait()
    finally:
        await database.dispose()


async def while_a_reply_is_counted(chat: Chat, url: str, wait: str) -> bool:
    """Let `wait` pass while a reply is being counted; return whether the timer waited for it."""
    started, release = asyncio.Event(), asyncio.Event()
    elsewhere = asyncio.create_task(counted_elsewhere(url, started, release))
    await started.wait()
    timers = asyncio.create_task(chat.wait(wait))
    await asyncio.sleep(0.5)
    waited = not timers.done()
    release.set()
    await elsewhere
    await timers
    return waited


async def test_a_nudge_sees_the_reply_counted_at_the_same_moment(pg_chat: Chat, postgres_url):
    await pg_chat.say(f"/ask {SENIOR}", as_="ada")

    assert await while_a_reply_is_counted(pg_chat, postgres_url, "25h")

    assert pg_chat.thread("q1") == []  # answered, so no "still looking" nudge


async def test_a_close_sees_the_activity_of_a_reply_counted_at_the_same_moment(
    pg_chat: Chat, postgres_url
):
    await pg_chat.say(f"/ask {SENIOR}", as_="ada")
    await pg_chat.reply_in("q1", as_="bob")

    assert await while_a_reply_is_counted(pg_chat, postgres_url, "15d")

    said = [m.reply.plain() for m in pg_chat.thread("q1")]
    assert not any("Closing this" in s for s in said), said
