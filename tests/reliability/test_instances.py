"""Two real bot processes on one PostgreSQL database behave as one bot.

Every due timer runs once and every outbox row reaches Slack once, with both processes racing
for the same work from the same moment; and a conversation whose requests a load balancer
spreads over both instances ends exactly as it does on one.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlmodel import col

from bot.commands._question_post import RESOLVE_ACTION
from bot.store.models import Question, QuestionReply, QuestionStatus
from bot.store.pairing_models import PairGroup, PairRound
from bot.store.tag_models import CoffeeRequest, CoffeeStatus, MemberTag
from tests.adapters._slack_fakes import TEAM_ID, FakeWorkspace
from tests.reliability._processes import (
    BotProcess,
    Fleet,
    slack_chat,
    slack_fleet,
    slack_mention,
    wait_until,
)
from tests.reliability._state import (
    COFFEE_AGE,
    QUESTIONS_AGE,
    TAGS_AGE,
    all_sent,
    assert_each_delivered_once,
    count_rows,
    due_timers,
    pairing_members,
    prepare_due_round,
    rows_of,
    tag,
)

pytestmark = pytest.mark.postgres

TAGGED = ("U0K1", "U0K2", "U0K3")
QUESTIONS = {
    "C0Q1": "How do you roll out a cluster upgrade safely? #kubernetes",
    "C0Q2": "Which books helped you become a better listener? #communication",
    "C0Q3": "What made your first salary negotiation go well? #career",
}
COFFEES = (("U0C1", "U0K1"), ("U0C2", "U0K2"))


async def prepare_everything_due(database_url: str) -> None:
    """Leave one of each timer kind due: re-confirmations, nudges, closes, expiries, a round."""
    async with slack_chat(database_url, ago=TAGS_AGE) as chat:
        await tag(chat, "kubernetes", *TAGGED)
        chat.app.clock.offset = -QUESTIONS_AGE
        for channel, question in QUESTIONS.items():
            posted = await chat.say(f"/ask {question}", as_="U0ASKER", channel=channel)
            assert "Posted as" in posted.plain(), posted.plain()
        chat.app.clock.offset = -COFFEE_AGE
        for requester, recipient in COFFEES:
            line = f"/coffee {slack_mention(recipient)} kubernetes Twenty minutes on upgrades?"
            sent = await chat.say(line, as_=requester)
            assert "Sent!" in sent.plain(), sent.plain()
    await prepare_due_round(database_url, pairing_members(8))


async def _all_waiting_on_timers(gate: asyncpg.Connection, count: int) -> bool:
    waiting = await gate.fetchval(
        "SELECT count(*) FROM pg_locks WHERE relation = 'timers'::regclass AND NOT granted"
    )
    return int(waiting) >= count


async def start_together(fleet: Fleet, *names: str, **settings: str) -> list[BotProcess]:
    """Start processes that all reach the timers table at the same moment.

    The table is locked until every process waits for it at start-up, so all of them arm the
    same due timers and race for each one, rather than the first to boot doing all the work.
    """
    gate = await asyncpg.connect(fleet.database_url)
    try:
        async with gate.transaction():
            await gate.execute("LOCK TABLE timers IN ACCESS EXCLUSIVE MODE")
            processes = [await fleet.launch(name, **settings) for name in names]
            await wait_until(
                lambda: _all_waiting_on_timers(gate, len(names)),
                what="every process to wait for the timers table",
            )
    finally:
        await gate.close()
    return list(await asyncio.gather(*(p.ready() for p in processes)))


async def test_two_processes_run_each_due_timer_once_and_deliver_each_message_once(
    postgres_url: str, tmp_path: Path
) -> None:
    await prepare_everything_due(postgres_url)
    due = await due_timers(postgres_url)
    assert Counter(due.values()) == {
        "tags.refresh": 3,
        "question.nudge": 3,
        "question.close": 3,
        "coffee.expire": 2,
        "pair.round": 1,
    }

    async with slack_fleet(postgres_url, tmp_path) as fleet:
        # A slow Slack and a short lease: a batch outlives the lease it was claimed with.
        fleet.api.delays["chat.postMessage"] = 0.2
        await start_together(fleet, "a", "b", CROWDMENTOR_DELIVERY__LEASE_SECONDS="1")
        await wait_until(lambda: set(due) <= set(fleet.timers_ran()), what="every due timer")
        rows = await wait_until(lambda: all_sent(postgres_url), within=30, what="every message")

        ran = fleet.timers_ran()
        assert ran == Counter(dict.fromkeys(due, 1))
        assert_each_delivered_once(fleet.api, rows)
        assert fleet.delivered() == Counter(r.key for r in rows)
        assert len(fleet.api.called("chat.postMessage")) == sum(r.kind != "update" for r in rows)
        assert fleet.tracebacks() == []

    # What each timer did happened once.
    assert await count_rows(postgres_url, PairRound) == 1
    assert await count_rows(postgres_url, PairGroup) == 4
    questions = await rows_of(postgres_url, Question)
    assert [q.status for q in questions] == [QuestionStatus.CLOSED] * 3
    # Nudge and close fell due together: a question is nudged only while it is still open.
    assert all(q.nudged_at is None or q.nudged_at <= q.closed_at for q in questions)
    expired = col(CoffeeRequest.status) == CoffeeStatus.EXPIRED
    assert await count_rows(postgres_url, CoffeeRequest, expired) == 2
    asked = col(MemberTag.confirm_asked_at).is_not(None)
    assert await count_rows(postgres_url, MemberTag, asked) == 3


# ---- one conversation behind a load balancer ----------------------------------------------------

REPLY_TS = "1700000500.000100"
SOLO_TEAM_ID = "T0002"  # the same conversation, every request on one instance


def _reply_event(channel: str, thread_ts: str, user: str, ts: str) -> dict[str, Any]:
    return {
        "type": "message",
        "channel": channel,
        "channel_type": "channel",
        "user": user,
        "text": "Have you tried a canary node pool?",
        "ts": ts,
        "thread_ts": thread_ts,
    }


async def _handled(processes: list[BotProcess], kind: str) -> int:
    return sum([await p.handled(kind) for p in processes])


async def converse(fleet: Fleet, route: list[FakeWorkspace], channel: str) -> dict[str, Any]:
    """Hold one conversation, request n going to route[n]; return what it came to, normalised.

    /ask opens the modal; the modal is submitted; a reply arrives in the thread, then Slack
    retries that event; five more people reply at once; the asker marks the question resolved.
    """
    api, processes, url = fleet.api, fleet.processes, fleet.database_url
    responses, opened = len(api.responses), len(api.called("views.open"))
    await route[0].command("/ask", "", channel=channel, trigger_id=f"trigger-{channel}")
    [modal] = await wait_until(lambda: api.called("views.open")[opened:], what="the modal")
    view = modal.params["view"]

    await route[1].submit_view(
        view["callback_id"],
        {
            "question": {"question": {"type": "plain_text_input", "value": "How do I upgrade?"}},
            "context": {"context": {"type": "plain_text_input", "value": "Three clusters."}},
            "topics": {"topics": {"type": "plain_text_input", "value": "kubernetes"}},
            "anonymous": {"anonymous": {"type": "checkboxes", "selected_options": []}},
        },
        view["private_metadata"],
    )
    [post] = await wait_until(lambda: api.posts(channel), what="the question's post")
    messages = await _handled(processes, "message")

    first = _reply_event(channel, post["ts"], "U0BOB", REPLY_TS)
    await route[2].event(first, event_id=f"Ev{channel}")
    await route[3].event(first, event_id=f"Ev{channel}", retry=1)
    await wait_until(
        lambda: _all_handled(processes, "message", messages + 2), what="the reply and its retry"
    )
    others = [
        _reply_event(channel, post["ts"], f"U0R{n}", f"1700000600.00010{n}") for n in range(5)
    ]
    await asyncio.gather(*(route[4 + n % 2].event(e) for n, e in enumerate(others)))
    await wait_until(
        lambda: _all_handled(processes, "message", messages + 7), what="five replies at once"
    )
    [question] = await rows_of(url, Question, Question.post_ref == post["ts"])
    updates = len(api.called("chat.update"))
    await route[6].press(RESOLVE_ACTION, str(question.id), channel=channel, message_ts=post["ts"])
    await wait_until(lambda: len(api.called("chat.update")) > updates, what="the resolved post")

    [question] = await rows_of(url, Question, Question.id == question.id)
    replies = await count_rows(url, QuestionReply, QuestionReply.question_id == question.id)
    edited = api.called("chat.update")[updates:]
    return _normalised(
        channel,
        {
            "answers": [r.get("text", "") for r in api.responses[responses:]],
            "posts": [m.get("text", "") for m in api.posts(channel)],
            "edits": [e.params.get("text", "") for e in edited if e.params["channel"] == channel],
            "question": (question.number, question.status, question.reply_count, replies),
        },
    )


async def _all_handled(processes: list[BotProcess], kind: str, count: int) -> bool:
    return await _handled(processes, kind) >= count


def _normalised(channel: str, outcome: dict[str, Any]) -> dict[str, Any]:
    text = json.dumps(outcome).replace(channel, "CHANNEL")
    return dict(json.loads(re.sub(r"\d{10}\.\d{6}", "TS", text)))


async def test_a_conversation_spread_over_two_instances_ends_as_on_one(
    postgres_url: str, tmp_path: Path
) -> None:
    for team in (TEAM_ID, SOLO_TEAM_ID):
        async with slack_chat(postgres_url, team_id=team) as chat:
            await tag(chat, "kubernetes", *TAGGED)

    async with slack_fleet(postgres_url, tmp_path) as fleet:
        a, b = await asyncio.gather(fleet.start("a"), fleet.start("b"))
        on_a, on_b = fleet.workspace(a), fleet.workspace(b)
        alone = fleet.workspace(a, team_id=SOLO_TEAM_ID)

        spread = await converse(fleet, [on_a, on_b, on_a, on_b, on_a, on_b, on_b], "C0SPREAD")
        single = await converse(fleet, [alone] * 7, "C0SINGLE")
        assert fleet.tracebacks() == []
        # B really served its share: the submission, a retried reply, replies and the press.
        assert [await b.handled(k) for k in ("view_submission", "message", "action")] == [1, 3, 1]

    assert spread == single
    _, status, reply_count, replies = spread["question"]
    assert (status, reply_count, replies) == (QuestionStatus.RESOLVED, 6, 6)
    assert len(spread["posts"]) == 1
    assert "Posted as" in spread["answers"][0]
