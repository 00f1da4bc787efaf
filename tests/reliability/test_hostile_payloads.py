"""Malformed payloads: the Slack and Discord translators read bad fields as missing, never crash."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.adapters import discord_inbound, slack_inbound
from bot.events import Actor, Community, PlaceKind
from tests.reliability._payloads import (
    DISCORD_MODAL_DATA,
    JUNK,
    SLACK_BLOCK_ACTIONS,
    SLACK_COMMAND,
    SLACK_MESSAGE_EVENT,
    SLACK_VIEW_SUBMISSION,
    damaged,
)

EXAMPLES = 300
ACTOR = Actor("U0ADA", "ada")
COMMUNITY = Community("slack", "T0001", "Test")


def _strings_only(values: dict[str, Any]) -> None:
    for key, value in values.items():
        assert isinstance(key, str)
        assert isinstance(value, str | bool)


@settings(max_examples=EXAMPLES, deadline=None)
@given(damaged(SLACK_BLOCK_ACTIONS))
def test_a_damaged_button_press_reads_as_strings_or_nothing(body: Any) -> None:
    if not isinstance(body, dict):
        return
    action = body.get("actions")
    action = action[0] if isinstance(action, list) and action else {}
    pressed = slack_inbound.press_from_action(
        body, action if isinstance(action, dict) else {}, ACTOR, COMMUNITY
    )
    place = pressed.press.place
    assert isinstance(pressed.press.value, str)
    assert isinstance(pressed.press.action, str)
    assert isinstance(place.channel_id, str)
    assert place.thread_id is None or isinstance(place.thread_id, str)
    assert pressed.message_ts is None or isinstance(pressed.message_ts, str)
    assert isinstance(slack_inbound.team_of(body), str)


@settings(max_examples=EXAMPLES, deadline=None)
@given(damaged(SLACK_VIEW_SUBMISSION))
def test_a_damaged_form_submission_reads_as_strings_or_nothing(body: Any) -> None:
    if not isinstance(body, dict):
        return
    submission, metadata = slack_inbound.submission_from_view(body, ACTOR, COMMUNITY)
    _strings_only(submission.values)
    assert isinstance(submission.form_id, str)
    assert all(isinstance(v, str) for v in metadata.values())
    assert submission.place.thread_id is None or isinstance(submission.place.thread_id, str)


@settings(max_examples=EXAMPLES, deadline=None)
@given(damaged(SLACK_MESSAGE_EVENT))
def test_a_damaged_message_event_is_a_reply_or_ignored(event: Any) -> None:
    if not isinstance(event, dict):
        return
    if slack_inbound.is_thread_reply(event):
        message = slack_inbound.thread_message_from_event(event, ACTOR, COMMUNITY)
        assert isinstance(message.message_id, str)
        assert isinstance(message.place.thread_id, str) and message.place.thread_id


@settings(max_examples=EXAMPLES, deadline=None)
@given(damaged(SLACK_COMMAND), JUNK)
def test_a_damaged_slash_command_builds_an_invocation(body: Any, text: Any) -> None:
    if not isinstance(body, dict):
        return
    invocation = slack_inbound.invocation_from_command(
        body, ACTOR, COMMUNITY, slack_inbound.unescape_text(str(text))
    )
    assert isinstance(invocation.command, str)
    assert invocation.place.kind in PlaceKind


@settings(max_examples=EXAMPLES, deadline=None)
@given(JUNK)
def test_users_info_of_any_shape_gives_a_person_with_string_fields(info: Any) -> None:
    user = slack_inbound.user_from_info(info if isinstance(info, dict) else {"id": info})
    assert isinstance(user.user_id, str)
    assert isinstance(user.display_name, str)
    assert user.timezone is None or isinstance(user.timezone, str)


@settings(max_examples=EXAMPLES, deadline=None)
@given(damaged(DISCORD_MODAL_DATA))
def test_damaged_discord_modal_data_reads_as_strings_or_bools(data: Any) -> None:
    if not isinstance(data, dict):
        return
    _strings_only(discord_inbound.form_values(data))


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.dictionaries(st.text(max_size=10), JUNK, max_size=4))
def test_view_metadata_of_any_shape_is_a_string_map(data: dict[str, Any]) -> None:
    import json

    metadata = slack_inbound.view_metadata({"private_metadata": json.dumps(data)})
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())
