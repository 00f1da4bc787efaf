"""Text helpers: mass-mention safety, topics, vagueness hints."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.text import (
    defuse_mass_mentions,
    extract_topics,
    normalise_topic,
    split_topic_list,
    vagueness_hint,
)

ZWSP = "\u200b"

# Written from the platforms' side, not copied from bot/text.py: anything here would notify
# a whole channel or group if the bot posted it.
#  - Discord pings @everyone / @here wherever they appear in the content (discord.js matches
#    them with /@(everyone|here)/, no word boundary); role mentions are <@&id>.
#  - Slack's special mentions are <!here>, <!channel>, <!everyone> (optionally |label) and user
#    groups <!subteam^ID> / <!subteam^ID|@handle>; with link_names a typed @channel pings too.
PINGS = re.compile(
    r"@everyone|@here|@channel(?!\w)"
    r"|<!(?:here|channel|everyone)(?:\|[^>]*)?>"
    r"|<!subteam\^[^>]*>"
    r"|<@&[0-9]+>",
    re.IGNORECASE,
)

# Tokens that make mass mentions likely when glued together at random.
FRAGMENTS = [
    "@", "<", ">", "!", "|", "&", "^", "#", " ", "\n", ZWSP, "_", "x", "é", "1", "S1",
    "everyone", "here", "channel", "subteam", "EVERYONE", "Here",
    "@everyone", "@here", "@channel", "<!here>", "<!channel>", "<!everyone>",
    "<!subteam^S1|devs>", "<@&1>", "<@U1>", "<!here|here>",
]  # fmt: skip

mention_soup = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=5), max_size=20).map("".join)


# ---- defuse_mass_mentions -------------------------------------------------------------------


@pytest.mark.parametrize(
    "mention",
    [
        "@everyone",
        "@here",
        "@channel",
        "@Everyone",
        "@HERE",
        "<!channel>",
        "<!here>",
        "<!everyone>",
        "<!here|here>",
        "<!subteam^S123|devs>",
        "<!subteam^S123>",
        "<@&123>",
    ],
)
def test_defuse_neutralises_each_mass_mention(mention):
    text = f"hi {mention} please look"
    defused = defuse_mass_mentions(text)

    assert PINGS.search(defused) is None
    assert ZWSP in defused
    # It still reads the same: only an invisible character was added.
    assert defused.replace(ZWSP, "") == text


@pytest.mark.parametrize(
    "text",
    [
        "How do I ask for a raise?",
        "ping <@U123> and <@U123|bob> and <@!123456789>",
        "see <#C1|general> or #general",
        "mail me at me@example.com",
        "@bob said 'everyone here' likes channels",
        "5 < 6 > 4 and a!b",
        "",
    ],
)
def test_defuse_keeps_ordinary_text_and_user_mentions_intact(text):
    assert defuse_mass_mentions(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "<!here|<!channel>>",
        "<!subteam^S1|<@&1>",
        "<!here|@everyone>",
        "<!subteam^<!here>",
    ],
)
def test_defuse_neutralises_mass_mentions_nested_inside_another(text):
    assert PINGS.search(defuse_mass_mentions(text)) is None


@pytest.mark.parametrize("text", ["@everyones look", "@everyone_team", "hi @here_now"])
def test_defuse_neutralises_discord_pings_glued_to_a_word(text):
    # Discord pings on the substring (discord.js: /@(everyone|here)/), word boundary or not.
    assert PINGS.search(defuse_mass_mentions(text)) is None


def test_defuse_is_idempotent():
    once = defuse_mass_mentions("@everyone <!here> <@&1>")

    assert defuse_mass_mentions(once) == once


@settings(max_examples=500, database=None, deadline=None)
@given(mention_soup)
def test_defused_text_never_contains_a_mass_mention(text):
    defused = defuse_mass_mentions(text)

    assert PINGS.search(defused) is None, defused
    assert defused.replace(ZWSP, "") == text.replace(ZWSP, "")


@settings(max_examples=300, database=None, deadline=None)
@given(st.text())
def test_defused_arbitrary_text_never_contains_a_mass_mention(text):
    assert PINGS.search(defuse_mass_mentions(text)) is None


# ---- topics -----------------------------------------------------------------------------------


def test_trailing_tags_are_removed_from_the_text_and_become_topics():
    text, topics = extract_topics("How do I prepare for interviews? #interviews #career")

    assert text == "How do I prepare for interviews?"
    assert topics == ["interviews", "career"]


def test_inline_tags_keep_their_word_in_the_sentence():
    text, topics = extract_topics("How do I learn #rust ownership quickly?")

    assert text == "How do I learn rust ownership quickly?"
    assert topics == ["rust"]


def test_inline_and_trailing_tags_together():
    text, topics = extract_topics("Moving from #python to #go, any tips? #career")

    assert text == "Moving from python to go, any tips?"
    assert topics == ["python", "go", "career"]


@pytest.mark.parametrize("text", ["I write C# and F# daily", "We use C#.", "x&#123;y", "x ##y"])
def test_language_names_and_entities_are_not_topics(text):
    cleaned, topics = extract_topics(text)

    assert topics == []
    assert cleaned == text


def test_slack_channel_references_are_not_topics():
    text, topics = extract_topics("Asked in <#C1|general> already, see <#C2>")

    assert topics == []
    assert text == "Asked in <#C1|general> already, see <#C2>"


def test_topics_are_deduplicated_after_normalisation():
    _, topics = extract_topics("Is #Rust worth it? #rust #RUST #rust")

    assert topics == ["rust"]


def test_topics_are_normalised():
    _, topics = extract_topics("Where do I start? #Machine_Learning #Data--Science #ＡＩ")

    assert topics == ["machine-learning", "data-science", "ai"]


def test_a_text_that_is_only_tags_keeps_its_words():
    text, topics = extract_topics("#rust #career")

    assert topics == ["rust", "career"]
    assert text  # not emptied


def test_text_without_tags_is_returned_stripped():
    assert extract_topics("  Plain question?  ") == ("Plain question?", [])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Rust", "rust"),
        ("  Machine Learning  ", "machine-learning"),
        ("machine_learning", "machine-learning"),
        ("--Hello__World..", "hello-world"),
        ("a---b", "a-b"),
        ("C#", "c#"),
        ("c++", "c++"),
        ("node.js", "node.js"),
        ("ＲＵＳＴ", "rust"),
        ("foo!bar?", "foobar"),
        ("!!!", ""),
        ("a" * 60, "a" * 40),
    ],
)
def test_normalise_topic(raw, expected):
    assert normalise_topic(raw) == expected


def test_normalise_topic_has_no_edge_punctuation_even_when_cut_to_length():
    # 39 letters, a hyphen, more letters: cutting at 40 must not leave a trailing hyphen.
    topic = normalise_topic("a" * 39 + "-bcd")

    assert len(topic) <= 40
    assert not topic.endswith(("-", "."))


def test_split_topic_list_reads_comma_separated_form_input():
    assert split_topic_list("#Interviews, career growth;Interviews") == [
        "interviews",
        "career-growth",
    ]


def test_split_topic_list_reads_space_separated_form_input_without_commas():
    assert split_topic_list("#rust  go #Rust") == ["rust", "go"]
    assert split_topic_list("   ") == []


TOPIC = re.compile(r"[\w+.#-]+")


@settings(max_examples=500, database=None, deadline=None)
@given(
    st.lists(
        st.sampled_from(["#", " ", "#rust", "C#", "<#C1|x>", "_", "-", ".", "é", "\n", "&#"])
        | st.text(max_size=8),
        max_size=15,
    ).map("".join)
)
def test_extract_topics_never_raises_and_topics_are_short_clean_labels(text):
    cleaned, topics = extract_topics(text)

    assert isinstance(cleaned, str)
    assert len(topics) == len(set(topics))
    for topic in topics:
        assert 0 < len(topic) <= 40
        assert TOPIC.fullmatch(topic), topic


@settings(max_examples=300, database=None, deadline=None)
@given(st.text())
def test_extract_topics_on_arbitrary_text(text):
    _, topics = extract_topics(text)

    for topic in topics:
        assert 0 < len(topic) <= 40
        assert TOPIC.fullmatch(topic), topic


# ---- vagueness --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        "can you be my mentor?",
        "Could someone please be my mentor?",
        "looking for a mentor in data science",
        "Can I ask a question?",
        "anyone here?",
        "I need help",
        "help",
        "python",
        "career advice",
        "my code is broken",
    ],
)
def test_vague_questions_get_a_hint(question):
    hint = vagueness_hint(question)

    assert hint
    assert len(hint) < 300


def test_ask_to_ask_gets_the_specific_question_hint():
    assert "specific questions" in vagueness_hint("can you be my mentor?")
    assert "specific questions" in vagueness_hint("anyone here?")


def test_one_word_gets_the_more_words_hint():
    assert "few more words" in vagueness_hint("help")
    assert "few more words" in vagueness_hint("kubernetes")


@pytest.mark.parametrize(
    "question",
    [
        "How did you prepare for senior interviews? I have two weeks.",
        "What should I learn first, SQL or Python, for a data analyst role?",
        "Is it worth moving from QA to development after five years in testing?",
        "I'm choosing between two offers and would love a second opinion on equity",
    ],
)
def test_specific_questions_get_no_hint(question):
    assert vagueness_hint(question) is None
