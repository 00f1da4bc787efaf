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
UNREACHABLE = "http://127.0.0.1:9/response/x"
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
        assert isinstance(message.place.thread_id, str)
        assert message.place.thread_id


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
@given(
    st.one_of(
        JUNK,
        st.fixed_dictionaries(
            {},
            optional={
                "id": JUNK,
                "is_admin": JUNK,
                "is_owner": JUNK,
                "is_primary_owner": JUNK,
                "profile": JUNK,
                "tz": JUNK,
            },
        ),
    )
)
def test_users_info_of_any_shape_gives_a_person_with_string_fields(info: Any) -> None:
    user = slack_inbound.user_from_info(info if isinstance(info, dict) else {"id": info})
    assert isinstance(user.user_id, str)
    assert isinstance(user.display_name, str)
    assert user.timezone is None or isinstance(user.timezone, str)
    flags = info if isinstance(info, dict) else {}
    admin_flags = [flags.get(f) for f in ("is_admin", "is_owner", "is_primary_owner")]
    assert user.is_admin == (True in [flag is True for flag in admin_flags])


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


# ---- through the running Slack app ----------------------------------------------------------

SIGNED_PRESSES = 120
SIGNED_SUBMISSIONS = 60
SIGNED_EVENTS = 60
SIGNED_COMMANDS = 40


async def _quiet(slack: Any, within: float = 20.0) -> None:
    """Wait until the adapter has finished every listener run it started."""
    import asyncio
    import time

    deadline = time.monotonic() + within
    last, still = -1, 0
    while time.monotonic() < deadline:
        total = sum(slack.adapter.handled.values())
        still = still + 1 if total == last else 0
        if still >= 15:
            return
        last = total
        await asyncio.sleep(0.02)


async def test_signed_but_malformed_slack_payloads_never_crash_or_half_write(
    settings, caplog
) -> None:
    import json
    import logging
    from urllib.parse import urlencode

    from bot.store.models import Question, QuestionStatus
    from tests.adapters._slack_fakes import slack_harness
    from tests.reliability._payloads import samples
    from tests.reliability._state import rows_of

    presses = samples(damaged(SLACK_BLOCK_ACTIONS), SIGNED_PRESSES)
    forms = samples(damaged(SLACK_VIEW_SUBMISSION), SIGNED_SUBMISSIONS)
    events = samples(damaged(SLACK_MESSAGE_EVENT), SIGNED_EVENTS)
    commands = samples(damaged(SLACK_COMMAND), SIGNED_COMMANDS)
    caplog.set_level(logging.WARNING)
    async with slack_harness(settings) as slack:
        workspace = slack.workspace
        await workspace.command("/ask", "How did you prepare for your first senior interview?")
        await slack.settle("command", 1)
        await slack.deliver()
        statuses: list[int] = []
        for payload in presses + forms:
            # Answers go to the fake's response_url, so none waits on a refused connection.
            text = json.dumps(payload).replace(UNREACHABLE, slack.api.response_url())
            body = urlencode({"payload": text})
            statuses.append((await workspace.send(body, "application/x-www-form-urlencoded"))[0])
        for event in events:
            body = workspace.event_body(event) if isinstance(event, dict) else json.dumps(event)
            statuses.append((await workspace.send(body, "application/json"))[0])
        for fields in commands:
            form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()}
            if form.get("response_url") == UNREACHABLE:
                form["response_url"] = slack.api.response_url()
            statuses.append(
                (await workspace.send(urlencode(form), "application/x-www-form-urlencoded"))[0]
            )
        await _quiet(slack)
        # Still serving: a genuine command after the storm is answered.
        answered = len(slack.api.responses)
        await workspace.command("/crowdmentor", "questions")
        await slack.api.wait_for(lambda: len(slack.api.responses) > answered)
        questions = await rows_of(settings.database_url, Question)

    crashes = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(statuses) == SIGNED_PRESSES + SIGNED_SUBMISSIONS + SIGNED_EVENTS + SIGNED_COMMANDS
    assert [s for s in statuses if s >= 500] == []
    assert crashes == []
    # Whatever the storm created is whole: numbered, with a known status and its text.
    assert questions
    for question in questions:
        assert question.text
        assert question.status in set(QuestionStatus)
        assert question.number or question.status == QuestionStatus.DRAFT
    assert "Open questions" in slack.api.responses[-1]["text"]


# ---- through the running Discord app --------------------------------------------------------

DISCORD_MODALS = 40

# Component ids as a forged or stale client could send them: our prefix, anything after it.
DISCORD_CUSTOM_IDS = (
    "cm:question.resolve:abc",
    "cm:question.resolve:٣",
    "cm:question.resolve:-1",
    "cm:question.resolve:" + "9" * 80,
    "cm:question.resolve:",
    "cm:question.helped:1:" + "9" * 60,
    "cm:question.helped::",
    "cm:pair.checkin:x:met",
    "cm:pair.checkin:1:sideways",
    "cm:askme.keep:1.5",
    "cm:coffee.accept:１",
    "cm:privacy.forget:@everyone",
    "cm:no.such.action:1",
    "cm:discord.open-form:nothing",
    "cm@99999999999999999999:question.resolve:1",
    "cm@1:question.resolve:1",
    "cm:question.resolve:\x00",
    "cm:question.resolve:<!channel>",
)


async def test_malformed_discord_interactions_get_a_kind_answer(settings, caplog) -> None:
    import logging

    from tests.adapters._discord_fakes import ADA, BOB, GUILD_ID, discord_world
    from tests.reliability._payloads import samples

    # Discord always names the modal; what members fill in (the components) is what varies.
    components = {"components": DISCORD_MODAL_DATA["components"]}
    modals = [
        {"custom_id": "cmf:ask", "components": _as_list(data.get("components"))}
        for data in samples(damaged(components), DISCORD_MODALS)
    ]
    caplog.set_level(logging.WARNING)
    async with discord_world(settings) as world:
        await world.slash("/ask", question="How do I plan a migration to Postgres?", as_=ADA)
        await world.deliver()
        [post] = [m for m in world.fake.in_channel(world.general) if m.get("components")]
        answered: dict[str, str] = {}
        for custom_id in DISCORD_CUSTOM_IDS:
            for in_dm in (False, True):
                # discord.py (and Discord) only route ids that are on the pressed message.
                message = {**post, "components": [_row(custom_id)]}
                payload = await world.press(message, custom_id, as_=BOB, in_dm=in_dm)
                answered[f"{custom_id} dm={in_dm}"] = _discord_said(world, payload)
        for index, data in enumerate(modals):
            payload = world.fake.submit("cmf:ask", {"question": "How?"}, as_=BOB, in_=world.general)
            payload["data"] = data
            await world.fake.interact(world.client, payload)
            answered[f"modal {index}"] = _discord_said(world, payload)
        async with world.app.database.unit_of_work() as uow:
            from sqlmodel import select

            from bot.store.models import Community, Question

            # Damaged forms may still ask something; the first question is the one pressed at.
            question = (await uow.session.exec(select(Question).order_by(Question.id))).first()
            communities = (await uow.session.exec(select(Community.external_id))).all()

    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []
    # Every press of one of our buttons is answered, kindly; nothing was resolved by BOB.
    pressed = {k: v for k, v in answered.items() if not k.startswith("modal")}
    assert {k: v for k, v in pressed.items() if not v or "went wrong" in v} == {}
    assert question.status == "open"
    assert len(answered) == 2 * len(DISCORD_CUSTOM_IDS) + DISCORD_MODALS
    # A press in a direct message may name a guild, but only one the bot is in counts.
    assert communities == [str(GUILD_ID)]


def _row(custom_id: str) -> dict[str, Any]:
    button = {"type": 2, "style": 2, "label": "Press", "custom_id": custom_id}
    return {"type": 1, "components": [button]}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _discord_said(world: Any, payload: dict[str, Any]) -> str:
    texts = []
    for request in world.fake.answers(payload):
        body = request.json
        texts.append(str((body.get("data") or body).get("content") or ""))
    return " ".join(texts).strip()


def test_a_resolved_option_fills_only_its_own_kind() -> None:
    import discord

    from bot.args import UserRef
    from bot.registry import build_registry
    from tests.adapters._discord_fakes import ADA

    registry = build_registry()
    channel_spec = registry.commands[("pair", "channel")]
    person_spec = registry.commands[("crowdmentor", "settings", "moderator")]
    person = discord.User(state=None, data=ADA.user())  # type: ignore[arg-type]
    not_a_person = discord.Object(ADA.id)

    # A person has an id, as a channel does; before, it was taken for channel <#ADA.id>.
    assert discord_inbound.typed_options(channel_spec, {"channel": person}) == {}
    assert discord_inbound.typed_options(person_spec, {"person": not_a_person}) == {}
    assert discord_inbound.typed_options(person_spec, {"person": person}) == {
        "person": UserRef(str(ADA.id), "ada")
    }


SOCKET_ENVELOPES = 40


async def test_malformed_socket_mode_envelopes_are_acked_and_dropped(settings, caplog) -> None:
    import json
    import logging

    from bot.adapters.slack_shape import has_slack_shape
    from tests.adapters._slack_fakes import socket_mode_slack
    from tests.reliability._payloads import samples

    caplog.set_level(logging.WARNING)
    async with socket_mode_slack(settings) as slack:
        api, adapter = slack.api, slack.adapter
        # (slack_sdk itself refuses a payload that is not an object, before any handler.)
        damaged_presses = [
            json.loads(json.dumps(payload).replace(UNREACHABLE, api.response_url()))
            for payload in samples(damaged(SLACK_BLOCK_ACTIONS), SOCKET_ENVELOPES)
        ]
        envelopes = [
            {"envelope_id": f"bad-{i}", "type": "interactive", "payload": payload}
            for i, payload in enumerate(damaged_presses)
            if isinstance(payload, dict)
        ]
        bad_event = {"envelope_id": "bad-event", "type": "events_api", "payload": {"event": "x"}}
        envelopes.append(bad_event)
        dropped = {e["envelope_id"] for e in envelopes if not has_slack_shape(e["payload"])}
        for envelope in envelopes:
            await api.send_socket(envelope)
        genuine = {**SLACK_COMMAND, "command": "/crowdmentor", "text": "help"}
        genuine["response_url"] = api.response_url()
        await api.send_socket({"envelope_id": "good", "type": "slash_commands", "payload": genuine})
        await api.wait_for(lambda: adapter.handled["command"] >= 1, within=20)
        await api.wait_for(
            lambda: dropped <= {f.get("envelope_id") for f in api.socket_frames}, within=10
        )
        acked = {frame.get("envelope_id") for frame in api.socket_frames}

    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []
    assert dropped | {"good"} <= acked  # acknowledged, so Slack does not send them again
    assert len(dropped) > SOCKET_ENVELOPES // 2
    assert any("crowdmentor" in r["text"] for r in api.responses)
