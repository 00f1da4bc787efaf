"""The Slack adapter end to end: signed requests over HTTP, the fake Web API on 127.0.0.1."""

from __future__ import annotations

import itertools
import json
import time
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.adapters.base import Delivery, DeliveryError, DeliveryKind
from bot.commands._question_post import RESOLVE_ACTION
from bot.commands.ask import FORM_ID
from bot.events import Community
from bot.lifecycle import PURGE_TIMER
from bot.replies import Reply, rich
from bot.store.models import Community as CommunityRow
from bot.store.models import Question, QuestionReply, Timer
from tests.adapters._slack_fakes import (
    BOT_TOKEN,
    BOT_USER_ID,
    TEAM_ID,
    Failure,
    sign,
    slack_harness,
)

ASK = "How did you prepare for your first senior interview? #interviews"


def _texts(message: dict) -> list[str]:
    texts = [message.get("text", "")]
    for block in message.get("blocks") or []:
        if block.get("text"):
            texts.append(block["text"]["text"])
        for element in block.get("elements") or []:
            if isinstance(element.get("text"), dict):
                texts.append(element["text"]["text"])
            elif isinstance(element.get("text"), str):
                texts.append(element["text"])
    return texts


async def _questions(app) -> list[Question]:
    async with app.database.unit_of_work() as uow:
        return list((await uow.session.exec(select(Question))).all())


async def test_ask_acks_at_once_then_posts_the_question_with_buttons_through_the_outbox(settings):
    async with slack_harness(settings) as slack:
        started = time.monotonic()
        status, body = await slack.workspace.command("/ask", ASK)
        acked = time.monotonic() - started
        await slack.settle("command", 1)
        delivered = await slack.deliver()

        assert status == 200
        assert body == ""
        assert acked < 3.0
        # The asker hears back privately through the response_url…
        [answer] = slack.api.responses
        assert answer["response_type"] == "ephemeral"
        assert "Posted as" in answer["text"]
        # …and the question is posted once, with Block Kit and a resolve button.
        assert delivered == 1
        [post] = slack.api.posts("C0GENERAL")
        assert "How did you prepare for your first senior interview?" in " ".join(_texts(post))
        actions = [b for b in post["blocks"] if b["type"] == "actions"]
        assert actions[0]["elements"][0]["action_id"] == RESOLVE_ACTION
        assert post["metadata"]["event_payload"]["key"].startswith("question:")
        assert "link_names" not in post
        # The question remembers where Slack put it, so thread replies find it.
        [question] = await _questions(slack.app)
        assert question.post_ref == post["ts"]
        assert question.thread_ref == post["ts"]
        # Every Web API call used the bot token.
        assert {call.token for call in slack.api.calls} == {BOT_TOKEN}


async def test_users_info_gives_names_and_is_cached(settings):
    async with slack_harness(settings) as slack:
        slack.api.users["U0ADA"] = {
            "id": "U0ADA",
            "name": "ada",
            "is_admin": True,
            "tz": "Europe/London",
            "profile": {"display_name": "Ada L."},
        }
        await slack.workspace.command("/crowdmentor", "settings show")
        await slack.workspace.command("/crowdmentor", "help")
        await slack.settle("command", 2)

        # A workspace admin is a crowdmentor admin: the settings overview is shown.
        assert "Ask channel" in json.dumps(slack.api.responses[0])
        assert len(slack.api.called("users.info")) == 1


async def test_a_member_who_is_not_a_workspace_admin_cannot_change_settings(settings):
    async with slack_harness(settings) as slack:
        await slack.workspace.command("/crowdmentor", "settings anonymous off", user="U0BOB")
        await slack.settle("command", 1)

        assert "Only admins" in slack.api.responses[0]["text"]


async def test_crowdmentor_questions_lists_questions_ephemerally(settings):
    async with slack_harness(settings) as slack:
        await slack.workspace.command("/ask", ASK)
        await slack.settle("command", 1)
        await slack.workspace.command("/crowdmentor", "questions")
        await slack.settle("command", 2)

        listing = slack.api.responses[1]
        assert listing["response_type"] == "ephemeral"
        assert "Open questions" in listing["text"]
        assert "senior interview" in json.dumps(listing["blocks"])


async def test_ask_without_text_opens_the_modal_and_its_submission_posts(settings):
    async with slack_harness(settings) as slack:
        await slack.workspace.command("/ask", "", trigger_id="trigger-abc")
        await slack.settle("command", 1)
        [opened] = slack.api.called("views.open")
        view = opened.params["view"]
        metadata = json.loads(view["private_metadata"])

        status, _ = await slack.workspace.submit_view(
            view["callback_id"],
            {
                "question": {"question": {"type": "plain_text_input", "value": "How do I grow?"}},
                "context": {"context": {"type": "plain_text_input", "value": "Two years in."}},
                "topics": {"topics": {"type": "plain_text_input", "value": "career, growth"}},
                "anonymous": {
                    "anonymous": {"type": "checkboxes", "selected_options": [{"value": "yes"}]}
                },
            },
            view["private_metadata"],
        )
        await slack.settle("view_submission", 1)
        await slack.deliver()

        assert opened.params["trigger_id"] == "trigger-abc"
        assert view["callback_id"] == FORM_ID
        assert [b["block_id"] for b in view["blocks"]] == [
            "question",
            "context",
            "topics",
            "anonymous",
        ]
        assert metadata["channel"] == "C0GENERAL"
        assert status == 200
        assert "anonymously" in slack.api.responses[-1]["text"]
        [post] = slack.api.posts("C0GENERAL")
        assert "asked anonymously" in post["text"]
        assert "#career" in " ".join(_texts(post))
        [question] = await _questions(slack.app)
        assert question.anonymous
        assert question.context == "Two years in."


async def test_the_ask_form_opens_while_every_work_slot_is_busy_with_earlier_commands(settings):
    from bot.adapters.slack import WORK_AFTER_ACK_CONCURRENCY

    async with slack_harness(settings) as slack:
        # Every earlier command is stuck after its ack, waiting for users.info: a burst being
        # worked off. The trigger_id of the next /ask lives 3 s, however long that queue is.
        slack.api.hold_after("users.info", 0)
        busy = WORK_AFTER_ACK_CONCURRENCY + 3
        for n in range(busy):
            status, _ = await slack.workspace.command("/crowdmentor", "help", user=f"U0BUSY{n}")
            assert status == 200
        await slack.api.wait_for(lambda: len(slack.api.held) == WORK_AFTER_ACK_CONCURRENCY)

        await slack.workspace.command("/ask", "  ", user="U0ADA", trigger_id="trigger-burst")
        [opened] = await slack.api.wait_for(lambda: slack.api.called("views.open"))

        assert opened.params["trigger_id"] == "trigger-burst"
        assert opened.params["view"]["callback_id"] == FORM_ID
        assert slack.adapter.handled["command"] == 1  # only the form; the rest still wait
        slack.api.release()
        await slack.settle("command", busy + 1)
        assert len(slack.api.called("views.open")) == 1
        assert len(slack.api.responses) == busy  # each help answered; /ask answered by its form


async def test_ask_with_text_never_opens_a_form(settings):
    async with slack_harness(settings) as slack:
        await slack.workspace.command("/ask", ASK, trigger_id="trigger-text")
        await slack.settle("command", 1)

        assert slack.api.called("views.open") == []
        assert "Posted as *question #1*" in slack.api.responses[0]["text"]


async def test_resolve_button_edits_the_post_with_chat_update(settings):
    async with slack_harness(settings) as slack:
        await slack.workspace.command("/ask", ASK)
        await slack.settle("command", 1)
        await slack.deliver()
        [post] = slack.api.posts("C0GENERAL")
        [question] = await _questions(slack.app)

        await slack.workspace.press(RESOLVE_ACTION, str(question.id), message_ts=post["ts"])
        await slack.settle("action", 1)
        await slack.deliver()

        [update] = slack.api.called("chat.update")
        [posted] = slack.api.called("chat.postMessage")
        # One channel: the worker paces posts and edits about one per second.
        assert update.at - posted.at >= 0.9
        assert update.params["ts"] == post["ts"]
        assert update.params["channel"] == "C0GENERAL"
        assert "Resolved" in " ".join(_texts(update.params))
        assert not [b for b in update.params["blocks"] if b["type"] == "actions"]
        answer = slack.api.responses[-1]
        assert answer["response_type"] == "ephemeral"
        assert answer["replace_original"] is False
        assert "resolved" in answer["text"]


async def test_someone_else_cannot_resolve_a_question(settings):
    async with slack_harness(settings) as slack:
        await slack.workspace.command("/ask", ASK)
        await slack.settle("command", 1)
        await slack.deliver()
        [question] = await _questions(slack.app)

        await slack.workspace.press(RESOLVE_ACTION, str(question.id), user="U0EVE")
        await slack.settle("action", 1)
        await slack.deliver()

        assert "Only the person who asked" in slack.api.responses[-1]["text"]
        assert slack.api.called("chat.update") == []


async def test_thread_replies_count_once_even_when_slack_retries(settings):
    async with slack_harness(settings) as slack:
        await slack.workspace.command("/ask", ASK)
        await slack.settle("command", 1)
        await slack.deliver()
        [post] = slack.api.posts("C0GENERAL")
        reply = {
            "type": "message",
            "channel": "C0GENERAL",
            "channel_type": "channel",
            "user": "U0BOB",
            "text": "Mock interviews with a friend.",
            "ts": "1700000050.000100",
            "thread_ts": post["ts"],
        }

        first = await slack.workspace.event(reply, event_id="Ev0001")
        again = await slack.workspace.event(reply, event_id="Ev0001", retry=1)
        # Not replies: a top-level message, an edit, and a bot's own message in the thread.
        await slack.workspace.event({**reply, "ts": "1700000060.0", "thread_ts": None})
        await slack.workspace.event({**reply, "subtype": "message_changed", "ts": "1700000061.0"})
        await slack.workspace.event({**reply, "bot_id": "B0OTHER", "ts": "1700000062.0"})
        await slack.settle("message", 5)

        assert first[0] == again[0] == 200
        [question] = await _questions(slack.app)
        assert question.reply_count == 1
        async with slack.app.database.unit_of_work() as uow:
            replies = (await uow.session.exec(select(QuestionReply))).all()
        assert [r.message_ref for r in replies] == ["1700000050.000100"]


async def test_a_429_from_chat_post_message_is_retried_until_posted_exactly_once(settings):
    async with slack_harness(settings) as slack:
        # The SDK's retry handler waits out the first 429; the second reaches the worker, which
        # reschedules the row after Retry-After; the third attempt posts.
        slack.api.fail("chat.postMessage", Failure(retry_after=1), Failure(retry_after=1))
        await slack.workspace.command("/ask", ASK)
        await slack.settle("command", 1)

        first = await slack.deliver()
        slack.app.clock.advance(timedelta(seconds=2))
        second = await slack.deliver()

        assert (first, second) == (0, 1)
        calls = slack.api.called("chat.postMessage")
        assert len(calls) == 3
        assert calls[1].at - calls[0].at >= 1.0
        assert len(slack.api.posts("C0GENERAL")) == 1
        # A retry first looks for a copy an earlier attempt may have posted.
        assert slack.api.called("conversations.history")


async def test_mass_mentions_and_markup_from_members_are_neutralised(settings):
    async with slack_harness(settings) as slack:
        sneaky = "<!channel> <!here> <!everyone> <!subteam^S0TEAM|@team> a &amp; b &lt;x&gt; ok?"
        await slack.workspace.command("/ask", f"Why is this question long enough {sneaky}")
        await slack.settle("command", 1)
        await slack.deliver()

        [post] = slack.api.posts("C0GENERAL")
        for text in _texts(post):
            assert "<!" not in text
            assert "<x>" not in text
        shown = " ".join(_texts(post))
        assert "a &amp; b &lt;x&gt; ok?" in shown


async def test_bad_signature_and_stale_timestamp_are_rejected_with_401(settings):
    async with slack_harness(settings) as slack:
        body = slack.workspace.command_body("/ask", ASK)
        form = "application/x-www-form-urlencoded"
        bad = await slack.workspace.send(body, form, signature="v0=" + "0" * 64)
        stale = await slack.workspace.send(body, form, timestamp=int(time.time()) - 301)
        future = await slack.workspace.send(body, form, timestamp=int(time.time()) + 301)
        tampered = await slack.workspace.send(
            body, form, signature=sign(body + "x", int(time.time()))
        )
        fine = await slack.workspace.send(body, form, timestamp=int(time.time()) - 299)

        assert [bad[0], stale[0], future[0], tampered[0]] == [401, 401, 401, 401]
        assert fine[0] == 200
        await slack.settle("command", 1)
        assert len(slack.api.responses) == 1


async def test_the_ack_comes_at_once_even_when_the_work_after_it_is_slow(settings):
    async with slack_harness(settings) as slack:
        slack.api.delays["users.info"] = 3.5
        started = time.monotonic()
        status, _ = await slack.workspace.command("/crowdmentor", "help")
        acked = time.monotonic() - started
        await slack.settle("command", 1)

        assert status == 200
        assert acked < 1.0
        assert "crowdmentor" in slack.api.responses[0]["text"]


async def test_mentions_become_people_with_their_slack_names(settings):
    async with slack_harness(settings) as slack:
        slack.api.users["U0ADA"] = {"id": "U0ADA", "name": "ada", "is_owner": True}
        slack.api.users["U0BOB"] = {"id": "U0BOB", "name": "bob", "profile": {"real_name": "Bob"}}
        await slack.workspace.command("/crowdmentor", "settings moderator add <@U0BOB>")
        await slack.settle("command", 1)

        answer = slack.api.responses[0]
        assert "<@U0BOB>" in answer["text"]
        assert "moderator" in answer["text"]
        assert [c.params["user"] for c in slack.api.called("users.info")] == ["U0ADA", "U0BOB"]


async def test_app_home_shows_the_members_own_questions_tags_and_pairing(settings):
    async with slack_harness(settings) as slack:
        await slack.workspace.command("/ask", ASK)
        await slack.workspace.command("/askme", "add interviews")
        await slack.workspace.command("/pair", "join")
        await slack.settle("command", 3)
        await slack.deliver()

        opened = {"type": "app_home_opened", "user": "U0ADA", "channel": "D0ADA", "tab": "home"}
        await slack.workspace.event(opened)
        await slack.workspace.event({**opened, "user": "U0BOB", "channel": "D0BOB"})
        await slack.settle("app_home_opened", 2)

        published = {call.params["user_id"]: call for call in slack.api.called("views.publish")}
        ada, bob = published["U0ADA"], published["U0BOB"]  # the two pages may finish in any order
        assert ada.params["view"]["type"] == "home"
        assert "senior interview" in json.dumps(ada.params["view"])
        assert "Your questions" in json.dumps(ada.params["view"])
        assert "interviews" in json.dumps(ada.params["view"])  # her ask-me-about tag
        assert "for the next round" in json.dumps(ada.params["view"])  # her pairing status
        assert "not in pairing" in json.dumps(bob.params["view"])
        assert "senior interview" not in json.dumps(bob.params["view"])
        assert "none yet" in json.dumps(bob.params["view"])


async def test_uninstall_schedules_the_workspace_data_for_deletion(settings):
    async with slack_harness(settings) as slack:
        await slack.workspace.command("/ask", ASK)
        await slack.settle("command", 1)
        # Revoking only user tokens leaves the bot installed.
        await slack.workspace.event({"type": "tokens_revoked", "tokens": {"oauth": ["U0ADA"]}})
        await slack.settle("tokens_revoked", 1)
        async with slack.app.database.unit_of_work() as uow:
            [still] = (await uow.session.exec(select(CommunityRow))).all()
        assert still.removed_at is None
        await slack.workspace.event({"type": "app_uninstalled"})
        await slack.settle("removed", 1)

        async with slack.app.database.unit_of_work() as uow:
            [community] = (await uow.session.exec(select(CommunityRow))).all()
            timers = (await uow.session.exec(select(Timer).where(Timer.kind == PURGE_TIMER))).all()
        assert community.external_id == TEAM_ID
        assert community.removed_at is not None
        assert len(timers) == 1
        assert timers[0].due_at > community.removed_at


async def test_bot_tokens_revoked_also_schedules_deletion(settings):
    async with slack_harness(settings) as slack:
        await slack.workspace.event({"type": "tokens_revoked", "tokens": {"bot": [BOT_USER_ID]}})
        await slack.settle("removed", 1)

        async with slack.app.database.unit_of_work() as uow:
            [community] = (await uow.session.exec(select(CommunityRow))).all()
        assert community.removed_at is not None


def _delivery(kind: DeliveryKind, **fields) -> Delivery:
    return Delivery(
        key=fields.pop("key", f"test:{kind}"),
        kind=kind,
        community=Community("slack", TEAM_ID, "Test Team"),
        reply=Reply(text=rich("Hello <there> & welcome")),
        **fields,
    )


async def test_direct_and_group_messages_open_conversations_first(settings):
    async with slack_harness(settings) as slack:
        direct = await slack.adapter.deliver(
            _delivery(DeliveryKind.DIRECT, recipient_ids=("U0ADA",))
        )
        group = await slack.adapter.deliver(
            _delivery(DeliveryKind.GROUP, recipient_ids=("U0ADA", "U0BOB", "U0EVE"))
        )
        with pytest.raises(DeliveryError) as too_many:
            await slack.adapter.deliver(
                _delivery(DeliveryKind.GROUP, recipient_ids=tuple(f"U{n}" for n in range(9)))
            )

        first, second = slack.api.called("conversations.open")
        assert first.params["users"] == "U0ADA"
        assert second.params["users"] == "U0ADA,U0BOB,U0EVE"
        assert direct.channel_id.startswith("D")
        assert group.channel_id.startswith("G")
        [dm] = slack.api.posts(direct.channel_id)
        assert dm["text"] == "Hello &lt;there&gt; &amp; welcome"
        assert too_many.value.permanent


async def test_a_thread_message_posts_with_thread_ts(settings):
    async with slack_harness(settings) as slack:
        done = await slack.adapter.deliver(
            _delivery(DeliveryKind.THREAD, channel_id="C0GENERAL", thread_ref="1700000000.000001")
        )

        [message] = slack.api.posts("C0GENERAL")
        assert message["thread_ts"] == "1700000000.000001"
        assert done.thread_ref == "1700000000.000001"
        assert done.message_ref == message["ts"]


async def test_a_retried_delivery_finds_the_copy_an_earlier_attempt_posted(settings):
    async with slack_harness(settings) as slack:
        first = await slack.adapter.deliver(_delivery(DeliveryKind.POST, channel_id="C0GENERAL"))
        again = await slack.adapter.deliver(
            _delivery(DeliveryKind.POST, channel_id="C0GENERAL", attempt=1)
        )

        assert again.message_ref == first.message_ref
        assert len(slack.api.posts("C0GENERAL")) == 1


async def test_a_permanent_slack_error_is_not_retried_and_a_429_carries_retry_after(settings):
    async with slack_harness(settings) as slack:
        slack.api.fail(
            "chat.postMessage", Failure(status=200, error="is_archived", retry_after=None)
        )
        with pytest.raises(DeliveryError) as archived:
            await slack.adapter.deliver(_delivery(DeliveryKind.POST, channel_id="C0OLD"))
        slack.api.fail("chat.update", Failure(retry_after=7), Failure(retry_after=7))
        with pytest.raises(DeliveryError) as limited:
            await slack.adapter.deliver(
                _delivery(DeliveryKind.UPDATE, channel_id="C0GENERAL", update_ref="1.2")
            )

        assert archived.value.permanent
        assert limited.value.retry_after == 7
        assert not limited.value.permanent


async def test_export_hands_the_member_a_file_in_a_direct_message(settings):
    async with slack_harness(settings) as slack:
        await slack.workspace.command("/ask", ASK)
        await slack.settle("command", 1)
        await slack.workspace.command("/crowdmentor", "export")
        await slack.settle("command", 2)

        [complete] = slack.api.called("files.completeUploadExternal")
        assert complete.params["channel_id"].startswith("D")
        [upload] = slack.api.uploads
        assert b"senior interview" in upload
        assert "everything crowdmentor holds" in slack.api.responses[-1]["text"]


async def test_socket_mode_takes_commands_over_the_websocket(settings):
    from tests.adapters._slack_fakes import APP_TOKEN, socket_mode_slack

    async with socket_mode_slack(settings) as slack:
        api, adapter = slack.api, slack.adapter
        payload = {
            "team_id": TEAM_ID,
            "team_domain": "test",
            "channel_id": "C0GENERAL",
            "channel_name": "general",
            "user_id": "U0ADA",
            "user_name": "ada",
            "command": "/crowdmentor",
            "text": "help",
            "response_url": api.response_url(),
            "trigger_id": "t-socket",
        }
        await api.send_socket(
            {
                "envelope_id": "env-1",
                "type": "slash_commands",
                "accepts_response_payload": True,
                "payload": payload,
            }
        )
        # The ack frame and the command's work finish in either order: wait for both.
        await api.wait_for(
            lambda: (
                adapter.handled["command"] >= 1
                and any(frame.get("envelope_id") == "env-1" for frame in api.socket_frames)
            )
        )

    assert adapter.mode == "socket"
    [opened] = api.called("apps.connections.open")
    assert opened.token == APP_TOKEN
    assert any(frame.get("envelope_id") == "env-1" for frame in api.socket_frames)
    assert "crowdmentor" in api.responses[0]["text"]


async def test_similar_questions_offer_buttons_and_pressing_one_replaces_the_private_message(
    settings,
):
    async with slack_harness(settings) as slack:
        await slack.workspace.command("/ask", ASK)
        await slack.settle("command", 1)
        await slack.deliver()
        await slack.workspace.command(
            "/ask", "Any advice on preparing for senior interviews?", user="U0BOB"
        )
        await slack.settle("command", 2)
        offer = slack.api.responses[-1]
        [actions] = [b for b in offer["blocks"] if b["type"] == "actions"]
        post_button = actions["elements"][0]

        await slack.workspace.press(
            post_button["action_id"], post_button["value"], user="U0BOB", ephemeral=True
        )
        await slack.settle("action", 1)
        await slack.deliver()

        assert "look close to yours" in offer["text"]
        assert post_button["action_id"] == "question.post"
        answer = slack.api.responses[-1]
        assert answer["replace_original"] is True
        assert "Posted as" in answer["text"]
        assert len(slack.api.posts("C0GENERAL")) == 2


async def test_a_burst_of_posts_to_one_channel_is_paced_in_order_none_lost_none_doubled(settings):
    async with slack_harness(settings) as slack:
        questions = [
            "How do you pick a first open source project? #oss",
            "What helped you speak at your first meetup? #speaking",
            "How do you negotiate a remote-work arrangement? #career",
        ]
        for number, question in enumerate(questions, start=1):
            await slack.workspace.command("/ask", question, user=f"U0P{number}")
        await slack.settle("command", 3)

        delivered = await slack.deliver()

        calls = slack.api.called("chat.postMessage")
        assert delivered == 3
        assert len(calls) == 3
        gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(calls)]
        assert all(gap >= 0.9 for gap in gaps)
        posts = slack.api.posts("C0GENERAL")
        numbers = [p["text"].split("Question #")[1].split("*")[0] for p in posts]
        assert numbers == sorted(numbers)
        assert len({p["metadata"]["event_payload"]["key"] for p in posts}) == 3


async def test_the_user_cache_expires_after_its_time_to_live(settings):
    from bot.adapters.slack_inbound import UserDirectory

    async with slack_harness(settings) as slack:
        now = [0.0]
        directory = UserDirectory(ttl=60, now=lambda: now[0])
        client = slack.adapter.client

        first = await directory.actor(client, TEAM_ID, "U0ADA")
        await directory.actor(client, TEAM_ID, "U0ADA")
        now[0] = 61.0
        slack.api.users["U0ADA"] = {
            "id": "U0ADA",
            "name": "ada",
            "profile": {"display_name": "Ada"},
        }
        later = await directory.actor(client, TEAM_ID, "U0ADA")

        assert first.display_name == "person-u0ada"
        assert first.timezone == "Europe/Berlin"
        assert later.display_name == "Ada"
        assert len(slack.api.called("users.info")) == 2
