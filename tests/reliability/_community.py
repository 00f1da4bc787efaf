"""Fill a community with every kind of data the bot keeps, and collect the ids of its rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import select

from bot.store.models import Community, Member, Question
from bot.store.pairing_models import PairGroup
from bot.store.tag_models import CoffeeRequest, MemberTag
from bot.testing import Chat

PEOPLE = ("ada", "bob", "cy", "dee", "mod")


@dataclass
class Rows:
    """The row ids a community holds, by kind (what a tampered button could point at)."""

    questions: list[int] = field(default_factory=list)
    members: list[int] = field(default_factory=list)
    tags: list[int] = field(default_factory=list)
    coffee: list[int] = field(default_factory=list)
    groups: list[int] = field(default_factory=list)


async def populate(chat: Chat, marker: str) -> None:
    """Give the community a moderator, tags, questions with replies, coffee and a pair round."""
    for person in PEOPLE:
        await chat.say("/crowdmentor help", as_=person)
    await chat.say("/crowdmentor settings moderator add @mod", as_="admin")
    await chat.say("/askme add python rust", as_="ada")
    await chat.say("/askme add python", as_="bob")
    await chat.say(f"/ask How do I structure a big {marker} project? #python", as_="cy")
    await chat.reply_in("q1", as_="ada")
    await chat.reply_in("q1", as_="bob")
    await chat.say(f"/ask What is the best way to learn {marker} well? #rust", as_="dee")
    await chat.say(f"/coffee @ada python Talk about {marker}?", as_="bob")
    for person in ("ada", "bob", "cy", "dee"):
        await chat.say("/pair join", as_=person)
    await chat.say("/pair schedule weekly monday 09:00 UTC", as_="admin")
    await chat.say("/pair now", as_="admin")
    await chat.say("/crowdmentor settings topics-alias py python", as_="admin")


async def rows_of(chat: Chat) -> Rows:
    """Return the ids of the community's rows."""
    async with chat.app.database.unit_of_work() as uow:
        session = uow.session
        community = (
            await session.exec(
                select(Community).where(
                    Community.platform == chat.community.platform,
                    Community.external_id == chat.community.external_id,
                )
            )
        ).one()

        async def ids(model: Any) -> list[int]:
            query = select(model.id).where(model.community_id == community.id)
            return sorted((await session.exec(query)).all())

        return Rows(
            questions=await ids(Question),
            members=await ids(Member),
            tags=await ids(MemberTag),
            coffee=await ids(CoffeeRequest),
            groups=await ids(PairGroup),
        )


def tampered_values(rows: Rows) -> list[str]:
    """Return button values that point at these rows, alone and in every shape buttons use."""
    values: list[str] = []
    for question in rows.questions:
        values.append(str(question))
        values.extend(f"{question}:{member}" for member in rows.members)
    values.extend(str(tag) for tag in rows.tags)
    values.extend(str(request) for request in rows.coffee)
    values.extend(str(member) for member in rows.members)
    for group in rows.groups:
        values.extend(f"{group}:{outcome}" for outcome in ("met", "not_yet", "couldnt"))
    return values
