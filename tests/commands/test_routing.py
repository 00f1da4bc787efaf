"""Routing `/ask` questions to people tagged with their topics: fair, capped, widening."""

from sqlmodel import func, select

from bot.store.tag_models import TagAsk

PYTHON_Q = "How do you structure a large asyncio codebase? #python"


def pinged(chat) -> list[str]:
    """Names that got a question DM, in order."""
    return [
        m.channel_id.removeprefix("dm:")
        for m in chat.platform.log
        if m.channel_id.startswith("dm:")
        and "," not in m.channel_id
        and "A question you might be able to help with" in m.reply.plain()
    ]


async def tag(chat, topics: str, *names: str) -> None:
    for name in names:
        await chat.say(f"/askme add {topics}", as_=name)


async def test_a_new_question_pings_three_available_people_never_the_asker(chat):
    await tag(chat, "python", "ada", "bob", "cy", "dee", "eve")
    await chat.say("/askme pause 1w", as_="bob")

    reply = await chat.say(f"/ask {PYTHON_Q}", as_="ada")

    text = reply.plain()
    assert "Posted as question #1" in text
    assert "I asked @cy, @dee and @eve, who know #python, to take a look." in text
    assert pinged(chat) == ["cy", "dee", "eve"]
    dm = next(m for m in chat.platform.log if m.channel_id == "dm:cy")
    assert "You said you're happy to be asked about #python" in dm.reply.plain()
    assert "How do you structure a large asyncio codebase?" in dm.reply.plain()
    assert "question #1" in dm.reply.plain()


async def test_rotation_is_fair_least_recently_pinged_first(chat):
    await tag(chat, "python", "ada", "bob", "cy", "dee")

    await chat.say(f"/ask {PYTHON_Q}", as_="eve")
    await chat.wait("1h")
    await chat.say("/ask What's your favourite pytest plugin? #python", as_="eve")

    # The first question went to ada, bob and cy; the second starts with dee, who waited.
    assert pinged(chat)[:3] == ["ada", "bob", "cy"]
    assert pinged(chat)[3] == "dee"


async def test_nobody_is_pinged_above_their_cap_and_the_asker_hears_it_kindly(chat):
    await tag(chat, "python", "ada")
    await chat.say("/askme limit 1", as_="ada")

    await chat.say(f"/ask {PYTHON_Q}", as_="eve")
    second = await chat.say("/ask Which linter do you like? #python", as_="eve")

    assert pinged(chat) == ["ada"]
    assert "The one person who knows #python is paused or has had all" in second.plain()
    assert "I didn't ping anyone" in second.plain()


async def test_anonymous_questions_do_not_reveal_the_asker_to_people_pinged(chat):
    await tag(chat, "career", "ada")

    await chat.say("/ask --anonymous How do I ask for a raise? #career", as_="eve")

    [dm] = [m for m in chat.platform.log if m.channel_id == "dm:ada"]
    assert "eve" not in dm.reply.plain()
    async with chat.app.database.unit_of_work() as uow:
        rows = (await uow.session.exec(select(TagAsk))).all()
    assert [r.asker_id for r in rows] == [None]


async def test_unanswered_question_widens_to_the_next_people_then_related_topics(chat):
    await tag(chat, "python", "ada", "bob", "cy", "dee")
    await tag(chat, "python, django", "fay")
    await tag(chat, "django", "gus")

    await chat.say(f"/ask {PYTHON_Q}", as_="eve")
    assert pinged(chat) == ["ada", "bob", "cy"]

    await chat.wait("25h")  # the nudge

    assert pinged(chat)[3:] == ["dee", "fay"]
    nudge = chat.thread("q1")[-1].reply.plain()
    assert "Still looking for an answer" in nudge
    assert "I've also asked @dee and @fay." in nudge


async def test_widening_reaches_related_topics_when_the_topic_has_nobody_left(chat):
    await tag(chat, "flask", "ada")
    await tag(chat, "flask, python", "bob")
    await tag(chat, "python", "cy")

    await chat.say("/ask How do I structure blueprints? #flask", as_="eve")
    assert pinged(chat) == ["ada", "bob"]

    await chat.wait("25h")

    assert pinged(chat)[2:] == ["cy"]
    nudge = chat.thread("q1")[-1].reply.plain()
    assert "I've also asked @cy, who knows #python." in nudge
    dm = next(m for m in chat.platform.log if m.channel_id == "dm:cy")
    assert "close to #python" in dm.reply.plain()


async def test_a_question_without_tagged_people_says_nothing_extra_and_nobody_twice(chat):
    reply = await chat.say("/ask How do you pick a first conference talk? #speaking", as_="eve")
    assert "I asked" not in reply.plain()
    assert "Nobody" not in reply.plain()

    await tag(chat, "speaking", "ada")
    await chat.wait("25h")  # the nudge reaches ada, once
    await chat.wait("25h")
    assert pinged(chat) == ["ada"]
    async with chat.app.database.unit_of_work() as uow:
        asks = (await uow.session.exec(select(func.count()).select_from(TagAsk))).one()
    assert asks == 1


async def test_aliases_route_questions_to_the_canonical_topic(chat):
    await tag(chat, "kubernetes", "ada")
    await chat.say("/crowdmentor settings topics-alias k8s kubernetes", as_="admin")

    reply = await chat.say("/ask How do you debug a crash-looping pod? #k8s", as_="eve")

    assert "I asked @ada" in reply.plain()
    assert pinged(chat) == ["ada"]
