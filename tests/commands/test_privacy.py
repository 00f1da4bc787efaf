"""`/crowdmentor export` and `/crowdmentor forget`."""

import json

from sqlalchemy import inspect, text

from bot.store.models import Member

SENIOR = "How did you prepare for senior engineer interviews? #interviews"


async def member_columns(chat) -> list[tuple[str, str]]:
    """Every (table, column) with a foreign key to members.id, read from the live schema."""

    def read(connection):
        found = []
        inspector = inspect(connection)
        for table in inspector.get_table_names():
            for fk in inspector.get_foreign_keys(table):
                if fk["referred_table"] == "members":
                    found.extend((table, column) for column in fk["constrained_columns"])
        return found

    async with chat.app.database.engine.connect() as connection:
        return await connection.run_sync(read)


async def rows_pointing_at(chat, member_id: int) -> dict[str, int]:
    counts = {}
    async with chat.app.database.engine.connect() as connection:
        for table, column in await member_columns(chat):
            result = await connection.execute(
                text(f"SELECT count(*) FROM {table} WHERE {column} = :m"), {"m": member_id}
            )
            counts[f"{table}.{column}"] = result.scalar_one()
    return counts


async def member_id(chat, name: str) -> int:
    async with chat.app.database.unit_of_work() as uow:
        from sqlmodel import select

        return (await uow.session.exec(select(Member.id).where(Member.external_id == name))).one()


async def test_export_gives_a_json_file_of_everything_held(chat):
    await chat.say("/crowdmentor settings moderator add @ada", as_="admin")
    await chat.say(f"/ask {SENIOR}", as_="ada")
    await chat.say("/ask How do you review a large pull request? #code-review", as_="bob")
    await chat.reply_in("q2", as_="ada")

    reply = await chat.say("/crowdmentor export", as_="ada")

    [file] = reply.files
    data = json.loads(file.content)
    assert data["profile"]["platform_user_id"] == "ada"
    assert data["profile"]["roles"] == ["moderator"]
    assert [q["text"] for q in data["questions"]["questions_asked"]] == [
        "How did you prepare for senior engineer interviews?"
    ]
    assert data["questions"]["questions_asked"][0]["topics"] == ["interviews"]
    assert data["questions"]["replies_written"][0]["question"] == 2
    assert "bob" not in file.content


async def test_forget_asks_first_then_deletes_everything_that_points_at_the_member(chat):
    await chat.say("/crowdmentor settings moderator add @ada", as_="admin")
    await chat.say(f"/ask {SENIOR}", as_="ada")
    await chat.say("/ask How do you review a large pull request? #code-review", as_="bob")
    await chat.reply_in("q2", as_="ada")
    bob_q = 2
    resolved = await chat.press("question.resolve", str(bob_q), as_="bob")
    await chat.press("question.helped", resolved.buttons[0].value, as_="bob")
    ada = await member_id(chat, "ada")
    bob = await member_id(chat, "bob")
    assert sum((await rows_pointing_at(chat, ada)).values()) > 0

    confirm = await chat.say("/crowdmentor forget", as_="ada")
    assert "can't be undone" in confirm.plain()
    forged = await chat.press("privacy.forget", confirm.buttons[0].value, as_="bob")
    assert "belongs to someone else" in forged.plain()
    done = await chat.press("privacy.forget", confirm.buttons[0].value, as_="ada")

    assert "your data is deleted" in done.plain()
    assert "1 questions made anonymous" in done.plain()
    assert all(count == 0 for count in (await rows_pointing_at(chat, ada)).values())
    async with chat.app.database.engine.connect() as connection:
        left = await connection.execute(
            text("SELECT count(*) FROM members WHERE id = :m"), {"m": ada}
        )
        assert left.scalar_one() == 0
        askers = await connection.execute(text("SELECT number, asker_id FROM questions"))
        assert sorted(askers.all()) == [(1, None), (2, bob)]
    # Her posted question stays for the answers in its thread, from nobody in particular.
    [post] = [m for m in chat.posts() if "senior engineer interviews" in m.reply.plain()]
    assert "from a former member" in post.reply.plain()
    assert "@ada" not in post.reply.plain()
    # Bob's question keeps its reply count (a number that identifies nobody).
    listing = await chat.say("/crowdmentor questions all", as_="bob")
    assert "1 reply" in listing.plain()


async def test_keep_button_deletes_nothing(chat):
    await chat.say(f"/ask {SENIOR}", as_="ada")
    confirm = await chat.say("/crowdmentor forget", as_="ada")

    kept = await chat.press("privacy.keep", "", as_="ada")

    assert "Nothing was deleted" in kept.plain()
    assert "#1" in (await chat.say("/crowdmentor questions mine", as_="ada")).plain()
    assert confirm.buttons[1].action == "privacy.keep"
