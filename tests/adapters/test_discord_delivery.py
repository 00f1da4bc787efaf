"""Deliveries to Discord: rate limits, retries without doubles, threads, DMs, groups, limits."""

import dataclasses
from datetime import timedelta

import discord
import pytest
from pydantic import SecretStr
from sqlmodel import select

from bot.adapters.base import Delivery, DeliveryError, DeliveryKind
from bot.adapters.discord import (
    NONCE_MAX_CHARS,
    SHARDS_ENV,
    DiscordAdapter,
    intents,
    make_client,
    nonce_for,
    shard_setting,
)
from bot.events import Community
from bot.replies import Button, Mention, Reply
from bot.runner import build_adapter, configured_platforms
from bot.store.models import OutboxMessage, OutboxStatus
from tests.adapters._discord_fakes import (
    ADA,
    BOB,
    GUILD_ID,
    FakeDiscord,
    discord_world,
)

COMMUNITY = Community("discord", str(GUILD_ID), "Mentors Guild")
SENIOR = "How did you prepare for your first senior engineer interview? #interviews"


async def outbox(world) -> list[OutboxMessage]:
    async with world.app.database.unit_of_work() as uow:
        return list((await uow.session.exec(select(OutboxMessage))).all())


async def test_a_429_on_message_create_is_waited_out_and_the_post_lands_once(settings):
    fake = FakeDiscord()
    async with discord_world(settings, fake=fake) as world:
        fake.rate_limit("POST", r"^/channels/\d+/messages$", 0.3)
        await world.slash("/ask", question=SENIOR)
        assert await world.deliver() == 1

    first, second = fake.sent("POST", rf"^/channels/{world.general}/messages$")
    assert second.at - first.at >= 0.3  # discord.py slept for retry_after
    assert len(fake.in_channel(world.general)) == 1


async def test_a_long_rate_limit_is_left_to_the_outbox_which_retries_later_once(settings):
    fake = FakeDiscord()
    async with discord_world(settings, fake=fake) as world:
        fake.rate_limit("POST", r"^/channels/\d+/messages$", 120)
        await world.slash("/ask", question=SENIOR)
        assert await world.deliver() == 0
        [row] = await outbox(world)
        assert row.status == OutboxStatus.PENDING
        assert row.attempts == 1
        assert "rate limited" in row.last_error
        waits = row.next_attempt_at - world.app.clock.now()
        assert timedelta(seconds=110) < waits <= timedelta(seconds=120)
        world.app.clock.advance(timedelta(seconds=121))
        assert await world.deliver() == 1
        [row] = await outbox(world)

    assert row.status == OutboxStatus.SENT
    assert len(fake.in_channel(world.general)) == 1


async def test_a_send_whose_answer_was_lost_is_not_doubled_by_the_retry(settings):
    fake = FakeDiscord()
    async with discord_world(settings, fake=fake) as world:
        # Discord creates the message, but the answer is a 502: discord.py sends again.
        fake.fail("POST", r"^/channels/\d+/messages$", 502, after_handling=True)
        await world.slash("/ask", question=SENIOR)
        assert await world.deliver() == 1

    first, second = fake.sent("POST", rf"^/channels/{world.general}/messages$")
    assert first.json["nonce"] == second.json["nonce"]
    assert first.json["enforce_nonce"] is True
    assert len(fake.in_channel(world.general)) == 1


async def test_an_outbox_retry_after_a_partial_post_finds_the_message_and_its_thread(settings):
    fake = FakeDiscord()
    async with discord_world(settings, fake=fake) as world:
        reply = Reply.say("A question", buttons=(Button("question.resolve", "Mark resolved", "9"),))
        delivery = Delivery(
            key="question:9:post",
            kind=DeliveryKind.POST,
            community=COMMUNITY,
            reply=reply,
            channel_id=str(world.general),
            thread_title="#9 A question",
        )
        first = await world.adapter.deliver(delivery)
        again = await world.adapter.deliver(dataclasses.replace(delivery, attempt=1))

    assert again == first
    assert first.thread_ref == first.message_ref
    assert len(fake.in_channel(world.general)) == 1
    assert len([c for c in fake.channels.values() if c["type"] == 11]) == 1


async def test_a_post_stands_when_its_thread_cannot_be_opened(settings):
    fake = FakeDiscord()
    async with discord_world(settings, fake=fake) as world:
        fake.fail(
            "POST",
            r"/messages/\d+/threads$",
            403,
            {"message": "Missing Permissions", "code": 50013},
        )
        await world.slash("/ask", question=SENIOR)
        assert await world.deliver() == 1
        [row] = await outbox(world)

    [post] = fake.in_channel(world.general)
    assert row.status == OutboxStatus.SENT
    # A thread opened from the message later gets the message's id, which is what is kept.
    assert row.platform_thread_ref == row.platform_ref == post["id"]


async def test_a_long_thread_message_is_split_and_every_part_blocks_mass_mentions(settings):
    fake = FakeDiscord()
    async with discord_world(settings, fake=fake) as world:
        thread = fake.next_id()
        fake.channels[thread] = {**fake.channels[world.general], "id": str(thread), "type": 11}
        text = "@everyone " + "lorem ipsum " * 420  # 5,000+ characters
        done = await world.adapter.deliver(
            Delivery(
                key="long",
                kind=DeliveryKind.THREAD,
                community=COMMUNITY,
                reply=Reply.say(text, Mention(str(BOB.id), "bob")),
                channel_id=str(world.general),
                thread_ref=str(thread),
            )
        )

    parts = fake.in_channel(thread)
    assert len(parts) == 3
    assert done.message_ref == parts[0]["id"]
    assert all(len(p["content"]) <= 2000 for p in parts)
    assert "@everyone" not in "".join(p["content"] for p in parts)
    assert all(p["allowed_mentions"] == {"parse": [], "users": [BOB.id]} for p in parts)
    assert len({p["nonce"] for p in parts}) == 3


async def test_a_direct_message_carries_buttons_that_work_from_the_dm(settings):
    fake = FakeDiscord()
    async with discord_world(settings, fake=fake) as world:
        await world.adapter.deliver(
            Delivery(
                key="dm",
                kind=DeliveryKind.DIRECT,
                community=COMMUNITY,
                reply=Reply.say("Keep your data?", buttons=(Button("privacy.keep", "Keep it"),)),
                recipient_ids=(str(ADA.id),),
            )
        )
        dm = fake.dm_channel(ADA.id)
        [message] = fake.in_channel(dm)
        [custom_id] = [c["custom_id"] for r in message["components"] for c in r["components"]]
        pressed = await world.press(message, custom_id, in_dm=True)

    assert custom_id == f"cm@{GUILD_ID}:privacy.keep:"
    [answer] = fake.answers(pressed)
    assert answer.json["data"]["content"] == "Nothing was deleted."


async def test_a_group_conversation_is_a_private_thread_with_its_members(settings):
    fake = FakeDiscord()
    async with discord_world(settings, fake=fake) as world:
        delivery = Delivery(
            key="pair:1:ada-bob",
            kind=DeliveryKind.GROUP,
            community=COMMUNITY,
            reply=Reply.say(
                "Meet ", Mention(str(ADA.id), "ada"), " and ", Mention(str(BOB.id), "bob")
            ),
            channel_id=str(world.general),
            recipient_ids=(str(ADA.id), str(BOB.id)),
            thread_title="ada & bob: coffee this week",
        )
        done = await world.adapter.deliver(delivery)
        retried = await world.adapter.deliver(dataclasses.replace(delivery, attempt=1))

    [create] = fake.sent("POST", rf"^/channels/{world.general}/threads$")
    assert create.json["type"] == 12  # private
    assert create.json["invitable"] is False
    thread = int(done.thread_ref)
    assert fake.thread_members[thread] >= {ADA.id, BOB.id}
    assert retried.thread_ref == done.thread_ref  # no second thread
    [intro] = fake.in_channel(thread)  # and, by its nonce, no second intro
    assert intro["allowed_mentions"] == {"parse": [], "users": [ADA.id, BOB.id]}


async def test_a_group_in_a_forum_is_refused_for_good(settings):
    async with discord_world(settings) as world:
        with pytest.raises(DeliveryError) as refused:
            await world.adapter.deliver(
                Delivery(
                    key="g",
                    kind=DeliveryKind.GROUP,
                    community=COMMUNITY,
                    reply=Reply.say("hi"),
                    channel_id=str(world.forum),
                    recipient_ids=(str(ADA.id),),
                )
            )

    assert refused.value.permanent


async def test_editing_a_quiet_forum_post_reopens_its_archived_thread(settings):
    fake = FakeDiscord()
    async with discord_world(settings, fake=fake) as world:
        done = await world.adapter.deliver(
            Delivery(
                key="post",
                kind=DeliveryKind.POST,
                community=COMMUNITY,
                reply=Reply.say("Open"),
                channel_id=str(world.forum),
                thread_title="#1 quiet",
            )
        )
        fake.channels[int(done.thread_ref)]["thread_metadata"]["archived"] = True
        await world.adapter.deliver(
            Delivery(
                key="edit",
                kind=DeliveryKind.UPDATE,
                community=COMMUNITY,
                reply=Reply.say("Resolved"),
                channel_id=done.channel_id,
                update_ref=done.message_ref,
            )
        )

    [starter] = fake.in_channel(int(done.thread_ref))
    assert starter["content"] == "Resolved"
    assert fake.channels[int(done.thread_ref)]["thread_metadata"]["archived"] is False


@pytest.mark.parametrize(("status", "permanent"), [(404, True), (400, True), (403, False)])
async def test_refusals_become_delivery_errors_that_say_whether_to_retry(
    settings, status, permanent
):
    fake = FakeDiscord()
    async with discord_world(settings, fake=fake) as world:
        fake.fail(
            "POST", r"^/channels/\d+/messages$", status, {"message": "no", "code": 1}, times=9
        )
        with pytest.raises(DeliveryError) as failed:
            await world.adapter.deliver(
                Delivery(
                    key="k",
                    kind=DeliveryKind.THREAD,
                    community=COMMUNITY,
                    reply=Reply.say("hi"),
                    thread_ref=str(world.general),
                )
            )

    assert failed.value.permanent is permanent
    assert str(status) in str(failed.value)


async def test_a_429_discord_py_will_not_wait_out_keeps_its_retry_after(settings):
    fake = FakeDiscord()
    async with discord_world(settings, fake=fake) as world:
        # Without a Via header discord.py takes a 429 for a Cloudflare ban and gives up.
        fake.fail("POST", r"^/channels/\d+/messages$", 429, {"retry_after": 7},
                  headers={"Retry-After": "7"})  # fmt: skip
        with pytest.raises(DeliveryError) as failed:
            await world.adapter.deliver(
                Delivery(
                    key="k",
                    kind=DeliveryKind.THREAD,
                    community=COMMUNITY,
                    reply=Reply.say("hi"),
                    thread_ref=str(world.general),
                )
            )

    assert failed.value.retry_after == 7
    assert not failed.value.permanent


async def test_deliveries_before_login_are_retried_later_not_lost(settings):
    from bot.app import App

    app = App(settings)
    adapter = DiscordAdapter(app)
    adapter.login_wait = 0.05

    with pytest.raises(DeliveryError) as early:
        await adapter.deliver(
            Delivery(key="k", kind=DeliveryKind.POST, community=COMMUNITY, reply=Reply.say("hi"))
        )

    assert early.value.retry_after == 30.0
    assert not early.value.permanent
    await app.database.dispose()


def test_only_the_intents_the_features_need():
    wanted = intents()

    assert wanted.guilds
    assert wanted.guild_messages
    assert not wanted.message_content
    assert not wanted.members
    assert not wanted.presences
    assert not wanted.dm_messages
    assert wanted.value == discord.Intents(guilds=True, guild_messages=True).value


def test_sharding_follows_the_environment():
    assert shard_setting({}) is None
    assert shard_setting({SHARDS_ENV: "auto"}) == "auto"
    assert shard_setting({SHARDS_ENV: " 4 "}) == 4
    with pytest.raises(ValueError):
        shard_setting({SHARDS_ENV: "0"})
    plain = make_client(None, None)  # type: ignore[arg-type]
    automatic = make_client(None, "auto")  # type: ignore[arg-type]
    counted = make_client(None, 4)  # type: ignore[arg-type]
    assert not isinstance(plain, discord.AutoShardedClient)
    assert isinstance(automatic, discord.AutoShardedClient)
    assert automatic.shard_count is None
    assert counted.shard_count == 4


def test_nonces_fit_discord_and_differ_per_part():
    assert len(nonce_for("question:1:post")) <= NONCE_MAX_CHARS
    assert nonce_for("question:1:post") == nonce_for("question:1:post", 0)
    assert nonce_for("question:1:post", 1) != nonce_for("question:1:post", 0)


async def test_the_runner_builds_the_discord_adapter_when_its_token_is_set(settings, monkeypatch):
    from bot.app import App
    from bot.settings import Settings

    monkeypatch.setenv(SHARDS_ENV, "2")
    assert Settings().discord_shards == "2"  # read from the environment like every setting
    configured = settings.model_copy(
        update={"discord_token": SecretStr("x"), "discord_shards": "2"}
    )
    app = App(configured)

    adapter = build_adapter("discord", app, {})

    assert configured_platforms(configured) == ["discord"]
    assert isinstance(adapter, DiscordAdapter)
    assert adapter.platform == "discord"
    assert adapter.client.shard_count == 2
    await app.database.dispose()
