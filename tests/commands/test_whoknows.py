"""`/whoknows`: who has time for a topic now, best first, and honest when nobody has."""

from datetime import timedelta

from sqlmodel import select

from bot.commands._tags import record_ask
from bot.store.models import Member, Question, QuestionStatus


async def ask_of(chat, name: str, times: int, *, days_ago: int = 0) -> None:
    """Record that `name` was asked `times` times, `days_ago` days ago."""
    async with chat.app.database.unit_of_work() as uow:
        person = (await uow.session.exec(select(Member).where(Member.external_id == name))).one()
        for _ in range(times):
            when = chat.app.clock.now() - timedelta(days=days_ago)
            await record_ask(uow.session, person, when, kind="coffee")


def listed(reply) -> list[str]:
    lines = reply.sections[0].body.plain().splitlines()
    return [line.split(":")[0].lstrip("• @") for line in lines]


async def test_lists_available_people_with_notes_never_yourself(chat):
    await chat.say("/askme add python I maintain a web framework", as_="ada")
    await chat.say("/askme add python", as_="bob")
    await chat.say("/askme add go", as_="cy")

    reply = await chat.say("/whoknows Python", as_="bob")

    assert "People with time for #python this week" in reply.plain()
    assert "@ada: I maintain a web framework" in reply.plain()
    assert listed(reply) == ["ada"]
    assert "/coffee @ada python" in reply.plain()


async def test_least_recently_asked_first_then_answers_that_helped(chat):
    for name in ("ada", "bob", "cy", "dee"):
        await chat.say("/askme add python", as_=name)
    # cy helped on an answered question; ada was asked yesterday; bob a month ago.
    async with chat.app.database.unit_of_work() as uow:
        cy = (await uow.session.exec(select(Member).where(Member.external_id == "cy"))).one()
        uow.session.add(
            Question(
                community_id=cy.community_id,
                text="q",
                status=QuestionStatus.RESOLVED,
                channel_id="general",
                helped_by_id=cy.id,
                created_at=chat.app.clock.now(),
                last_activity_at=chat.app.clock.now(),
            )
        )
    await chat.say("/coffee @ada python", as_="eve")
    await chat.wait("1d")

    reply = await chat.say("/whoknows python", as_="eve")

    assert listed(reply) == ["cy (helped on 1 question)", "bob", "dee", "ada"]


async def test_people_at_their_cap_are_left_out_and_everyone_busy_is_said_honestly(chat):
    await chat.say("/askme add python", as_="ada")
    await chat.say("/askme add python", as_="bob")
    await chat.say("/askme limit 1", as_="bob")
    await ask_of(chat, "bob", 1)
    await ask_of(chat, "ada", 3, days_ago=8)  # more than a week ago: doesn't count

    assert listed(await chat.say("/whoknows python", as_="eve")) == ["ada"]

    await ask_of(chat, "ada", 3)
    reply = await chat.say("/whoknows python", as_="eve")
    assert "All 2 people who know #python are paused or have had all the asks" in reply.plain()
    assert "/ask … #python" in reply.plain()

    await chat.wait("8d")  # a rolling week later they have room again
    assert sorted(listed(await chat.say("/whoknows python", as_="eve"))) == ["ada", "bob"]


async def test_unknown_or_misspelt_topic_suggests_close_ones(chat):
    await chat.say("/askme add kubernetes", as_="ada")

    reply = await chat.say("/whoknows kuberentes", as_="bob")

    assert "Nobody has said they're happy to be asked about #kuberentes" in reply.plain()
    assert "Did you mean #kubernetes?" in reply.plain()
    assert "at most 40 characters" in (await chat.say("/whoknows " + "x" * 500)).plain()
    assert "no letters or digits" in (await chat.say("/whoknows ???")).plain()


async def test_a_topic_only_you_hold_is_not_suggested_back_to_you(chat):
    await chat.say("/askme add python", as_="ada")

    reply = await chat.say("/whoknows python", as_="ada")

    assert "Nobody has said" in reply.plain()
    assert "Did you mean" not in reply.plain()


async def test_communities_never_see_each_others_tags(chat):
    await chat.say("/askme add python", as_="ada")
    other = chat.elsewhere("T2")

    assert "Nobody has said" in (await other.say("/whoknows python", as_="bob")).plain()
