"""Replies: plain text for logs and fallbacks, and the JSON form that waits in the outbox."""

import json

import pytest

from bot.replies import (
    Bold,
    Button,
    ButtonStyle,
    ChannelLink,
    Code,
    Form,
    FormField,
    Italic,
    Mention,
    Quote,
    Reply,
    Rich,
    Section,
    Visibility,
    as_rich,
    reply_from_json,
    reply_to_json,
    rich,
)

EVERY_INLINE = rich(
    "Hi ",
    Mention("U123", "Ada L."),
    ", see ",
    ChannelLink("C1", "general"),
    " or ",
    ChannelLink("C2"),
    ": ",
    Bold("bold"),
    " ",
    Italic("quiet"),
    " ",
    Code("/ask"),
    "\n",
    Quote("a member's <b>literal</b> text with @everyone"),
)


def test_plain_renders_every_inline_type_without_formatting():
    assert EVERY_INLINE.plain() == (
        "Hi @Ada L., see #general or #C2: bold quiet /ask\n"
        "a member's <b>literal</b> text with @everyone"
    )


def test_rich_flattens_nested_runs_and_skips_none():
    joined = rich("a", None, rich(Bold("b"), rich("c")), Code("d"))

    assert joined.parts == ("a", Bold("b"), "c", Code("d"))


def test_rich_addition_and_truthiness():
    assert (rich("a") + rich(Bold("b"))).parts == ("a", Bold("b"))
    assert not Rich()
    assert not rich("")
    assert rich(Italic(""))  # a formatted part counts, even when empty
    assert rich(" ")


def test_as_rich_treats_strings_as_literal_text():
    assert as_rich("<@U1> *not bold*") == Rich(("<@U1> *not bold*",))
    run = rich(Bold("x"))
    assert as_rich(run) is run


def test_reply_plain_joins_text_headings_and_bodies_skipping_empty_ones():
    reply = Reply(
        text=rich("Top"),
        sections=(
            Section(body=rich("first body"), heading=rich(Bold("Heading"))),
            Section(body=rich("second body")),
            Section(body=Rich()),
        ),
    )

    assert reply.plain() == "Top\nHeading\nfirst body\nsecond body"


def test_reply_plain_without_text_starts_with_the_first_section():
    reply = Reply(sections=(Section(body=rich("only body")),))

    assert reply.plain() == "only body"


def test_reply_say_builds_the_text_and_passes_options():
    reply = Reply.say("Hello ", Mention("U1", "bob"), visibility=Visibility.CHANNEL)

    assert reply.text == rich("Hello ", Mention("U1", "bob"))
    assert reply.visibility is Visibility.CHANNEL


def test_json_round_trip_keeps_every_inline_type_buttons_and_sections():
    reply = Reply(
        text=EVERY_INLINE,
        sections=(
            Section(body=rich("body ", Code("x")), heading=rich(Bold("Heading"), " ", Italic("i"))),
            Section(body=rich(Quote("no heading"), Mention("U9", "Zoë"))),
        ),
        buttons=(
            Button("question.resolve", "Mark resolved", "12", ButtonStyle.PRIMARY),
            Button("question.discard", "Never mind", "12:0", ButtonStyle.DANGER),
            Button("plain", "Plain"),
        ),
        visibility=Visibility.CHANNEL,
    )

    restored = reply_from_json(reply_to_json(reply))

    assert restored == reply
    assert [type(p) for p in restored.text.parts] == [type(p) for p in reply.text.parts]
    assert restored.plain() == reply.plain()


@pytest.mark.parametrize("visibility", list(Visibility))
def test_json_round_trip_keeps_visibility(visibility):
    reply = Reply.say("x", visibility=visibility)

    assert reply_from_json(reply_to_json(reply)).visibility is visibility


def test_json_round_trip_of_an_empty_reply():
    assert reply_from_json(reply_to_json(Reply())) == Reply()


def test_json_keeps_unicode_readable_and_text_literal():
    reply = Reply.say("Grüße 👋 ", Code('"quoted" \\ back'), " <!here>")
    raw = reply_to_json(reply)

    assert "Grüße 👋" in raw  # not \u-escaped: the outbox stays readable
    assert json.loads(raw)["text"][0] == "Grüße 👋 "
    assert reply_from_json(raw) == reply


def test_json_leaves_forms_out():
    form = Form("ask", "Ask", (FormField("question", "Your question"),))
    reply = Reply(text=rich("fallback"), form=form)

    restored = reply_from_json(reply_to_json(reply))

    assert restored.form is None
    assert restored.text == rich("fallback")


def test_json_tags_inline_parts_by_type():
    data = json.loads(reply_to_json(Reply(text=rich("a", Mention("U1", "bob"), Code("c")))))

    assert data["text"] == [
        "a",
        {"t": "mention", "user_id": "U1", "display_name": "bob"},
        {"t": "code", "text": "c"},
    ]
