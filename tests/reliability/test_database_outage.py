"""PostgreSQL unreachable for 10 seconds, refused or black-holed, under the running bot.

Slack's HTTP app and Discord's real interactions run in this process against one database seen
through a TCP proxy. While the proxy cuts the database off, every command is still acknowledged
within the platform's deadline and answered "try again in a moment"; an outage that begins in
the middle of a transaction leaves nothing of it behind; and the messages queued before the
outage go out once the database is back, exactly once, without a restart.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import pytest
from sqlalchemy import event

from bot.limits import INTERACTION_ACK_SECONDS
from bot.settings import Settings
from bot.store.models import OutboxMessage, OutboxStatus, Question
from tests.adapters._discord_fakes import BOB, discord_world
from tests.adapters._slack_fakes import slack_harness
from tests.reliability._processes import wait_until, worker
from tests.reliability._state import (
    all_sent,
    assert_each_delivered_once,
    count_rows,
    outbox_rows,
    rows_of,
)
from tests.reliability._tcp_proxy import Mode, tcp_proxy

pytestmark = pytest.mark.postgres

OUTAGE_SECONDS = 10.0
# One command per platform about this often while the database is away.
COMMAND_EVERY_SECONDS = 1.0
TRY_AGAIN = "try again in a moment"
KUBERNETES = ("U0K1", "U0K2", "U0K3")
FAST_DELIVERY = {"poll_seconds": 0.2, "backoff_base_seconds": 0.2, "lease_seconds": 3}


@dataclass
class Timings:
    """What one platform's members saw while the database was away."""

    acks: list[float] = field(default_factory=list)
    answers: list[float] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)


async def slack_command(harness: Any, timings: Timings, command: str, text: str) -> None:
    """Send one signed slash command; time its ack and the answer to its response_url."""
    body = harness.workspace.command_body(command, text, user="U0ADA")
    url = parse_qs(body)["response_url"][0]
    started = time.monotonic()
    status, _ = await harness.workspace.send(body, "application/x-www-form-urlencoded")
    timings.acks.append(time.monotonic() - started)
    assert status == 200
    answers = await wait_until(
        lambda: [r for r in harness.api.responses if r["url"] == url], 30, f"an answer to {text!r}"
    )
    timings.answers.append(time.monotonic() - started)
    timings.texts.append(answers[0]["text"])


async def discord_command(world: Any, timings: Timings, line: str, **values: Any) -> None:
    """Run one real interaction; time its first callback and its answer."""
    started = time.monotonic()
    payload = await world.slash(line, **values)
    first, *rest = world.fake.answers(payload)
    timings.acks.append(first.at - started)
    said = [r for r in (first, *rest) if (r.json.get("data") or r.json).get("content")]
    assert said, f"{line} was never answered: {[r.json for r in (first, *rest)]}"
    timings.answers.append(said[0].at - started)
    timings.texts.append(str((said[0].json.get("data") or said[0].json)["content"]))


def cut_on_statement(app: Any, proxy: Any, mode: Mode, marker: str) -> list[str]:
    """Cut the database the moment the app sends a statement containing `marker`."""
    seen: list[str] = []

    @event.listens_for(app.database.engine.sync_engine, "before_cursor_execute")
    def _cut(*args: Any) -> None:
        statement = str(args[2])
        if not seen and marker in statement:
            seen.append(statement)
            proxy.set_mode(mode)

    return seen


@pytest.mark.parametrize("mode", [Mode.REFUSE, Mode.BLACK_HOLE], ids=lambda m: m.value)
async def test_a_ten_second_outage_answers_kindly_half_writes_nothing_and_delivers_after(
    postgres_url: str, mode: Mode
) -> None:
    async with tcp_proxy(postgres_url) as proxy:
        settings = Settings(database_url=proxy.url_for(postgres_url), delivery=FAST_DELIVERY)
        async with slack_harness(settings) as slack, discord_world(settings) as discord:
            # Before the outage: a question and its pings on each platform, queued, not sent.
            for person in KUBERNETES:
                await slack.workspace.command("/askme", "add kubernetes", user=person)
            await slack.workspace.command("/ask", "How do you upgrade a cluster? #kubernetes")
            await slack.settle("command", len(KUBERNETES) + 1)
            await discord.slash("/askme add", as_=BOB, topics="kubernetes")
            await discord.slash("/ask", question="How do you drain a node? #kubernetes")
            queued = await outbox_rows(postgres_url)
            assert {r.status for r in queued} == {OutboxStatus.PENDING}
            assert len(queued) == 1 + len(KUBERNETES) + 1 + 1  # two questions, four pings

            # The outage begins in the middle of /ask's transaction: the question row is
            # written, its first outbox row is on its way.
            seen = cut_on_statement(slack.app, proxy, mode, "INSERT INTO outbox")
            cut_at = time.monotonic()
            slack_seen, discord_seen = Timings(), Timings()
            half = asyncio.create_task(
                slack_command(slack, slack_seen, "/ask", "Is etcd backup enough? #kubernetes")
            )
            await wait_until(lambda: seen, 10, "the transaction to reach the outbox")
            async with worker(slack.app), worker(discord.app):
                # The workers meet the outage too; commands keep coming on both platforms.
                commands = 0
                while time.monotonic() - cut_at < OUTAGE_SECONDS - COMMAND_EVERY_SECONDS:
                    commands += 1
                    await asyncio.gather(
                        slack_command(slack, slack_seen, "/askme", f"add topic{commands}"),
                        discord_command(
                            discord, discord_seen, "/askme add", topics=f"topic{commands}"
                        ),
                        asyncio.sleep(COMMAND_EVERY_SECONDS),
                    )
                await half
                await asyncio.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - cut_at)))
                proxy.set_mode(Mode.PASS)
                sent = await wait_until(lambda: all_sent(postgres_url), 30, "the queued messages")

        assert slack.api.posts(), "nothing reached Slack"
        on_discord = Counter(m.get("nonce") for m in discord.fake.messages.values())

    print(
        f"\n{mode.value}: {commands} commands per platform (+1 cut mid-transaction); "
        f"slack slowest ack {max(slack_seen.acks):.3f}s, slowest answer "
        f"{max(slack_seen.answers):.3f}s; discord slowest ack {max(discord_seen.acks):.3f}s, "
        f"slowest answer {max(discord_seen.answers):.3f}s; "
        f"{len(sent)} queued messages delivered"
    )
    for timings in (slack_seen, discord_seen):
        assert len(timings.acks) >= commands
        assert max(timings.acks) < INTERACTION_ACK_SECONDS
        assert all(TRY_AGAIN in text for text in timings.texts), timings.texts
    # Nothing of the interrupted /ask, nor of any command during the outage, was kept.
    questions = await rows_of(postgres_url, Question)
    assert sorted(q.text for q in questions) == [
        "How do you drain a node?",
        "How do you upgrade a cluster?",
    ]
    assert await count_rows(postgres_url, OutboxMessage) == len(queued)
    # Each queued message went out once: on Slack by its metadata, on Discord by its nonce.
    slack_rows = [r for r in sent if r.community_id == queued[0].community_id]
    assert_each_delivered_once(slack.api, slack_rows)
    assert all(count == 1 for count in on_discord.values()), on_discord
    assert len(sent) - len(slack_rows) == sum(on_discord.values())
