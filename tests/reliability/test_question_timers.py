"""A question's nudge and close wait for a reply being counted on another instance."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from bot.store.db import Database
from bot.testing import Chat
from tests.commands.test_ask import SENIOR

# Row locks are what is tested: SQLite has none (its writers take turns anyway).
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]


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


async def test_a_nudge_sees_the_reply_counted_at_the_same_moment(chat: Chat, database_url: str):
    await chat.say(f"/ask {SENIOR}", as_="ada")

    assert await while_a_reply_is_counted(chat, database_url, "25h")

    assert chat.thread("q1") == []  # answered, so no "still looking" nudge


async def test_a_close_sees_the_activity_of_a_reply_counted_at_the_same_moment(
    chat: Chat, database_url: str
):
    await chat.say(f"/ask {SENIOR}", as_="ada")
    await chat.reply_in("q1", as_="bob")

    assert await while_a_reply_is_counted(chat, database_url, "15d")

    said = [m.reply.plain() for m in chat.thread("q1")]
    assert not any("Closing this" in s for s in said), said
