"""Whatever hostile text ends up in a reply renders within each platform's limits and pings no one
beyond the people it names."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import select

from bot.adapters import discord_render, slack_render
from bot.adapters.console_render import ConsoleRenderer
from bot.limits import QUESTION_MAX_CHARS
from bot.replies import (
    Bold,
    Button,
    ChannelLink,
    Code,
    Italic,
    Mention,
    Quote,
    Reply,
    Rich,
    Section,
)
from bot.store.models import Question
from tests.reliability._hostile import hostile_text, huge_text, live_mass_mentions

EXAMPLES = 150

# What pings many people on each platform (a zero-width space after the first character defuses).
SLACK_MASS = re.compile(r"<!")
# Role ids are snowflakes (17 to 20 digits today); allowed_mentions refuses role pings anyway.
DISCORD_MASS = re.compile(r"@(?:everyone|here)|<@&\d{17,20}>")
# The only "<@…>" Slack output may hold: a mention of one person by a Slack user id.
SLACK_USER_MENTION = re.compile(r"<@[A-Z][A-Z0-9]{2,}>")
# Tabs and newlines are layout; every other control character (ESC above all) is not.
CONSOLE_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

_TEXT = st.one_of(hostile_text(12), st.just(""), st.just("@everyone <!channel> <@&1>"))
_INLINE = st.one_of(
    _TEXT,
    st.builds(Bold, _TEXT),
    st.builds(Italic, _TEXT),
    st.builds(Code, _TEXT),
    st.builds(Quote, _TEXT),
    st.builds(Mention, st.one_of(_TEXT, st.just("U0ADA"), st.just("110000000000000101")), _TEXT),
    st.builds(ChannelLink, st.one_of(_TEXT, st.just("C0GENERAL")), _TEXT),
)
_RICH = st.lists(_INLINE, max_size=6).map(lambda parts: Rich(tuple(parts)))
_BUTTON = st.builds(
    Button, st.sampled_from(["question.resolve", "pair.checkin", "x"]), _TEXT, _TEXT
)
REPLIES = st.builds(
    Reply,
    text=st.one_of(_RICH, huge_text().map(lambda t: Rich((t,)))),
    sections=st.lists(st.builds(Section, _RICH, st.none() | _RICH), max_size=60).map(tuple),
    buttons=st.lists(_BUTTON, max_size=8).map(tuple),
)


def _mrkdwn_strings(value: Any) -> list[str]:
    """Return every text Slack parses for mentions: mrkdwn objects (plain_text never pings)."""
    if isinstance(value, dict):
        own = [value["text"]] if value.get("type") == "mrkdwn" else []
        return own + [s for v in value.values() for s in _mrkdwn_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _mrkdwn_strings(v)]
    return []


def assert_slack_renders(reply: Reply) -> None:
    """Check a reply's Slack message against Block Kit's limits and for mass mentions."""
    payload = slack_render.message_payload(reply)
    blocks = payload["blocks"]
    assert len(payload["text"]) <= slack_render.MESSAGE_TEXT_MAX_CHARS
    assert len(blocks) <= slack_render.MESSAGE_BLOCKS_MAX
    for block in blocks:
        if block["type"] == "section":
            assert 0 < len(block["text"]["text"]) <= slack_render.SECTION_TEXT_MAX_CHARS
        if block["type"] == "actions":
            assert len(block["elements"]) <= slack_render.ACTIONS_ELEMENTS_MAX
            for button in block["elements"]:
                assert 0 < len(button["text"]["text"]) <= slack_render.BUTTON_TEXT_MAX_CHARS
                assert len(button.get("value", "")) <= slack_render.BUTTON_VALUE_MAX_CHARS
                assert len(button["action_id"]) <= slack_render.ACTION_ID_MAX_CHARS
    for text in [payload["text"], *_mrkdwn_strings(blocks)]:
        assert SLACK_MASS.findall(text) == [], text
        assert SLACK_USER_MENTION.sub("", text).count("<@") == 0, text


def assert_discord_renders(reply: Reply) -> None:
    """Check a reply's Discord messages against Discord's limits and for mass mentions."""
    messages = discord_render.render_messages(reply)
    single = discord_render.render_single(reply)
    for message in (*messages, single):
        assert len(message.content) <= discord_render.DISCORD_MESSAGE_MAX_CHARS
        assert DISCORD_MASS.findall(message.content) == [], message.content
        assert message.allowed_mentions.everyone is False
        assert message.allowed_mentions.roles is False
        for embed in message.embeds:
            assert len(embed.description or "") <= discord_render.EMBED_DESCRIPTION_MAX_CHARS
            assert DISCORD_MASS.findall(embed.description or "") == []
        if message.view is not None:
            for item in message.view.children:
                button = getattr(item, "item", item)  # a DynamicItem wraps its button
                assert len(button.custom_id) <= discord_render.CUSTOM_ID_MAX_CHARS
                assert len(button.label or "") <= discord_render.BUTTON_LABEL_MAX_CHARS
    assert messages[0].content or messages[-1].view is not None


def assert_console_renders(reply: Reply) -> None:
    """Check a reply's terminal text holds no control character that could repaint a terminal."""
    assert CONSOLE_CONTROL.findall(ConsoleRenderer(color=False).reply(reply)) == []


@settings(max_examples=EXAMPLES, deadline=None)
@given(REPLIES)
def test_any_reply_renders_within_slack_limits_without_mass_mentions(reply: Reply) -> None:
    assert_slack_renders(reply)


@settings(max_examples=EXAMPLES, deadline=None)
@given(REPLIES)
def test_any_reply_renders_within_discord_limits_without_mass_mentions(reply: Reply) -> None:
    assert_discord_renders(reply)


@settings(max_examples=EXAMPLES, deadline=None)
@given(REPLIES)
def test_any_reply_renders_on_the_console_without_control_characters(reply: Reply) -> None:
    assert_console_renders(reply)


@settings(max_examples=EXAMPLES, deadline=None)
@given(_TEXT)
def test_thread_names_fit_on_one_line(title: str) -> None:
    name = discord_render.thread_name(title)
    assert 0 < len(name) <= 100
    assert "\n" not in name


# ---- what the bot stores from hostile input renders back -----------------------------------

HOSTILE_QUESTIONS = [
    "@everyone how do I <!channel> review code? #python",
    "<!here|here> <!subteam^S0123|@devs> what is the best way to learn Rust? #rust",
    "<@&123456789012345678> @here how did you prepare for interviews?\u202e #career",
    "What about NUL\x00 bytes and zero\u200bwidth\ufeff characters in questions? #unicode",
    "*bold* _it_ ~strike~ `code` ```block``` > quote || spoiler || how do I escape? #markdown",
    "x" * 5000 + " how do I write shorter questions? #writing",
    "How do I " + "@everyone " * 300 + "stop this? #spam",
    "#" * 200 + " what are hashtags? " + " ".join(f"#t{i}" for i in range(40)),
]


@pytest.mark.parametrize("question", HOSTILE_QUESTIONS, ids=range(len(HOSTILE_QUESTIONS)))
async def test_what_a_hostile_question_stores_renders_everywhere(chat, question: str) -> None:
    answer = await chat.say("/ask " + question)
    listing = await chat.say("/crowdmentor questions")
    async with chat.app.database.unit_of_work() as uow:
        stored = list((await uow.session.exec(select(Question))).all())

    # Everything delivered was read back from the outbox, so it is what the store held.
    delivered = [message.reply for message in chat.platform.messages.values()]
    assert answer.text  # a kind answer, whatever was asked
    assert "went wrong" not in answer.text.plain()
    if len(question) > QUESTION_MAX_CHARS:
        # Too long for every platform: said kindly, nothing posted, the text handed back.
        assert "at most" in answer.text.plain()
        assert stored == []
    else:
        assert len(stored) == 1  # nothing lost: kept, however it was written
    for reply in (answer, listing, *delivered):
        assert_slack_renders(reply)
        assert_discord_renders(reply)
        assert_console_renders(reply)
    for row in stored:
        assert "\x00" not in row.text + row.context
        assert live_mass_mentions(row.text + row.context) == []


# ---- through the running Slack and Discord apps ---------------------------------------------

PINGING = [q for q in HOSTILE_QUESTIONS if len(q) <= QUESTION_MAX_CHARS]


async def test_hostile_questions_posted_on_slack_ping_no_one(settings) -> None:
    from tests.adapters._slack_fakes import slack_harness

    async with slack_harness(settings) as slack:
        for index, question in enumerate(PINGING):
            # One channel each: Slack's one-post-per-second pacing is per channel.
            await slack.workspace.command(
                "/ask",
                question,
                user=f"U0P{index}",
                channel=f"C0P{index}",
                channel_name=f"p{index}",
            )
        await slack.settle("command", len(PINGING))
        await slack.deliver()
        posts = slack.api.posts()
        answers = slack.api.responses

    assert len(posts) == len(PINGING)
    for message in [*posts, *answers]:
        assert "link_names" not in message
        for text in [message.get("text", ""), *_mrkdwn_strings(message.get("blocks") or [])]:
            assert SLACK_MASS.findall(text) == [], text
            assert "\x00" not in text


async def test_hostile_questions_posted_on_discord_ping_no_one(settings) -> None:
    from tests.adapters._discord_fakes import ADA, discord_world

    async with discord_world(settings) as world:
        for question in PINGING:
            await world.slash("/ask", question=question, as_=ADA)
        await world.deliver()
        sent = [r.json for r in world.fake.requests if r.method in ("POST", "PATCH")]

    contents = [body.get("content") or (body.get("data") or {}).get("content") for body in sent]
    contents = [c for c in contents if c]
    assert len(contents) >= len(PINGING)
    for body in sent:
        mentions = body.get("allowed_mentions") or (body.get("data") or {}).get("allowed_mentions")
        if mentions is not None:
            assert mentions.get("parse") == []
    for content in contents:
        assert DISCORD_MASS.findall(content) == [], content
