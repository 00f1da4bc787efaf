"""Rendering for Slack: escaping, mentions, Block Kit limits, modals."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.adapters.slack_inbound import unescape_text
from bot.adapters.slack_render import (
    MESSAGE_BLOCKS_MAX,
    MESSAGE_TEXT_MAX_CHARS,
    SECTION_TEXT_MAX_CHARS,
    action_of,
    escape,
    home_view,
    message_payload,
    modal_view,
    mrkdwn,
    split_mrkdwn,
)
from bot.commands.ask import ASK_FORM
from bot.replies import (
    Bold,
    Button,
    ButtonStyle,
    ChannelLink,
    Code,
    Mention,
    Quote,
    Reply,
    Rich,
    Section,
    rich,
)


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@given(st.text())
def test_escape_leaves_no_control_characters_and_round_trips(text):
    escaped = escape(text)

    assert "<" not in escaped
    assert ">" not in escaped
    for index, char in enumerate(escaped):
        if char == "&":
            assert escaped[index:].startswith(("&amp;", "&lt;", "&gt;"))
    assert _unescape(escaped) == text


@given(st.text(alphabet=st.sampled_from("ab &<>\n*_`@!#|^"), max_size=400), st.integers(16, 120))
def test_split_mrkdwn_never_exceeds_the_limit_and_loses_nothing(text, limit):
    chunks = split_mrkdwn(rich(text), limit)

    assert all(len(chunk) <= limit for chunk in chunks)
    assert "".join(_unescape(c) for c in chunks).replace("\n", "").replace(" ", "") == (
        text.replace("\n", "").replace(" ", "")
    )


def test_special_mentions_typed_by_members_cannot_ping():
    typed = "<!channel> <!here> <!everyone> <!subteam^S0TEAM|@devs> <@U0BOB> hi"

    shown = mrkdwn(rich(typed))

    assert "<!" not in shown
    assert "<@" not in shown
    assert "&lt;!channel&gt;" in shown
    assert "@U0BOB" in shown  # a member's own mention token reads as text, without a ping


def test_slack_tokens_in_member_text_read_as_slack_shows_them():
    assert mrkdwn(rich("thanks <@U0BOB|bob> in <#C0GEN|general>")) == "thanks @bob in #general"


def test_mentions_and_channel_links_from_the_bot_are_real_tokens():
    text = mrkdwn(rich(Mention("U0ADA", "ada"), " asked in ", ChannelLink("C0GENERAL", "general")))

    assert text == "<@U0ADA> asked in <#C0GENERAL>"


def test_formatting_parts_escape_their_text():
    text = mrkdwn(rich(Bold("a<b"), " ", Code("x`y>"), " ", Quote("line & one\nline two")))

    assert text.startswith("*a&lt;b* `xˋy&gt;`")
    assert "\n>line &amp; one\n>line two" in text


def test_a_45000_character_text_is_split_into_sections_and_shortened_never_refused():
    reply = Reply(text=rich("word " * 9_000), buttons=(Button("question.resolve", "Resolve", "1"),))

    payload = message_payload(reply)

    assert len(payload["text"]) <= MESSAGE_TEXT_MAX_CHARS
    assert payload["text"].endswith("…")
    blocks = payload["blocks"]
    assert len(blocks) <= MESSAGE_BLOCKS_MAX
    sections = [b for b in blocks if b["type"] == "section"]
    assert len(sections) == 15  # 45,000 characters in sections of at most 3,000
    assert all(len(b["text"]["text"]) <= SECTION_TEXT_MAX_CHARS for b in sections)
    assert blocks[-1]["type"] == "actions"
    for block in blocks:
        Block.parse(block).validate_json()  # slack_sdk's own limits


def test_eighty_sections_keep_the_buttons_and_say_what_was_cut():
    reply = Reply(
        text=rich("Many sections"),
        sections=tuple(Section(body=rich(f"section {n}")) for n in range(80)),
        buttons=(Button("a", "A"), Button("b", "B", style=ButtonStyle.DANGER)),
    )

    blocks = message_payload(reply)["blocks"]

    assert len(blocks) == MESSAGE_BLOCKS_MAX
    assert blocks[-1]["type"] == "actions"
    assert blocks[-2]["type"] == "context"
    assert "cut" in blocks[-2]["elements"][0]["text"]
    assert blocks[-1]["elements"][1]["style"] == "danger"
    for block in blocks:
        Block.parse(block).validate_json()


def test_a_home_tab_takes_up_to_100_blocks():
    reply = Reply(sections=tuple(Section(body=rich(f"line {n}")) for n in range(150)))

    view = home_view(reply, intro=rich("Hello"))

    assert view["type"] == "home"
    assert len(view["blocks"]) == 100


def test_buttons_with_the_same_action_get_unique_action_ids_that_map_back():
    reply = Reply(
        buttons=(
            Button("question.helped", "Bob", "1:2"),
            Button("question.helped", "Eve", "1:3"),
            Button("question.helped", "Skip", "1:0"),
        )
    )

    [actions] = message_payload(reply)["blocks"]
    ids = [element["action_id"] for element in actions["elements"]]

    assert len(set(ids)) == 3
    assert {action_of(i) for i in ids} == {"question.helped"}
    assert [element["value"] for element in actions["elements"]] == ["1:2", "1:3", "1:0"]


def test_the_ask_form_becomes_a_valid_modal_that_carries_where_it_was_opened():
    view = modal_view(ASK_FORM, {"channel": "C0GENERAL", "response_url": "https://x/y"})

    View(**view).validate_json()
    assert view["callback_id"] == "ask"
    assert len(view["title"]["text"]) <= 24
    assert json.loads(view["private_metadata"])["channel"] == "C0GENERAL"
    kinds = {b["block_id"]: b["element"]["type"] for b in view["blocks"]}
    assert kinds == {
        "question": "plain_text_input",
        "context": "plain_text_input",
        "topics": "plain_text_input",
        "anonymous": "checkboxes",
    }
    question = view["blocks"][0]
    assert question["optional"] is False
    assert question["element"]["multiline"] is True


def test_inbound_text_is_unescaped_but_slack_tokens_stay():
    text = unescape_text("a &amp; b &lt;3 <@U0BOB|bob> <https://x.test/?a=1&amp;b=2|link> <!here>")

    assert text == "a & b <3 <@U0BOB|bob> https://x.test/?a=1&b=2 <!here>"


def test_empty_reply_parts_still_render_a_fallback_text():
    assert message_payload(Reply(text=Rich()))["text"].strip() == ""
    assert message_payload(Reply(text=rich(Code("x"))))["text"] == "`x`"
