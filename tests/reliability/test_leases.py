"""Outbox leases in one process, on both databases: a lease that ran out changes hands cleanly."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot import outbox
from bot.adapters.base import Delivery, DeliveryKind
from bot.delivery import DeliveryWorker
from bot.replies import Reply
from bot.store.repositories import community_for
from bot.testing import Chat


async def _queue(chat: Chat, key: str) -> None:
    async with chat.app.database.unit_of_work() as uow:
        now = chat.app.clock.now()
        community = await community_for(uow.session, chat.community, now)
        assert community.id is not None
        await outbox.enqueue(
            uow.session,
            community_id=community.id,
            key=key,
            kind=DeliveryKind.POST,
            reply=Reply.say(key),
            now=now,
            channel_id="general",
        )


@pytest.fixture
def attempts(chat: Chat, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the attempt number of every send the platform sees."""
    seen: list[int] = []
    original = chat.platform.deliver

    async def recording(delivery: Delivery) -> object:
        seen.append(delivery.attempt)
        return await original(delivery)

    monkeypatch.setattr(chat.platform, "deliver", recording)
    return seen


async def test_a_row_whose_lease_ran_out_is_sent_by_its_new_holder_only(
    chat: Chat, attempts: list[int]
) -> None:
    await _queue(chat, "greeting")
    stalled = chat.app.delivery
    [(row, community, interrupted)] = await stalled._claim()
    assert interrupted is False

    # The first worker stalls longer than its lease; another instance takes the row.
    chat.app.clock.advance(timedelta(seconds=chat.app.settings.delivery.lease_seconds + 1))
    other = DeliveryWorker(chat.app.services, chat.app.adapters)
    assert await other.drain() == 1
    assert attempts == [1]  # a retry: it first looks for a copy the stalled worker may have sent

    assert await stalled._deliver(row, community, interrupted) == 0  # no longer its row
    assert attempts == [1]
    assert [m.reply.plain() for m in chat.platform.log] == ["greeting"]


async def test_a_first_send_is_not_a_retry(chat: Chat, attempts: list[int]) -> None:
    await _queue(chat, "hello")

    assert await chat.deliver() == 1
    assert attempts == [0]  # nothing to look for: no earlier lease, no earlier attempt
