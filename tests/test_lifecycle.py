"""Uninstall / guild removal: data kept through the grace period, then deleted."""

from sqlalchemy import text

from bot.events import Community

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
