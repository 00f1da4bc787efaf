"""Slack or Discord unwell for a while (5xx, 429): messages wait, back off, and arrive once.

Questions, pings and pairing intros are queued first; then the fake platform fails every call
for the outage while the real delivery loop runs. The outage lasts seconds of wall time rather
than a minute because the back-off base is a setting (0.1 s instead of 2 s): the schedule has
the same shape, only faster. Afterwards every message is on the platform exactly once.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter, defaultdict
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot import outbox
from bot.adapters.base import Delivered, Delivery, DeliveryKind
from bot.adapters.slack import MAX_RATELIMIT_WAIT_SECONDS
from bot.replies import Reply
from bot.store.models import OutboxMessage, OutboxStatus
from bot.store.repositories import community_for
from tests.adapters._discord_fakes import BOB, discord_world
from tests.adapters._discord_fakes import FailureWindow as DiscordWindow
from tests.adapters._slack_fakes import TEAM_ID, slack_harness
from tests.adapters._slack_fakes import FailureWindow as SlackWindow
from tests.reliability._processes import slack_mention, wait_until, worker
from tests.reliability._state import (
    all_sent,
    assert_each_delivered_once,
    outbox_rows,
    pairing_members,
    prepare_due_round,
)

OUTAGE_SECONDS = 6.0
FAST_DELIVERY = {"poll_seconds": 0.05, "backoff_base_seconds": 0.1, "lease_seconds": 10}
KUBERNETES = ("U0K1", "U0K2", "U0K3")
SLACK_WINDOWS = {
    "5xx": lambda: SlackWindow(503, "service_unavailable"),
    # The post reaches the channel, but Slack answers 500 (as do the look-ups for it).
    "post-then-500": lambda: SlackWindow(
        500, "internal_error", handled=frozenset({"chat.postMessage", "conversations.open"})
    ),
    "429": lambda: SlackWindow(429, "ratelimited", retry_after=1),
    # Longer than MAX_RATELIMIT_WAIT_SECONDS: back to the outbox rather than waited out.
    "429-long": lambda: SlackWindow(429, "ratelimited", retry_after=3),
}


class Attempts:
    """When the delivery worker handed each outbox key to the adapter."""

    def __init__(self, adapter: Any) -> None:
        self.at: dict[str, list[float]] = defaultdict(list)
        self.longest = 0.0  # the longest single call: how long the worker was held up
        self._deliver = adapter.deliver
        adapter.deliver = self.deliver

    async def deliver(self, delivery: Delivery) -> Delivered:
        started = time.monotonic()
        self.at[delivery.key].append(started)
        try:
            delivered: Delivered = await self._deliver(delivery)
        finally:
            self.longest = max(self.longest, time.monotonic() - started)
        return delivered

    def gaps(self, key: str) -> list[float]:
        times = self.at[key]
        return [later - earlier for earlier, later in itertools.pairwise(times)]

    def report(self) -> str:
        return "; ".join(
            f"{key.split(':')[0]}…: {len(times)} attempts, gaps "
            + ",".join(f"{g:.2f}" for g in self.gaps(key))
            for key, times in self.at.items()
        )


def check_back_off(attempts: Attempts, retry_after: float | None) -> list[str]:
    """Each message that failed waited longer each time (or the Retry-After); return them.

    (Pings wait for their question's post, and a short Retry-After is waited out in the call
    itself, so not every message needs a second attempt.)
    """
    met = [key for key, times in attempts.at.items() if len(times) > 1]
    assert met, "nothing was tried during the outage"
    for key in met:
        gaps = attempts.gaps(key)
        if retry_after is not None:
            assert min(gaps) >= retry_after * 0.9, (key, gaps)
        elif len(gaps) >= 3:
            # Against the shortest gap: a first attempt may be slowed by the rest of its batch.
            assert gaps[-1] >= 4 * min(gaps), (key, gaps)
    return met


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("kind", list(SLACK_WINDOWS))
async def test_slack_unwell_for_a_while_delivers_everything_once(
    database_url: str, settings: Any, kind: str
) -> None:
    await prepare_due_round(database_url, pairing_members(4))
    # Even allowing a single attempt, an outage shorter than `give_up_after_minutes` gives up
    # on nothing: the limit is a time span.
    delivery = {**FAST_DELIVERY, "max_attempts": 1}
    configured = settings.model_copy(
        update={"delivery": settings.delivery.model_copy(update=delivery)}
    )
    async with slack_harness(configured) as slack:
        slack.adapter.channel_interval = 0.0  # gaps measure back-off, not channel pacing
        await slack.app.scheduler.run_due()
        for person in KUBERNETES:
            await slack.workspace.command("/askme", "add kubernetes", user=person)
        await slack.workspace.command(
            "/ask", f"How do you upgrade a cluster? #kubernetes cc {slack_mention('U0P01')}"
        )
        await slack.settle("command", len(KUBERNETES) + 1)
        queued = await outbox_rows(database_url)
        kinds = Counter(r.key.split(":")[0] for r in queued)
        assert kinds["question"] == 1, kinds
        assert kinds["tags"] == len(KUBERNETES), kinds
        assert sum(r.key.endswith(":intro") for r in queued) == 2, [r.key for r in queued]

        attempts = Attempts(slack.adapter)
        window = slack.api.fail_while(SLACK_WINDOWS[kind](), OUTAGE_SECONDS)
        started = time.monotonic()
        async with worker(slack.app):
            sent = await wait_until(lambda: all_sent(database_url), 60, "every message")
        took = time.monotonic() - started

    print(
        f"\nslack {kind}: {len(sent)} messages, {len(window.failed)} calls failed, delivered "
        f"after {took:.1f}s, longest call {attempts.longest:.2f}s; {attempts.report()}"
    )
    assert {r.status for r in sent} == {OutboxStatus.SENT}
    assert_each_delivered_once(slack.api, sent)
    retry_after = float(window.retry_after) if window.retry_after else None
    met = check_back_off(attempts, retry_after)
    print(f"slack {kind}: {len(met)} messages met the outage")
    assert took >= OUTAGE_SECONDS * 0.9  # nothing got through the outage early
    # A join that failed for the outage is not taken as done: the next post tries again.
    joined = [c for c in slack.api.called("conversations.join") if c not in window.failed]
    assert [c.params["channel"] for c in joined] in ([], ["C0GENERAL"])
    assert bool(joined) == ((TEAM_ID, "C0GENERAL") in slack.adapter._joined)
    if window.retry_after and window.retry_after > MAX_RATELIMIT_WAIT_SECONDS:
        assert attempts.longest < MAX_RATELIMIT_WAIT_SECONDS  # the worker was never held


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("status", [503, 429])
async def test_discord_unwell_for_a_while_delivers_everything_once(
    database_url: str, settings: Any, status: int
) -> None:
    configured = settings.model_copy(
        update={"delivery": settings.delivery.model_copy(update=FAST_DELIVERY)}
    )
    async with discord_world(configured) as discord:
        await discord.slash("/askme add", as_=BOB, topics="kubernetes")
        await discord.slash("/ask", question="How do you drain a node? #kubernetes")
        await discord.slash("/ask", question="Which CNI would you start with? #kubernetes")
        queued = await outbox_rows(database_url)
        assert Counter(r.key.split(":")[0] for r in queued) == {"question": 2, "tags": 2}

        attempts = Attempts(discord.adapter)
        window = discord.fake.fail_while(
            DiscordWindow(status, retry_after=1.0 if status == 429 else None), OUTAGE_SECONDS
        )
        started = time.monotonic()
        async with worker(discord.app):
            sent = await wait_until(lambda: all_sent(database_url), 90, "every message")
        took = time.monotonic() - started
        messages = list(discord.fake.messages.values())

    tries = [r.at for r in window.failed]
    print(
        f"\ndiscord {status}: {len(sent)} messages, {len(window.failed)} requests failed "
        f"(gaps {','.join(f'{b - a:.2f}' for a, b in itertools.pairwise(tries))}), "
        f"delivered after {took:.1f}s; {attempts.report()}"
    )
    assert {r.status for r in sent} == {OutboxStatus.SENT}
    by_nonce = Counter(m.get("nonce") for m in messages)
    assert all(count == 1 for count in by_nonce.values()), by_nonce
    assert {r.platform_ref for r in sent} <= {m["id"] for m in messages}
    assert len(messages) == len(sent)
    assert took >= OUTAGE_SECONDS * 0.9
    assert len(window.failed) >= len(sent)  # every message met the outage


async def test_a_minute_of_short_rate_limits_gives_up_nothing_and_an_hour_gives_up(
    chat: Any,
) -> None:
    delivery = chat.app.settings.delivery
    limit = timedelta(minutes=delivery.give_up_after_minutes)
    await queue(chat, "storm")
    # A minute of 1-second Retry-Afters: far more failures than max_attempts.
    chat.platform.failures = [1.0] * (delivery.max_attempts * 4)
    for _ in range(delivery.max_attempts * 4):
        assert await chat.deliver() == 0
        chat.app.clock.advance(timedelta(seconds=2))
    row = await outbox_row(chat, "storm")
    assert row.status == OutboxStatus.PENDING, row.last_error
    assert row.attempts == delivery.max_attempts * 4

    assert await chat.deliver() == 1
    assert [m.reply.text.plain() for m in chat.platform.log] == ["message storm"]

    # Failing for longer than the give-up time, it is given up (and the worker carries on).
    await queue(chat, "hopeless")
    chat.platform.failures = [None] * (delivery.max_attempts + 1)
    for _ in range(delivery.max_attempts + 1):
        assert await chat.deliver() == 0
        chat.app.clock.advance(limit / delivery.max_attempts)
    row = await outbox_row(chat, "hopeless")
    assert row.status == OutboxStatus.FAILED
    # The last allowed attempt failed 7/8 of the way through: one more, at the limit, ended it.
    assert row.attempts == delivery.max_attempts + 1
    assert await chat.deliver() == 0


async def queue(chat: Any, key: str) -> None:
    """Queue one channel message in the chat's community."""
    async with chat.app.database.unit_of_work() as uow:
        now = chat.app.clock.now()
        community = await community_for(uow.session, chat.community, now)
        await outbox.enqueue(
            uow.session,
            community_id=community.id,
            key=key,
            kind=DeliveryKind.POST,
            reply=Reply.say(f"message {key}"),
            now=now,
            channel_id="general",
        )


async def outbox_row(chat: Any, key: str) -> OutboxMessage:
    """Return the outbox row queued under `key`."""
    async with chat.app.database.unit_of_work() as uow:
        query = select(OutboxMessage).where(OutboxMessage.key == key)
        return (await uow.session.exec(query)).one()
