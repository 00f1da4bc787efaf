"""The advice-thread story on Discord, against a local fake of Discord's API and gateway."""

import asyncio
import re
import time

from sqlmodel import select

from bot.registry import CommandSpec, Registry
from bot.replies import FieldKind, Form, FormField, Reply, Visibility
from bot.store.models import Community, Member, Question, QuestionStatus, Timer
from tests.adapters._discord_fakes import (
    ADA,
    ADMIN,
    BOB,
    GUILD_ID,
    OTHER_BOT,
    FakeDiscord,
    discord_world,
    restarted,
)

EPHEMERAL = 64
SENIOR = "How did you prepare for your first senior engineer interview? #interviews"


async def questions(world) -> list[Question]:
    async with world.app.database.unit_of_work() as uow:
        return list((await uow.session.exec(select(Question).order_by(Question.id))).all())


def custom_ids(message: dict) -> list[str]:
    return [c["custom_id"] for row in message["components"] for c in row["components"]]


def shown(content: str) -> str:
    """Return roughly what Discord displays: escapes and bold markers gone."""
    return re.sub(r"\\([^\w\s])", r"\1", content).replace("**", "")


def pings(content: str) -> list[str]:
    return re.findall(r"@(?:everyone|here)|<@[!&]?\d+>", content)


async def test_ask_in_a_text_channel_defers_then_posts_a_message_with_its_thread(settings):
    async with discord_world(settings) as world:
        started = time.monotonic()
        payload = await world.slash("/ask", question=SENIOR)
        first, *rest = world.fake.answers(payload)
        assert await world.deliver() == 1
        [question] = await questions(world)

    # /ask is slow: deferred at once (privately, "thinking"), then answered privately.
    assert first.path.endswith("/callback")
    assert first.json == {"type": 5, "data": {"flags": EPHEMERAL}}
    assert first.at - started < 1.0
    [followup] = rest
    assert followup.json["flags"] == EPHEMERAL
    assert "Posted as **question #1** in <#" in followup.json["content"]

    [post] = world.fake.in_channel(world.general)
    assert f"**Question #1** from <@{ADA.id}>" in post["content"]
    assert "> How did you prepare for your first senior engineer interview?" in post["content"]
    assert custom_ids(post) == [f"cm:question.resolve:{question.id}"]
    thread = world.fake.channels[int(post["id"])]  # a thread started from the message
    assert thread["parent_id"] == str(world.general)
    assert thread["name"] == "#1 How did you prepare for your first senior engineer interview?"
    assert question.post_ref == question.thread_ref == post["id"]
    assert question.channel_id == str(world.general)


async def test_ask_in_a_forum_makes_a_post_tagged_with_its_topics(settings):
    fake = FakeDiscord()
    forum = fake.add_forum("questions", ("Career", "python", "remote"))
    async with discord_world(settings, fake=fake) as world:
        await world.slash("/crowdmentor settings ask-channel", as_=ADMIN, channel=forum)
        await world.slash(
            "/ask",
            question="Python or Go for a first backend job? "
            "#career #python #golang #backend #jobs #interviews",
        )
        await world.deliver()
        [question] = await questions(world)

    [create] = fake.sent("POST", rf"^/channels/{forum}/threads$")
    tags = {t["id"]: t["name"] for t in fake.channels[forum]["available_tags"]}
    applied = [tags[t] for t in create.json["applied_tags"]]
    # Existing tags are found whatever their case; missing ones are created; 5 at most.
    assert sorted(applied) == sorted(["Career", "python", "golang", "backend", "jobs"])
    assert "remote" in tags.values()
    [tag_edit] = fake.sent("PATCH", rf"^/channels/{forum}$")
    assert len(tag_edit.json["available_tags"]) == 6
    thread_id = int(question.thread_ref)
    [starter] = fake.in_channel(thread_id)
    assert starter["id"] == str(thread_id)  # a forum post's first message shares its id
    assert "**Question #1**" in starter["content"]
    assert fake.channels[thread_id]["name"].startswith("#1 Python or Go")
    assert question.post_ref == question.thread_ref
    assert question.channel_id == str(forum)


async def test_forum_tags_are_not_created_without_manage_channels(settings):
    fake = FakeDiscord(bot_can_manage_channels=False)
    forum = fake.add_forum("questions", ("career",))
    async with discord_world(settings, fake=fake) as world:
        await world.slash("/crowdmentor settings ask-channel", as_=ADMIN, channel=forum)
        await world.slash("/ask", question="How to negotiate a raise? #career #salary")
        await world.deliver()

    # No attempt to add tags (it would only earn a 403); the existing one still applies.
    assert fake.sent("PATCH", rf"^/channels/{forum}$") == []
    [create] = fake.sent("POST", rf"^/channels/{forum}/threads$")
    assert create.json["applied_tags"] == [fake.channels[forum]["available_tags"][0]["id"]]


async def test_forum_tags_are_created_only_while_the_forum_has_room(settings):
    fake = FakeDiscord()
    crowded = fake.add_forum("crowded", tuple(f"t{i}" for i in range(19)))
    async with discord_world(settings, fake=fake) as world:
        await world.slash("/crowdmentor settings ask-channel", as_=ADMIN, channel=crowded)
        await world.slash("/ask", question="Where do I start with Rust? #t0 #rust #systems")
        await world.deliver()

    # 19 of 20 tags used: one more fits, the other topic goes untagged.
    names = [t["name"] for t in fake.channels[crowded]["available_tags"]]
    assert len(names) == 20
    assert names[-1] == "rust"
    [create] = fake.sent("POST", rf"^/channels/{crowded}/threads$")
    assert len(create.json["applied_tags"]) == 2


async def test_ask_without_text_opens_a_modal_and_its_submission_posts(settings):
    async with discord_world(settings) as world:
        payload = await world.slash("/ask")
        [modal] = world.fake.answers(payload)
        submitted = await world.submit(
            "cmf:ask",
            {
                "question": "How do I get better at code review?",
                "context": "I'm a junior and my reviews are shallow.",
                "topics": "code review, mentoring",
                "anonymous": ["yes"],
            },
        )
        await world.deliver()
        [question] = await questions(world)

    assert modal.json["type"] == 9  # a modal, as the first and only answer
    assert modal.json["data"]["custom_id"] == "cmf:ask"
    labels = [row["label"] for row in modal.json["data"]["components"]]
    assert labels == [
        "Your question",
        "What you tried / where you are",
        "Topics (comma separated)",
        "Ask anonymously",
    ]
    first, followup = world.fake.answers(submitted)
    assert first.json["type"] == 5
    assert "Posted anonymously as **question #1**" in followup.json["content"]
    assert question.anonymous is True
    assert question.context == "I'm a junior and my reviews are shallow."
    [post] = world.fake.in_channel(world.general)
    assert "asked anonymously" in post["content"]
    assert str(ADA.id) not in post["content"]
    assert "my reviews are shallow" in post["content"]


async def test_resolve_and_credit_buttons_keep_working_after_a_restart(settings):
    fake = FakeDiscord()
    async with discord_world(settings, fake=fake) as world:
        await world.slash("/ask", question=SENIOR)
        await world.deliver()
        [post] = fake.in_channel(world.general)
        fake.member_says(int(post["id"]), BOB)
        await fake.settle()
        await world.client.close()
        fake.disconnect(world.client)

        async with restarted(world, settings) as again:
            [resolve] = custom_ids(post)
            pressed = await again.press(post, resolve)
            [answer] = fake.answers(pressed)
            await again.deliver()
            [helped_message] = fake.interaction_responses[pressed["token"]]
            bob_button, skip = custom_ids(helped_message)
            assert skip.endswith(":0")
            credited = await again.press(helped_message, bob_button)
            await again.deliver()
        [question] = await questions(world)

    assert answer.json["type"] == 4
    assert answer.json["data"]["flags"] == EPHEMERAL
    assert "Marked question #1 resolved" in shown(answer.json["data"]["content"])
    assert question.status == QuestionStatus.RESOLVED
    assert question.helped_by_id is not None
    [edit, *later] = fake.sent("PATCH", rf"^/channels/{world.general}/messages/{post['id']}$")
    assert "Resolved" in edit.json["content"]
    assert edit.json["components"] == []  # no more "Mark resolved"
    assert "answer helped" in later[-1].json["content"]
    [thanks] = fake.in_channel(int(post["id"]))
    assert f"<@{BOB.id}>" in thanks["content"]
    assert thanks["allowed_mentions"] == {"parse": [], "users": [BOB.id]}
    assert "Thanked" in fake.answers(credited)[0].json["data"]["content"]


async def test_thread_replies_are_counted_once_and_only_from_people(settings):
    fake = FakeDiscord()
    async with discord_world(settings, fake=fake) as world:
        await world.slash("/ask", question=SENIOR)
        await world.deliver()
        [post] = fake.in_channel(world.general)
        thread = int(post["id"])
        reply_id = fake.member_says(thread, BOB)
        fake.member_says(thread, BOB, message_id=reply_id)  # the same message again
        fake.member_says(thread, OTHER_BOT)
        fake.member_says(thread, BOB, kind=7)  # a system message ("bob joined")
        stranger_thread = fake.next_id()
        fake.channels[stranger_thread] = {
            **fake.channels[thread], "id": str(stranger_thread), "owner_id": str(ADA.id)
        }  # fmt: skip
        fake.gateway("thread_create", fake.channels[stranger_thread])
        fake.member_says(stranger_thread, ADMIN)
        await fake.settle()
        [question] = await questions(world)
        async with world.app.database.unit_of_work() as uow:
            members = (await uow.session.exec(select(Member.external_id))).all()

    assert question.reply_count == 1
    assert str(ADMIN.id) not in members  # chatter elsewhere never reaches the core


async def test_question_text_can_never_ping_anyone(settings):
    fake = FakeDiscord()
    async with discord_world(settings, fake=fake) as world:
        payload = await world.slash(
            "/ask", question="@everyone @here <@&123456789012345678> <@999999999999999999> help?"
        )
        await world.deliver()

    [post] = fake.in_channel(world.general)
    assert pings(post["content"]) == [f"<@{ADA.id}>"]  # only the asker, by our own Mention
    assert post["allowed_mentions"] == {"parse": [], "users": [ADA.id]}
    bodies = [r.json for r in fake.requests if r.method in ("POST", "PATCH")]
    carried = [
        b.get("allowed_mentions") or b.get("data", {}).get("allowed_mentions") for b in bodies
    ]
    carried = [m for m in carried if m is not None]
    assert len(carried) >= 2
    for mentions in carried:
        assert mentions["parse"] == []
        assert "roles" not in mentions
    assert fake.answers(payload)


async def test_private_answers_are_ephemeral_and_quick_commands_answer_directly(settings):
    async with discord_world(settings) as world:
        payload = await world.slash("/crowdmentor help")
        denied = await world.slash("/crowdmentor settings show")
        allowed = await world.slash("/crowdmentor settings show", as_=ADMIN)

    answers = world.fake.answers(payload)
    assert answers[0].json["type"] == 4  # ready in time: no deferral needed
    assert all((a.json.get("data") or a.json)["flags"] == EPHEMERAL for a in answers)
    assert all(len((a.json.get("data") or a.json)["content"]) <= 2000 for a in answers)
    assert "Only admins" in world.fake.answers(denied)[0].json["data"]["content"]
    # Manage Server makes a member an admin here.
    assert "Ask channel" in world.fake.answers(allowed)[0].json["data"]["content"]


async def test_similar_questions_are_offered_first_with_buttons_that_post(settings):
    async with discord_world(settings) as world:
        await world.slash("/ask", question=SENIOR)
        await world.deliver()
        held = await world.slash("/ask", question="Any advice on senior engineer interviews?")
        assert await world.deliver() == 0  # held back: similar questions were shown
        [offer] = world.fake.interaction_responses[held["token"]][1:]
        post_button, discard_button = custom_ids(offer)
        pressed = await world.press(offer, post_button)
        await world.deliver()

    assert "Before I post it" in offer["content"]
    assert offer["flags"] == EPHEMERAL
    assert post_button.startswith("cm:question.post:")
    assert discard_button.startswith("cm:question.discard:")
    assert "question #2" in shown(world.fake.answers(pressed)[0].json["data"]["content"])
    assert len(world.fake.in_channel(world.general)) == 2


async def test_a_data_export_arrives_as_a_private_file(settings):
    async with discord_world(settings) as world:
        payload = await world.slash("/crowdmentor export")

    [answer] = world.fake.answers(payload)
    assert answer.files == ["crowdmentor-export.json"]
    assert answer.json["data"]["flags"] == EPHEMERAL


async def _slow(ctx, **kwargs):
    await asyncio.sleep(0.5)
    return Reply.say("done slowly")


SLOW_FORM = Form("slow", "A slow form", (FormField("answer", "Answer", FieldKind.SHORT_TEXT),))


async def _slow_form(ctx, **kwargs):
    await asyncio.sleep(0.5)
    return Reply.say("Fill this in.", form=SLOW_FORM)


async def _slow_public(ctx, **kwargs):
    await asyncio.sleep(0.5)
    return Reply.say("everyone may see this", visibility=Visibility.CHANNEL)


def slow_registry() -> Registry:
    registry = Registry()
    registry.add(CommandSpec(path=("announce",), summary="Say it late", handler=_slow_public))
    registry.add(CommandSpec(path=("dawdle",), summary="Take a while", handler=_slow))
    registry.add(CommandSpec(path=("slowform",), summary="A form, late", handler=_slow_form))
    registry.add(
        CommandSpec(
            path=("formfirst",), summary="A declared form", form=SLOW_FORM, handler=_slow_form
        )
    )
    return registry


async def test_work_that_outlasts_the_budget_is_deferred_in_time_then_followed_up(settings):
    async with discord_world(settings, registry=slow_registry()) as world:
        world.adapter.ack_budget = 0.1
        started = time.monotonic()
        payload = await world.slash("/dawdle")

    first, followup = world.fake.answers(payload)
    assert first.json == {"type": 5, "data": {"flags": EPHEMERAL}}
    assert first.at - started < 0.4
    assert followup.json["content"] == "done slowly"
    assert followup.at - started >= 0.5


async def test_a_public_answer_after_a_deferral_replaces_the_private_placeholder(settings):
    async with discord_world(settings, registry=slow_registry()) as world:
        world.adapter.ack_budget = 0.1
        payload = await world.slash("/announce")

    deferral, removal, followup = world.fake.answers(payload)
    assert deferral.json["type"] == 5
    assert removal.method == "DELETE"
    assert removal.path.endswith("/messages/@original")
    assert followup.json["content"] == "everyone may see this"
    assert not followup.json.get("flags", 0) & EPHEMERAL


async def test_a_form_too_late_for_a_modal_comes_with_a_button_that_opens_it(settings):
    async with discord_world(settings, registry=slow_registry()) as world:
        world.adapter.ack_budget = 0.1
        payload = await world.slash("/slowform")
        [message] = world.fake.interaction_responses[payload["token"]][1:]
        [button] = custom_ids(message)
        opened = await world.press(message, button)

    assert button == "cm:discord.open-form:slow"
    [modal] = world.fake.answers(opened)
    assert modal.json["type"] == 9
    assert modal.json["data"]["custom_id"] == "cmf:slow"


async def test_leaving_a_guild_schedules_its_data_for_deletion(settings):
    async with discord_world(settings) as world:
        await world.slash("/ask", question=SENIOR)
        world.fake.remove_from_guild()
        await world.fake.settle()
        async with world.app.database.unit_of_work() as uow:
            community = (
                await uow.session.exec(
                    select(Community).where(Community.external_id == str(GUILD_ID))
                )
            ).one()
            timers = (await uow.session.exec(select(Timer.kind))).all()

    assert community.platform == "discord"
    assert community.name == "Mentors Guild"
    assert community.removed_at is not None
    assert "community.purge" in timers


async def test_a_declared_form_opens_as_the_first_answer_however_slow_the_work(settings):
    async with discord_world(settings, registry=slow_registry()) as world:
        world.adapter.ack_budget = 0.1
        payload = await world.slash("/formfirst")

    [modal] = world.fake.answers(payload)
    assert modal.json["type"] == 9
    assert modal.json["data"]["custom_id"] == "cmf:slow"
