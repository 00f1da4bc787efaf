"""State the bot processes find waiting: due timers, queued messages, and how to read them back."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.adapters.base import DeliveryKind
from bot.commands._pair_schedule import WEEKDAYS
from bot.store.db import Database
from bot.store.models import OutboxMessage, OutboxStatus, Timer
from bot.testing import Chat
from tests.adapters._slack_fakes import FakeSlackAPI
from tests.reliability._processes import slack_chat

# How far back each kind of state is made so that its timer is due now.
TAGS_AGE = timedelta(days=183)  # "still happy to be asked?" after 182 days
QUESTIONS_AGE = timedelta(days=14, hours=2)  # nudged after 24 h, closed after 14 quiet days
COFFEE_AGE = timedelta(days=8)  # a request lapses after 7 days


def pairing_members(count: int) -> list[str]:
    return [f"U0P{n:02d}" for n in range(1, count + 1)]


async def prepare_due_round(database_url: str, members: list[str]) -> None:
    """Put `members` in pairing, with a weekly round that fell due a few minutes ago."""
    real_now = datetime.now(UTC).replace(second=0, microsecond=0)
    round_at = real_now - timedelta(minutes=3)
    # Scheduled an hour before the round: its first round is that very minute.
    async with slack_chat(
        database_url, ago=datetime.now(UTC) - round_at + timedelta(hours=1)
    ) as chat:
        for member in members:
            await chat.say("/pair join", as_=member)
        when = f"{WEEKDAYS[round_at.weekday()]} {round_at:%H:%M}"
        scheduled = await chat.say(f"/pair schedule weekly {when} UTC", as_="U0ADMIN")
        assert "Rounds run weekly" in scheduled.plain(), scheduled.plain()


async def tag(chat: Chat, topic: str, *members: str) -> None:
    for member in members:
        said = await chat.say(f"/askme add {topic}", as_=member)
        assert f"#{topic}" in said.plain(), said.plain()


@contextlib.asynccontextmanager
async def _session(database_url: str) -> AsyncIterator[AsyncSession]:
    database = Database(database_url)
    try:
        async with database.unit_of_work() as uow:
            yield uow.session
    finally:
        await database.dispose()


async def rows_of(database_url: str, table: type[Any], *where: Any) -> list[Any]:
    """Return a table's rows (matching `where`), by id."""
    async with _session(database_url) as session:
        query = select(table).where(*where).order_by(col(table.id))
        return list((await session.exec(query)).all())


async def count_rows(database_url: str, table: type[Any], *where: Any) -> int:
    async with _session(database_url) as session:
        query = select(func.count()).select_from(table).where(*where)
        return int((await session.exec(query)).one())


async def due_timers(database_url: str) -> dict[int, str]:
    """Return the timers due now and not yet fired, by id, with their kind."""
    due = await rows_of(
        database_url, Timer, col(Timer.fired_at).is_(None), col(Timer.due_at) <= datetime.now(UTC)
    )
    return {row.id: row.kind for row in due}


async def outbox_rows(database_url: str) -> list[OutboxMessage]:
    return await rows_of(database_url, OutboxMessage)


async def all_sent(database_url: str, prefix: str = "") -> list[OutboxMessage] | None:
    """Return the outbox rows (whose key starts with `prefix`) once every one is sent."""
    rows = [r for r in await outbox_rows(database_url) if r.key.startswith(prefix)]
    if rows and all(r.status == OutboxStatus.SENT for r in rows):
        return rows
    return None


def posted_keys(api: FakeSlackAPI) -> Counter[str]:
    """Count the messages Slack holds per outbox key (from their metadata)."""
    return Counter(
        str((message.get("metadata") or {}).get("event_payload", {}).get("key"))
        for message in api.posts()
    )


def assert_each_delivered_once(api: FakeSlackAPI, rows: list[OutboxMessage]) -> None:
    """Every row is on Slack exactly once, where the outbox says it is, and nothing else is."""
    posted = [r for r in rows if r.kind != DeliveryKind.UPDATE]
    on_slack, queued = posted_keys(api), Counter(r.key for r in posted)
    assert on_slack == queued, f"Slack holds {on_slack}, the outbox queued {queued}"
    by_key = {
        message["metadata"]["event_payload"]["key"]: (channel, message["ts"])
        for channel, messages in api.messages.items()
        for message in messages
    }
    for row in posted:
        assert row.status == OutboxStatus.SENT, (row.key, row.status, row.last_error)
        assert (row.platform_channel_id, row.platform_ref) == by_key[row.key], row.key
    edits = [r for r in rows if r.kind == DeliveryKind.UPDATE]
    assert all(r.status == OutboxStatus.SENT for r in edits)
    assert len(api.called("chat.update")) == len(edits)
