"""Hostile text through the parsers: never an unhandled exception, never a live mass mention."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.adapters.slack_inbound import unescape_text
from bot.adapters.text_input import parse_command_line
from bot.args import ChannelRef, UserRef, coerce_options, parse_text
from bot.errors import BadArgumentsError
from bot.events import Actor, Community, Place
from bot.limits import EXTERNAL_ID_MAX_CHARS, TOPIC_MAX_CHARS
from bot.registry import build_registry
from bot.text import (
    defuse_mass_mentions,
    extract_topics,
    normalise_topic,
    split_topic_list,
    vagueness_hint,
)
from tests.reliability._hostile import MASS_MENTIONS, hostile_text, huge_text, live_mass_mentions
from tests.reliability._payloads import JUNK

EXAMPLES = 400
REGISTRY = build_registry()
SPECS = [spec for spec in REGISTRY.commands.values() if spec.handler is not None]
ZWSP = "\u200b"


@settings(max_examples=EXAMPLES, deadline=None)
@given(hostile_text())
def test_defused_text_has_no_live_mass_mention_and_reads_the_same(text: str) -> None:
    defused = defuse_mass_mentions(text)

    assert live_mass_mentions(defused) == []
    assert defused.replace(ZWSP, "") == text.replace(ZWSP, "")
    assert defuse_mass_mentions(defused) == defused


def test_every_known_mass_mention_is_defused() -> None:
    for mention in MASS_MENTIONS:
        assert live_mass_mentions(mention), mention  # the oracle recognises it…
        assert live_mass_mentions(defuse_mass_mentions(mention)) == [], mention  # …and it's gone


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.one_of(hostile_text(), st.text()))
def test_topics_are_canonical_short_and_inert(raw: str) -> None:
    topic = normalise_topic(raw)

    assert len(topic) <= TOPIC_MAX_CHARS
    assert normalise_topic(topic) == topic
    assert not set(topic) & set(" \t\n<>@&|*`~\x00\u200b\u202e")
    assert not topic.startswith(("-", "."))
    assert not topic.endswith(("-", "."))


@settings(max_examples=EXAMPLES, deadline=None)
@given(hostile_text())
def test_free_text_topics_and_topic_lists_are_all_canonical(text: str) -> None:
    cleaned, topics = extract_topics(text)
    listed = split_topic_list(text)

    assert isinstance(cleaned, str)
    for topic in (*topics, *listed):
        assert topic
        assert normalise_topic(topic) == topic
    assert len(set(topics)) == len(topics)
    assert len(set(listed)) == len(listed)
    hint = vagueness_hint(text)
    assert hint is None or isinstance(hint, str)


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.sampled_from(SPECS), hostile_text())
def test_every_command_reads_any_text_or_says_kindly_why_not(spec: Any, text: str) -> None:
    try:
        values = parse_text(spec, text)
    except BadArgumentsError as error:
        values, said = {}, str(error)
    else:
        said = "ok"
    assert said  # a refusal always says why
    for value in values.values():
        if isinstance(value, UserRef):
            assert value.user_id is None or len(value.user_id) <= EXTERNAL_ID_MAX_CHARS
        if isinstance(value, ChannelRef):
            assert len(value.channel_id) <= EXTERNAL_ID_MAX_CHARS


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    st.sampled_from(SPECS),
    st.dictionaries(
        st.sampled_from(sorted({p.name for s in SPECS for p in s.params})),
        st.one_of(JUNK, st.builds(UserRef, st.text()), st.builds(ChannelRef, st.text())),
        max_size=4,
    ),
)
def test_every_command_checks_any_typed_options(spec: Any, options: dict[str, Any]) -> None:
    from bot.registry import ParamKind

    try:
        values = coerce_options(spec, options)
    except BadArgumentsError as error:
        values, said = {}, str(error)
    else:
        said = "ok"
    assert said
    kinds = {param.name: param.kind for param in spec.params}
    for name, value in values.items():
        # A resolved person fills only a person option, a channel only a channel option.
        if isinstance(value, UserRef):
            assert kinds[name] is ParamKind.USER
        if isinstance(value, ChannelRef):
            assert kinds[name] is ParamKind.CHANNEL


@settings(max_examples=EXAMPLES, deadline=None)
@given(hostile_text())
def test_typed_command_lines_always_parse_into_an_invocation(text: str) -> None:
    actor = Actor("ada", "ada")
    invocation = parse_command_line(
        "/crowdmentor " + text, actor, Community("memory", "T1"), Place("general")
    )
    assert isinstance(invocation.text, str)


@settings(max_examples=EXAMPLES, deadline=None)
@given(hostile_text())
def test_slack_unescaping_never_raises_and_keeps_special_mentions_as_tokens(text: str) -> None:
    unescaped = unescape_text(text)

    assert isinstance(unescaped, str)
    # Whatever the unescaping kept or made, the core's defusing leaves nothing that pings.
    assert live_mass_mentions(defuse_mass_mentions(unescaped)) == []


@settings(max_examples=20, deadline=None)
@given(huge_text())
def test_huge_text_is_handled_by_every_text_helper(text: str) -> None:
    assert live_mass_mentions(defuse_mass_mentions(text)) == []
    assert len(normalise_topic(text)) <= TOPIC_MAX_CHARS
    extract_topics(text)
    split_topic_list(text)
    vagueness_hint(text)
    unescape_text(text)
