"""Rendering for Discord: escaping, mentions, limits and modals, checked on the payloads."""

import re

from hypothesis import given
from hypothesis import strategies as st

from bot.adapters.discord_render import (
    EMBED_DESCRIPTION_MAX_CHARS,
    EMBED_TOTAL_MAX_CHARS,
    allowed_mentions_for,
    button_view,
    custom_id_for,
    escape,
    form_modal,
    render_messages,
    render_single,
    split_content,
    thread_name,
)
from bot.commands.ask import ASK_FORM
from bot.limits import DISCORD_MESSAGE_MAX_CHARS
from bot.replies import (
    Bold,
    Button,
    ChannelLink,
    Code,
    Italic,
    Mention,
    Quote,
    Reply,
    Section,
    rich,
)

ADA_ID = "110000000000000101"
ROLE_PING = "<@&123456789012345678>"
# What would ping or format if it reached Discord unescaped.
PINGS = re.compile(r"@(everyone|here)|<@[!&]?\d+>")


def pings_in(content: str) -> list[str]:
    return [m.group(0) for m in PINGS.finditer(content)]


def test_member_text_is_literal_and_only_mention_parts_ping():
    reply = Reply.say(
        "@everyone @here ",
        ROLE_PING,
        " <@999999999999999999> **bold** `code` > not a quote",
        " — asked by ",
        Mention(ADA_ID, "ada"),
    )

    [message] = render_messages(reply)

    assert pings_in(message.content) == [f"<@{ADA_ID}>"]
    assert "\\*\\*bold\\*\\*" in message.content
    assert message.allowed_mentions.to_dict() == {"parse": [], "users": [int(ADA_ID)]}


@given(st.text(max_size=300))
def test_escaped_text_never_pings(text):
    assert pings_in(escape(text)) == []


def test_every_message_blocks_everyone_and_roles_even_without_mentions():
    mentions = allowed_mentions_for(Reply.say("hello"))

    assert mentions.to_dict() == {"parse": [], "users": []}
    assert mentions.everyone is False
    assert mentions.roles is False


def test_emphasis_keeps_surrounding_spaces_outside_its_markers():
    content = render_messages(Reply.say("Settings", Italic(" (admins)"), Bold("")))[0].content

    assert content == "Settings *(admins)*"


def test_formatting_parts_render_as_markdown_with_their_text_escaped():
    reply = Reply(
        text=rich(Bold("Question #1"), " in ", ChannelLink("120000000000000001", "general")),
        sections=(
            Section(heading=rich(Bold("Context")), body=rich(Quote("line *one*\n\nline two"))),
            Section(body=rich(Code("/ask `x`"))),
        ),
    )

    content = render_messages(reply)[0].content

    assert content.startswith("**Question #1** in <#120000000000000001>")
    assert "**Context**\n> line \\*one\\*\n>\n> line two" in content
    assert "`/ask ˋxˋ`" in content  # a backtick cannot break out of the code span


def test_a_5000_character_reply_is_split_under_2000_per_message_with_nothing_lost():
    words = [f"word{i}" for i in range(900)]
    text = " ".join(words)
    assert len(text) > 5_000

    messages = render_messages(
        Reply.say(text, buttons=(Button("question.resolve", "Mark resolved", "1"),))
    )

    fewest = -(-len(text) // DISCORD_MESSAGE_MAX_CHARS)
    assert fewest <= len(messages) <= fewest + 1
    assert all(len(m.content) <= DISCORD_MESSAGE_MAX_CHARS for m in messages)
    assert " ".join(m.content for m in messages).split() == words
    assert [m.view is not None for m in messages] == [False] * (len(messages) - 1) + [True]


@given(st.text(min_size=1, max_size=9_000))
def test_split_content_never_exceeds_the_limit_and_keeps_every_word(text):
    chunks = split_content(text)

    assert all(len(chunk) <= DISCORD_MESSAGE_MAX_CHARS for chunk in chunks)
    assert "".join("".join(chunks).split()) == "".join(text.split())


def test_a_post_that_is_edited_later_stays_one_message_within_content_and_embed_limits():
    long_question = "Why " * 1_500  # 6,000 characters of member text
    reply = Reply(
        text=rich("❓ ", Bold("Question #1"), " from ", Mention(ADA_ID, "ada")),
        sections=(Section(body=rich(Quote(long_question))), Section(body=rich("🟢 Open"))),
    )

    message = render_single(reply)

    assert len(message.content) <= DISCORD_MESSAGE_MAX_CHARS
    assert f"<@{ADA_ID}>" in message.content
    [embed] = message.embeds
    assert len(embed.description) <= EMBED_DESCRIPTION_MAX_CHARS
    assert len(embed) <= EMBED_TOTAL_MAX_CHARS
    assert embed.description.endswith("…")


def test_a_short_post_is_plain_content():
    message = render_single(Reply.say("short"))

    assert message.content == "short"
    assert message.embeds == ()


def test_buttons_carry_action_and_value_in_their_custom_id_five_per_row():
    buttons = [Button("question.helped", f"Person {i}", f"1:{i}") for i in range(7)]

    view = button_view(buttons)

    assert view is not None
    rows = view.to_components()
    assert [len(row["components"]) for row in rows] == [5, 2]
    assert rows[0]["components"][0]["custom_id"] == "cm:question.helped:1:0"
    assert rows[0]["components"][0]["label"] == "Person 0"


def test_buttons_in_direct_messages_name_their_guild():
    assert custom_id_for("coffee.accept", "7", "1100") == "cm@1100:coffee.accept:7"


def test_a_button_discord_would_refuse_is_left_out_not_the_message():
    view = button_view(
        [Button("ok", "Fine", "1"), Button("too:long", "Bad", "x"), Button("ok", "Fine", "1")]
    )

    assert view is not None
    assert [c["custom_id"] for r in view.to_components() for c in r["components"]] == ["cm:ok:1"]


def test_thread_names_fit_discord():
    assert thread_name("#1 " + "a" * 200).endswith("…")
    assert len(thread_name("#1 " + "a" * 200)) <= 100
    assert thread_name("  two\nlines ") == "two lines"
    assert thread_name("") == "Question"


async def test_the_ask_form_becomes_a_modal_with_text_inputs_and_a_yes_no_select():
    modal = form_modal(ASK_FORM)
    data = modal.to_dict()

    assert data["custom_id"] == "cmf:ask"
    assert data["title"] == "Ask the community"
    inner = [row["component"] for row in data["components"]]
    assert [c["custom_id"] for c in inner] == ["question", "context", "topics", "anonymous"]
    assert [c["type"] for c in inner] == [4, 4, 4, 3]  # text inputs, then a select
    assert inner[0]["style"] == 2
    assert inner[0]["required"] is True
    assert inner[0]["max_length"] <= 4_000
    assert [o["value"] for o in inner[3]["options"]] == ["no", "yes"]
    assert all(len(row["label"]) <= 45 for row in data["components"])
    assert modal.is_finished()  # handled from the raw submission, never held in memory
