"""Two communities with the same people: nothing done in one can read or touch the other."""

from __future__ import annotations

import time

from sqlmodel import select

from bot.store.models import Question
from bot.testing import Chat
from tests.reliability._community import PEOPLE, populate, rows_of, tampered_values
from tests.reliability._snapshot import differences, snapshot

# Every command, with arguments, as a member of community B would type it.
EVERY_COMMAND = (
    "/ask How do I test a beta service? #python",
    "/ask",
    "/askme add python",
    "/askme remove rust",
    "/askme list",
    "/askme pause 2d",
    "/askme resume",
    "/askme limit 3",
    "/crowdmentor profile",
    "/crowdmentor profile @ada",
    "/coffee @ada python hello",
    "/crowdmentor help",
    "/pair join",
    "/pair skip",
    "/pair pause 1w",
    "/pair resume",
    "/pair status",
    "/pair timezone Europe/Berlin",
    "/pair hours 9-17",
    "/pair stage junior",
    "/pair avoid add @bob",
    "/pair avoid remove @bob",
    "/pair schedule weekly monday 09:00 UTC",
    "/pair channel #general",
    "/pair preview",
    "/pair now",
    "/pair stats",
    "/pair leave",
    "/crowdmentor export",
    "/crowdmentor forget",
    "/crowdmentor questions",
    "/crowdmentor questions all",
    "/crowdmentor questions mine",
    "/crowdmentor questions search python",
    "/crowdmentor settings show",
    "/crowdmentor settings ask-channel #general",
    "/crowdmentor settings anonymous on",
    "/crowdmentor settings nudge-hours 12",
    "/crowdmentor settings close-days 3",
    "/crowdmentor settings moderator add @bob",
    "/crowdmentor settings moderator remove @mod",
    "/crowdmentor settings admin add @cy",
    "/crowdmentor settings admin remove @cy",
    "/crowdmentor topics",
    "/crowdmentor settings topics-alias js javascript",
    "/crowdmentor settings topics-merge rust python",
    "/whoknows python",
    "/whoknows rust",
)


async def _everything_from(beta: Chat, alpha_rows_values: list[str]) -> tuple[list[str], int]:
    """Run every command and press every button in `beta`; return what beta saw and the count."""
    seen: list[str] = []
    count = 0
    for person in ("ada", "admin"):
        for line in EVERY_COMMAND:
            seen.append((await beta.say(line, as_=person)).plain())
            count += 1
        for action in sorted(beta.app.registry.actions):
            for value in alpha_rows_values:
                seen.append((await beta.press(action, value, as_=person)).plain())
                count += 1
    submitted = await beta.submit("ask", {"question": "How does beta handle forms? #python"})
    seen.append(submitted.plain())
    return seen, count + 1


async def test_community_b_cannot_touch_community_a_with_the_same_people(chat: Chat) -> None:
    alpha, beta = chat, chat.elsewhere("T2", "Beta")
    await populate(alpha, "alpha")
    await populate(beta, "beta")
    before = await snapshot(alpha.app.database, alpha.community.platform, "T1")
    values = tampered_values(await rows_of(alpha))

    started = time.monotonic()
    seen, tried = await _everything_from(beta, values)
    # Replies in "q1" of community B count for B's question #1 only, though A has a "q1" too.
    await beta.reply_in("q1", as_="mod")
    elapsed = time.monotonic() - started
    after = await snapshot(alpha.app.database, alpha.community.platform, "T1")
    async with chat.app.database.unit_of_work() as uow:
        questions = (await uow.session.exec(select(Question).order_by(Question.id))).all()

    assert differences(before, after) == {}
    assert [text for text in seen if "alpha" in text] == []  # B never sees A's data
    assert [text for text in seen if "went wrong" in text] == []
    by_community = {(q.community_id, q.number): q.reply_count for q in questions}
    alpha_q1, beta_q1 = sorted(k for k in by_community if k[1] == 1)
    assert by_community[alpha_q1] == 2
    assert by_community[beta_q1] == 3
    assert len(values) > 20
    assert tried > 500
    print(f"isolation: {tried} commands and presses, {len(values)} tampered values, {elapsed:.1f}s")


async def test_thread_replies_in_a_look_alike_thread_stay_in_their_community(chat: Chat) -> None:
    alpha, beta = chat, chat.elsewhere("T2", "Beta")
    await alpha.say("/ask How do I review code in the alpha team? #review", as_="ada")
    await beta.say("/ask How do I review code in the beta team? #review", as_="ada")
    before = await snapshot(alpha.app.database, alpha.community.platform, "T1")

    for person in PEOPLE:
        await beta.reply_in("q1", as_=person)
    after = await snapshot(alpha.app.database, alpha.community.platform, "T1")

    assert differences(before, after) == {}
    listing = (await beta.say("/crowdmentor questions all", as_="ada")).plain()
    assert "4 replies" in listing  # everyone but the asker, in B only
    assert "alpha" not in listing


# ---- Slack: two workspaces, the same user ids -----------------------------------------------

SLACK_LINES = tuple(
    line.replace("#general", "<#C0GENERAL>").replace("@ada", "<@U0ADA>").replace("@bob", "<@U0BOB>")
    for line in EVERY_COMMAND
    if "@mod" not in line and "@cy" not in line
)


async def test_slack_workspaces_with_the_same_user_ids_stay_apart(settings) -> None:
    from tests.adapters._slack_fakes import FakeWorkspace, slack_harness

    async with slack_harness(settings) as slack:
        api, alpha = slack.api, slack.workspace
        beta = FakeWorkspace(alpha.events_url, api, team_id="T0002")
        try:
            await alpha.command("/ask", "How do I run alpha migrations safely?", user="U0ADA")
            await slack.settle("command", 1)
            await slack.deliver()
            [post] = api.posts("C0GENERAL")
            reply = {"type": "message", "channel": "C0GENERAL", "user": "U0BOB", "text": "hi",
                     "thread_ts": post["ts"], "ts": "1700000100.000001"}  # fmt: skip
            await alpha.event(reply)
            await slack.settle("message", 1)
            before = await snapshot(slack.app.database, "slack", "T0001")
            async with slack.app.database.unit_of_work() as uow:
                [question] = (await uow.session.exec(select(Question))).all()

            sent = 0
            for user in ("U0ADA", "U0BOB"):
                for line in SLACK_LINES:
                    command, _, text = line.partition(" ")
                    await beta.command(command, text, user=user)
                    sent += 1
                for action in sorted(slack.app.registry.actions):
                    for value in (str(question.id), f"{question.id}:0", f"{question.id}:1"):
                        await beta.press(action, value, user=user)
                        sent += 1
            # The same thread ts, seen from the other workspace, is not alpha's thread.
            await beta.event({**reply, "ts": "1700000100.000002"})
            await slack.api.wait_for(
                lambda: (
                    slack.adapter.handled["command"] + slack.adapter.handled["action"] >= sent + 1
                ),
                within=60,
            )
            await slack.settle("message", 2)
            after = await snapshot(slack.app.database, "slack", "T0001")
        finally:
            await beta.close()
        said = [r.get("text", "") for r in api.responses]

    assert differences(before, after) == {}
    assert [text for text in said[1:] if "alpha" in text] == []  # [0] answered alpha's asker
    assert [text for text in said if "went wrong" in text] == []
    assert sent > 100
    print(f"slack isolation: {sent} requests from the second workspace")


# ---- Discord: two guilds, the same members --------------------------------------------------

OTHER_GUILD = 1_100_000_000_000_000_999


def _in_other_guild(payload: dict) -> dict:
    payload["guild_id"] = str(OTHER_GUILD)
    payload["guild"] = {**payload["guild"], "id": str(OTHER_GUILD)}
    payload["channel"] = {**payload["channel"], "guild_id": str(OTHER_GUILD)}
    payload["authorizing_integration_owners"] = {"0": str(OTHER_GUILD)}
    return payload


async def test_discord_guilds_with_the_same_members_stay_apart(settings) -> None:
    from tests.adapters._discord_fakes import ADA, ADMIN, BOB, GUILD_ID, discord_world

    async with discord_world(settings) as world:
        fake = world.fake
        await world.slash("/ask", question="How do I run alpha migrations safely?", as_=ADA)
        await world.deliver()
        [post] = [m for m in fake.in_channel(world.general) if m.get("components")]
        before = await snapshot(world.app.database, "discord", str(GUILD_ID))

        said = []
        for person in (ADA, BOB, ADMIN):
            for line, values in (
                ("/crowdmentor questions", {}),
                ("/whoknows", {"topic": "python"}),
                ("/crowdmentor settings anonymous", {"allowed": "off"}),
                ("/crowdmentor settings topics-merge", {"source": "a", "into": "b"}),
                ("/pair now", {}),
                ("/ask", {"question": "How do beta folks run migrations?"}),
            ):
                payload = _in_other_guild(fake.slash(line, as_=person, in_=world.general, **values))
                await fake.interact(world.client, payload)
                said.extend(str(r.json) for r in fake.answers(payload))
            for button in post["components"][0]["components"]:
                payload = _in_other_guild(fake.press(post, button["custom_id"], as_=person))
                await fake.interact(world.client, payload)
                said.extend(str(r.json) for r in fake.answers(payload))
        await world.deliver()
        after = await snapshot(world.app.database, "discord", str(GUILD_ID))
        from sqlmodel import select as _select

        from bot.store.models import Community

        async with world.app.database.unit_of_work() as uow:
            guilds = sorted((await uow.session.exec(_select(Community.external_id))).all())

    assert differences(before, after) == {}
    assert [text for text in said if "alpha" in text] == []
    assert guilds == sorted([str(GUILD_ID), str(OTHER_GUILD)])
    assert len(said) >= 3 * 7
