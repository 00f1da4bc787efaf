"""`kill -9` in the middle of sending, then a fresh process: everything arrives exactly once.

The fake Slack answers the first posts, then keeps the answer to the next one back although
the message is already in the channel: the process is killed while it waits, so Slack has the
message and the outbox does not know it (the worst moment). The next process must find that
message by its metadata instead of posting it again, and send the rest.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bot.store.models import OutboxStatus, Question
from bot.store.pairing_models import PairGroup, PairRound
from tests.reliability._processes import slack_chat, slack_fleet, wait_until
from tests.reliability._state import (
    all_sent,
    assert_each_delivered_once,
    count_rows,
    outbox_rows,
    pairing_members,
    posted_keys,
    prepare_due_round,
    rows_of,
    tag,
)

pytestmark = pytest.mark.postgres

KUBERNETES_PEOPLE = ("U0K1", "U0K2", "U0K3", "U0K4")


async def test_a_round_killed_mid_intros_sends_every_intro_exactly_once(
    postgres_url: str, tmp_path: Path
) -> None:
    await prepare_due_round(postgres_url, pairing_members(8))

    async with slack_fleet(postgres_url, tmp_path) as fleet:
        fleet.api.hold_after("chat.postMessage", answered=2)
        first = await fleet.start("first")
        await wait_until(lambda: fleet.api.held, what="the third intro to be posted")
        await first.kill()

        # Slack has three intros; the outbox knows of two.
        assert sum(posted_keys(fleet.api).values()) == 3
        statuses = Counter(r.status for r in await outbox_rows(postgres_url))
        assert statuses == {OutboxStatus.SENT: 2, OutboxStatus.PENDING: 2}

        fleet.api.release()
        await fleet.start("second")
        rows = await wait_until(lambda: all_sent(postgres_url), what="every intro")

        assert [r.key.endswith(":intro") for r in rows] == [True] * 4
        assert_each_delivered_once(fleet.api, rows)
        assert len(fleet.api.called("chat.postMessage")) == 4  # the lost answer was not re-sent
        assert await count_rows(postgres_url, PairRound) == 1
        assert await count_rows(postgres_url, PairGroup) == 4
        assert sorted(fleet.timers_ran().values()) == [1]  # the round ran in the first only


async def test_a_question_and_its_pings_survive_two_kills_and_arrive_exactly_once(
    postgres_url: str, tmp_path: Path
) -> None:
    async with slack_chat(postgres_url) as chat:
        await tag(chat, "kubernetes", *KUBERNETES_PEOPLE)

    async with slack_fleet(postgres_url, tmp_path) as fleet:
        # 1. Killed while Slack holds the question's post.
        fleet.api.hold_after("chat.postMessage", answered=0)
        first = await fleet.start("first")
        status, _ = await fleet.workspace(first).command(
            "/ask", "How do you roll out a cluster upgrade safely? #kubernetes"
        )
        assert status == 200
        await wait_until(lambda: fleet.api.held, what="the question to be posted")
        await first.kill()
        [answer] = fleet.api.responses
        assert "I asked" in answer["text"]  # the asker heard who was pinged
        rows = await outbox_rows(postgres_url)
        assert [r.key.split(":")[0] for r in rows] == ["question"] + ["tags"] * 3
        assert {r.status for r in rows} == {OutboxStatus.PENDING}

        # 2. Killed while Slack holds the second ping.
        fleet.api.hold_after("chat.postMessage", answered=1)
        second = await fleet.start("second")
        await wait_until(lambda: fleet.api.held, what="the second ping to be posted")
        await second.kill()
        assert sum(posted_keys(fleet.api).values()) == 3  # the question and two pings

        # 3. A third process finishes the work.
        fleet.api.release()
        await fleet.start("third")
        rows = await wait_until(lambda: all_sent(postgres_url), what="the question and pings")

        assert_each_delivered_once(fleet.api, rows)
        pinged = {r.recipient_ids for r in rows if r.key.startswith("tags:")}
        assert len(pinged) == 3
        assert pinged <= set(KUBERNETES_PEOPLE)
        assert len(fleet.api.called("chat.postMessage")) == 4
        # The recovered post still told the question where it lives, so replies are counted.
        [post] = [
            m for m in fleet.api.posts() if m["metadata"]["event_payload"]["key"] == rows[0].key
        ]
        [question] = await rows_of(postgres_url, Question)
        assert (question.post_ref, question.thread_ref) == (post["ts"], post["ts"])
