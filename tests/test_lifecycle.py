"""Uninstall / guild removal: data kept through the grace period, then deleted."""

from sqlalchemy import text

from bot.events import Community
from tests.commands.test_pair import advance_to_next_round

SENIOR = "How did you prepare for senior engineer interviews? #interviews"


async def count(chat, table: str) -> int:
    async with chat.app.database.engine.connect() as connection:
        return (await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()


async def test_removed_community_is_deleted_after_the_grace_period_and_others_stay(chat):
    other = chat.elsewhere("T2")
    await chat.say(f"/ask {SENIOR}", as_="ada")
    await chat.reply_in("q1", as_="bob")
    await other.say("/ask Where do you find mentors outside work?", as_="zoe")

    await chat.app.dispatcher.community_removed(Community("memory", "T1"))
    await chat.wait("29d")
    assert await count(chat, "questions") == 2  # still inside the grace period

    await chat.wait("2d")
    assert await count(chat, "questions") == 1
    assert await count(chat, "communities") == 1
    assert await count(chat, "question_replies") == 0
    listing = await other.say("/crowdmentor questions all", as_="zoe")
    assert "Where do you find mentors" in listing.plain()


async def test_reinstalling_within_the_grace_period_keeps_everything(chat):
    await chat.say(f"/ask {SENIOR}", as_="ada")
    await chat.app.dispatcher.community_removed(Community("memory", "T1"))

    await chat.wait("10d")
    await chat.say("/crowdmentor help", as_="ada")  # the bot is back: any event clears the mark
    await chat.wait("30d")

    assert await count(chat, "questions") == 1


async def pending_rounds(chat) -> int:
    async with chat.app.database.engine.connect() as connection:
        query = "SELECT count(*) FROM timers WHERE kind = 'pair.round' AND fired_at IS NULL"
        return (await connection.execute(text(query))).scalar_one()


async def test_rounds_go_on_after_a_community_comes_back_within_the_grace_period(chat):
    for name in ("ada", "bob", "cy", "dee"):
        await chat.say("/pair join", as_=name)
    await chat.say("/pair schedule weekly monday 09:00 UTC", as_="admin")
    await chat.app.dispatcher.community_removed(Community("memory", "T1"))

    await chat.wait("10d")  # a round fell due while the bot was uninstalled
    assert await count(chat, "pair_groups") == 0
    assert await pending_rounds(chat) == 1  # waiting for the community, not used up

    await chat.say("/crowdmentor help", as_="ada")  # reinstalled within the grace period
    await chat.wait("1m")  # the missed round is skipped and the next one armed
    assert await pending_rounds(chat) == 1
    await advance_to_next_round(chat)

    assert await count(chat, "pair_groups") == 2  # the next Monday's round ran
    assert await pending_rounds(chat) == 1
    await chat.wait("30d")
    assert await count(chat, "communities") == 1  # the purge found it back and kept it
