"""The outbox worker: retries, idempotency, ordering, giving up, and sharing the work."""

import asyncio
import contextlib
import itertools
from collections import Counter
from datetime import timedelta

from sqlmodel import select

from bot import outbox
from bot.adapters.base import DeliveryKind
from bot.context import Services
from bot.delivery import PARENT_WAIT, DeliveryWorker
from bot.replies import Reply
from bot.store.db import Database
from bot.store.models import OutboxMessage, OutboxStatus, Question
from bot.store.repositories import community_for


async def _queue(chat, key: str, kind: DeliveryKind = DeliveryKind.POST, **fields) -> None:
    async with chat.app.database.unit_of_work() as uow:
        now = chat.app.clock.now()
        community = await community_for(uow.session, chat.community, now)
        assert await outbox.enqueue(
            uow.session,
            community_id=community.id,
            key=key,
            kind=kind,
            reply=Reply.say(f"message {key}"),
            now=now,
            **fields,
        )


async def _rows(chat) -> dict[str, OutboxMessage]:
    async with chat.app.database.unit_of_work() as uow:
        rows = (await uow.session.exec(select(OutboxMessage))).all()
    return {row.key: row for row in rows}


def _count_deliveries(platform, monkeypatch) -> Counter:
    """Count every call the worker makes to the platform, per key (the platform dedupes)."""
    calls: Counter = Counter()
    original = platform.deliver

    async def counting(delivery):
        calls[delivery.key] += 1
        await asyncio.sleep(0)  # give a concurrent worker every chance to interleave
        return await original(delivery)

    monkeypatch.setattr(platform, "deliver", counting)
    return calls


async def test_question_post_that_fails_twice_is_delivered_once_after_its_retry_after(chat):
    chat.platform.failures = [30.0, 45.0]

    reply = await chat.say("/ask How do I get better at code review? #reviews")

    assert "question #1" in reply.plain()
    assert chat.posts() == []
    [row] = (await _rows(chat)).values()
    assert row.status == OutboxStatus.PENDING
    assert row.attempts == 1
    assert row.next_attempt_at > chat.app.clock.now()
    assert "told to fail" in row.last_error

    # Not yet due: nothing happens.
    chat.app.clock.advance(timedelta(seconds=20))
    assert await chat.deliver() == 0
    assert chat.platform.failures == [45.0]

    chat.app.clock.advance(timedelta(seconds=15))
    assert await chat.deliver() == 0  # the second failure
    assert chat.platform.failures == []
    [row] = (await _rows(chat)).values()
    assert row.attempts == 2
    assert row.next_attempt_at >= chat.app.clock.now() + timedelta(seconds=44)

    chat.app.clock.advance(timedelta(seconds=45))
    assert await chat.deliver() == 1
    assert await chat.deliver() == 0

    [post] = chat.posts()
    assert "Question #1" in post.reply.plain()
    assert len(chat.platform.log) == 1
    [row] = (await _rows(chat)).values()
    assert row.status == OutboxStatus.SENT
    assert row.attempts == 3
    assert row.platform_ref == post.message_id
    assert row.sent_at is not None
    assert row.payload == ""  # what was said now lives on the platform only
    # The delivered hook ran: the question knows its thread now.
    async with chat.app.database.unit_of_work() as uow:
        question = (await uow.session.exec(select(Question))).one()
    assert question.thread_ref == post.opened_thread == "q1"


async def test_a_delivery_retried_after_a_lost_acknowledgement_is_not_posted_twice(
    chat, monkeypatch
):
    calls = _count_deliveries(chat.platform, monkeypatch)
    worker = chat.app.delivery
    original = worker._succeeded
    crashes = []

    async def crash_once(row, community, done):
        if not crashes:
            crashes.append(row.key)
            raise ConnectionError("lost the database right after the platform said yes")
        await original(row, community, done)

    monkeypatch.setattr(worker, "_succeeded", crash_once)
    await _queue(chat, "greeting", channel_id="general")

    with contextlib.suppress(ConnectionError):  # the worker's loop would log it and go on
        await chat.deliver()
    assert crashes == ["greeting"]
    assert len(chat.platform.log) == 1  # the platform has it...
    row = (await _rows(chat))["greeting"]
    assert row.status == OutboxStatus.PENDING  # ...but the outbox does not know yet
    assert await chat.deliver() == 0  # the lease keeps it from being taken again at once

    chat.app.clock.advance(timedelta(seconds=chat.app.settings.delivery.lease_seconds + 1))
    assert await chat.deliver() == 1

    assert calls["greeting"] == 2  # tried again with the same key...
    assert len(chat.platform.log) == 1  # ...and not posted twice
    row = (await _rows(chat))["greeting"]
    assert row.status == OutboxStatus.SENT
    assert row.platform_ref == chat.platform.log[0].message_id


async def test_the_same_outbox_key_is_only_queued_once(chat):
    await _queue(chat, "once", channel_id="general")

    async with chat.app.database.unit_of_work() as uow:
        community = await community_for(uow.session, chat.community, chat.app.clock.now())
        queued_again = await outbox.enqueue(
            uow.session,
            community_id=community.id,
            key="once",
            kind=DeliveryKind.POST,
            reply=Reply.say("a second time"),
            now=chat.app.clock.now(),
        )

    assert queued_again is False
    assert await chat.deliver() == 1
    [message] = chat.platform.log
    assert message.reply.plain() == "message once"


async def test_a_message_waits_for_its_parent_to_be_delivered(chat):
    chat.platform.failures = [30.0]
    await _queue(chat, "parent", channel_id="general", thread_title="A thread", handle="p1")
    await _queue(chat, "child", DeliveryKind.THREAD, channel_id="general", parent_key="parent")

    assert await chat.deliver() == 0

    assert chat.platform.log == []
    rows = await _rows(chat)
    assert rows["parent"].attempts == 1
    assert rows["child"].status == OutboxStatus.PENDING
    assert rows["child"].attempts == 0  # waiting is not a failed attempt
    assert rows["child"].last_error == "waiting for its parent message"
    assert rows["child"].next_attempt_at >= chat.app.clock.now() + PARENT_WAIT * 0.9

    chat.app.clock.advance(timedelta(seconds=31))
    assert await chat.deliver() == 2

    parent, child = chat.platform.log
    assert parent.opened_thread == "p1"
    assert child.thread_id == "p1"
    assert chat.thread("p1") == [child]


async def test_a_message_gives_up_after_max_attempts_without_crashing(chat):
    max_attempts = chat.app.settings.delivery.max_attempts
    chat.platform.failures = [None] * max_attempts  # no Retry-After: exponential back-off
    await _queue(chat, "doomed", channel_id="general")

    for _ in range(max_attempts + 2):
        assert await chat.deliver() == 0
        chat.app.clock.advance(timedelta(hours=1))

    row = (await _rows(chat))["doomed"]
    assert row.status == OutboxStatus.FAILED
    assert row.attempts == max_attempts
    assert "told to fail" in row.last_error
    assert chat.platform.failures == []  # it stopped trying once it gave up
    assert chat.platform.log == []

    # The worker carries on with other messages.
    reply = await chat.say("/ask What should I read before my first tech lead job?")
    assert "question #1" in reply.plain()
    assert len(chat.posts()) == 1


async def test_a_permanent_failure_gives_up_at_once(chat):
    await _queue(chat, "edit", DeliveryKind.UPDATE, channel_id="general")  # nothing to edit

    assert await chat.deliver() == 0

    row = (await _rows(chat))["edit"]
    assert row.status == OutboxStatus.FAILED
    assert row.attempts == 1


async def test_two_concurrent_drains_deliver_each_message_exactly_once(chat, monkeypatch):
    calls = _count_deliveries(chat.platform, monkeypatch)
    keys = [f"bulk-{n}" for n in range(30)]
    for key in keys:
        await _queue(chat, key, channel_id="general")

    sent = await asyncio.gather(chat.app.delivery.drain(), chat.app.delivery.drain())

    assert sum(sent) == 30
    assert calls == Counter(dict.fromkeys(keys, 1))
    posted = Counter(m.reply.plain() for m in chat.platform.log)
    assert posted == Counter(f"message {key}" for key in keys)
    assert {r.status for r in (await _rows(chat)).values()} == {OutboxStatus.SENT}


async def test_two_instances_draining_one_outbox_deliver_each_message_exactly_once(
    chat, monkeypatch
):
    calls = _count_deliveries(chat.platform, monkeypatch)
    keys = [f"shared-{n}" for n in range(30)]
    for key in keys:
        await _queue(chat, key, channel_id="general")
    app = chat.app
    other_database = Database(app.settings.database_url)
    services = Services(
        database=other_database,
        registry=app.registry,
        settings=app.settings,
        clock=app.clock,
        runtime=app,
    )
    other = DeliveryWorker(services, app.adapters)
    try:
        sent = await asyncio.gather(app.delivery.drain(), other.drain())
    finally:
        await other_database.dispose()

    assert sum(sent) == 30
    assert calls == Counter(dict.fromkeys(keys, 1))
    assert len(chat.platform.log) == 30


async def test_a_channel_waiting_for_its_pace_holds_up_no_other_channel(chat):
    chat.platform.channel_interval = 0.3
    for n in range(3):
        await _queue(chat, f"busy-{n}", channel_id="busy")
    await _queue(chat, "quiet", channel_id="quiet")
    await _queue(chat, "busy-parent", channel_id="busy", thread_title="A thread", handle="bp")
    await _queue(
        chat, "busy-child", DeliveryKind.THREAD, channel_id="busy", parent_key="busy-parent"
    )

    assert await chat.deliver() == 6

    order = [m.reply.plain().removeprefix("message ") for m in chat.platform.log]
    # The quiet channel's message went while the busy one waited, not after all of it.
    assert order == ["busy-0", "quiet", "busy-1", "busy-2", "busy-parent", "busy-child"]
    assert chat.thread("bp") == [chat.platform.log[-1]]
    rows = await _rows(chat)
    assert {row.status for row in rows.values()} == {OutboxStatus.SENT}
    assert all(row.attempts == 1 for row in rows.values())  # waiting is not a failed attempt
    # The busy channel still got its messages no faster than its pace.
    busy = sorted(row.sent_at for key, row in rows.items() if key.startswith("busy"))
    gaps = [later - earlier for earlier, later in itertools.pairwise(busy)]
    assert all(gap >= timedelta(seconds=0.29) for gap in gaps), gaps
