"""Reading typed arguments from a text line (console, Slack) and from typed options (Discord)."""

import pytest

from bot.args import ChannelRef, UserRef, coerce_options, parse_channel, parse_text, parse_user
from bot.errors import BadArgumentsError
from bot.registry import CommandSpec, Param, ParamKind


async def _handler(ctx, **kwargs):
    return None


def _spec(*params: Param, path: tuple[str, ...] = ("demo",)) -> CommandSpec:
    return CommandSpec(path=path, summary="Demo", params=params, handler=_handler)


EVERYTHING = _spec(
    Param("urgent", ParamKind.FLAG, "Urgent"),
    Param("count", ParamKind.INT, "How many", min_value=1, max_value=10),
    Param("who", ParamKind.USER, "Who"),
    Param("where", ParamKind.CHANNEL, "Where"),
    Param("mode", ParamKind.CHOICE, "Mode", choices=("open", "mine")),
    Param("word", ParamKind.WORD, "A word"),
    Param("text", ParamKind.TEXT, "The rest"),
    path=("crowdmentor", "demo"),
)

ASK = _spec(
    Param("anonymous", ParamKind.FLAG, "Hide name"),
    Param("question", ParamKind.TEXT, "Your question"),
    path=("ask",),
)

QUESTIONS = _spec(
    Param("filter", ParamKind.CHOICE, "Which", choices=("open", "mine", "all", "search")),
    Param("text", ParamKind.TEXT, "Search"),
    path=("crowdmentor", "questions"),
)

GRANT = _spec(
    Param("change", ParamKind.CHOICE, "add or remove", required=True, choices=("add", "remove")),
    Param("person", ParamKind.USER, "Who", required=True),
    path=("crowdmentor", "settings", "moderator"),
)


# ---- parse_text: every kind -------------------------------------------------------------------


def test_parse_text_reads_every_kind_of_parameter_from_slack_tokens():
    values = parse_text(EVERYTHING, "--urgent 3 <@U123|bob> <#C1|general> mine hello the rest")

    assert values == {
        "urgent": True,
        "count": 3,
        "who": UserRef(user_id="U123", name="bob"),
        "where": ChannelRef("C1", "general"),
        "mode": "mine",
        "word": "hello",
        "text": "the rest",
    }


def test_parse_text_reads_console_style_user_and_channel():
    values = parse_text(EVERYTHING, "3 @bob #general open hello")

    assert values["who"] == UserRef(user_id=None, name="bob")
    assert values["where"] == ChannelRef("general", "general")
    assert values["mode"] == "open"
    assert values["word"] == "hello"
    assert "text" not in values


def test_parse_text_with_nothing_leaves_optional_params_out_and_flags_false():
    assert parse_text(EVERYTHING, "") == {"urgent": False}
    assert parse_text(EVERYTHING, "   ") == {"urgent": False}


def test_text_param_keeps_the_rest_of_the_line_verbatim():
    values = parse_text(ASK, "  How do I  ask   for a raise? -- really #career  ")

    assert values == {
        "anonymous": False,
        "question": "How do I  ask   for a raise? -- really #career",
    }


def test_flags_are_read_only_from_the_front():
    values = parse_text(ASK, "--anonymous Is --anonymous a flag here?")

    assert values == {"anonymous": True, "question": "Is --anonymous a flag here?"}


def test_flag_names_are_case_insensitive():
    assert parse_text(ASK, "--ANONYMOUS hi there")["anonymous"] is True


def test_an_unknown_flag_stops_flag_reading_and_becomes_text():
    values = parse_text(ASK, "--anonymous --verbose why?")

    assert values == {"anonymous": True, "question": "--verbose why?"}


def test_int_accepts_a_leading_hash_like_a_question_number():
    spec = _spec(Param("number", ParamKind.INT, "Question number", required=True))

    assert parse_text(spec, "#12") == {"number": 12}
    assert parse_text(spec, "12") == {"number": 12}


def test_int_that_is_not_a_number_explains_with_usage():
    with pytest.raises(BadArgumentsError) as caught:
        parse_text(EVERYTHING, "three")

    message = str(caught.value)
    assert "“three” isn't a number" in message
    assert EVERYTHING.usage() in message


@pytest.mark.parametrize(("text", "expected"), [("0", "at least 1"), ("11", "at most 10")])
def test_int_bounds_are_enforced(text, expected):
    with pytest.raises(BadArgumentsError, match=expected):
        parse_text(EVERYTHING, text)


def test_int_bounds_are_inclusive():
    assert parse_text(EVERYTHING, "1")["count"] == 1
    assert parse_text(EVERYTHING, "10")["count"] == 10


def test_choice_is_case_insensitive_and_lower_cased():
    assert parse_text(QUESTIONS, "MINE") == {"filter": "mine"}


def test_optional_choice_can_be_skipped_so_the_word_goes_to_the_next_param():
    assert parse_text(QUESTIONS, "interviews at big companies") == {
        "text": "interviews at big companies"
    }
    assert parse_text(QUESTIONS, "search interviews") == {
        "filter": "search",
        "text": "interviews",
    }


def test_optional_choice_in_the_last_position_cannot_be_skipped():
    spec = _spec(Param("mode", ParamKind.CHOICE, "Mode", choices=("on", "off")))

    with pytest.raises(BadArgumentsError, match="isn't one of on, off"):
        parse_text(spec, "maybe")


def test_required_choice_that_does_not_match_is_an_error_with_usage():
    with pytest.raises(BadArgumentsError) as caught:
        parse_text(GRANT, "promote @bob")

    assert "“promote” isn't one of add, remove" in str(caught.value)
    assert "Usage: /crowdmentor settings moderator <add|remove> <@person>" in str(caught.value)


def test_missing_required_param_names_it_with_usage():
    with pytest.raises(BadArgumentsError) as caught:
        parse_text(GRANT, "add")

    assert str(caught.value) == (
        "Missing person. Usage: /crowdmentor settings moderator <add|remove> <@person>"
    )


def test_missing_required_text_is_an_error():
    spec = _spec(Param("question", ParamKind.TEXT, "Your question", required=True))

    with pytest.raises(BadArgumentsError, match="Missing question"):
        parse_text(spec, "   ")


def test_leftover_words_are_reported():
    with pytest.raises(BadArgumentsError) as caught:
        parse_text(GRANT, "add @bob and @carol")

    assert "I didn't understand “and @carol”" in str(caught.value)


@pytest.mark.parametrize("token", ["bob", "<#C1>", "@", "<@>", "@bob!"])
def test_user_param_refuses_what_is_not_a_person(token):
    with pytest.raises(BadArgumentsError, match="isn't a person"):
        parse_text(GRANT, f"add {token}")


@pytest.mark.parametrize("token", ["general", "<@U1>", "#", "#gen!eral"])
def test_channel_param_refuses_what_is_not_a_channel(token):
    spec = _spec(Param("channel", ParamKind.CHANNEL, "Channel", required=True))

    with pytest.raises(BadArgumentsError, match="isn't a channel"):
        parse_text(spec, token)


def test_bad_arguments_error_is_a_user_error_with_plain_rich_text():
    with pytest.raises(BadArgumentsError) as caught:
        parse_text(GRANT, "")

    assert caught.value.rich.plain() == str(caught.value)


# ---- mention tokens -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("<@U123|bob>", UserRef(user_id="U123", name="bob")),
        ("<@U123>", UserRef(user_id="U123", name=None)),
        ("<@123456789>", UserRef(user_id="123456789", name=None)),
        ("<@!123456789>", UserRef(user_id="123456789", name=None)),
        ("@bob", UserRef(user_id=None, name="bob")),
        ("@ada.lovelace", UserRef(user_id=None, name="ada.lovelace")),
        ("@mary-jane", UserRef(user_id=None, name="mary-jane")),
    ],
)
def test_parse_user_reads_slack_discord_and_console_mentions(token, expected):
    assert parse_user(token) == expected


@pytest.mark.parametrize("token", ["bob", "<@U1", "<@U 1>", "@", "#general", "<#C1>"])
def test_parse_user_refuses_non_mentions(token):
    assert parse_user(token) is None


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("<#C1|general>", ChannelRef("C1", "general")),
        ("<#C1>", ChannelRef("C1", "")),
        ("<#123456789>", ChannelRef("123456789", "")),
        ("#general", ChannelRef("general", "general")),
        ("#ask-here", ChannelRef("ask-here", "ask-here")),
    ],
)
def test_parse_channel_reads_slack_discord_and_console_channels(token, expected):
    assert parse_channel(token) == expected


@pytest.mark.parametrize("token", ["general", "<#C1", "#", "@bob", "<@U1>"])
def test_parse_channel_refuses_non_channels(token):
    assert parse_channel(token) is None


# ---- coerce_options (Discord) -------------------------------------------------------------


def test_coerce_options_applies_the_same_types_as_text():
    values = coerce_options(
        EVERYTHING,
        {
            "urgent": True,
            "count": 4,
            "who": UserRef(user_id="42", name="bob"),
            "where": ChannelRef("99", "general"),
            "mode": "MINE",
            "word": "hello",
            "text": "  the rest  ",
        },
    )

    assert values == {
        "urgent": True,
        "count": 4,
        "who": UserRef(user_id="42", name="bob"),
        "where": ChannelRef("99", "general"),
        "mode": "mine",
        "word": "hello",
        "text": "the rest",
    }


def test_coerce_options_defaults_flags_to_false_and_skips_missing_optionals():
    assert coerce_options(EVERYTHING, {}) == {"urgent": False}
    assert coerce_options(EVERYTHING, {"word": "", "count": None}) == {"urgent": False}


def test_coerce_options_reads_mention_strings_when_not_already_typed():
    values = coerce_options(GRANT, {"change": "add", "person": "<@!123>"})

    assert values == {"change": "add", "person": UserRef(user_id="123", name=None)}


def test_coerce_options_requires_required_options():
    with pytest.raises(BadArgumentsError, match="Missing person"):
        coerce_options(GRANT, {"change": "add"})
    with pytest.raises(BadArgumentsError, match="Missing person"):
        coerce_options(GRANT, {"change": "add", "person": ""})


def test_coerce_options_checks_choices_and_bounds():
    with pytest.raises(BadArgumentsError, match="isn't one of add, remove"):
        coerce_options(GRANT, {"change": "promote", "person": UserRef(user_id="1")})
    with pytest.raises(BadArgumentsError, match="at most 10"):
        coerce_options(EVERYTHING, {"count": 11})
    with pytest.raises(BadArgumentsError, match="isn't a number"):
        coerce_options(EVERYTHING, {"count": "many"})


def test_coerce_options_ignores_options_the_command_does_not_have():
    assert coerce_options(ASK, {"question": "Why?", "__subcommand__": ("x",)}) == {
        "anonymous": False,
        "question": "Why?",
    }
