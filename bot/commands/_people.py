"""Find the member a command names (`@bob`, `<@U123|bob>`), kindly when nobody matches."""

from __future__ import annotations

from bot.args import UserRef
from bot.context import Context
from bot.errors import NotFoundError
from bot.events import Actor
from bot.replies import Code, Italic, Mention, Rich, rich
from bot.store.models import Member
from bot.store.repositories import find_member, member_for

# On these platforms people are known by their typed names, so naming someone is enough.
_NAMED_BY_NAME = frozenset({"console", "memory"})


async def person_named(ctx: Context, who: UserRef) -> Member:
    """Return the member `who` refers to, creating them when the platform vouches for the id."""
    if who.user_id:
        actor = Actor(who.user_id, who.name or who.user_id)
        return await member_for(ctx.session, ctx.community, actor, ctx.now())
    found = await find_member(ctx.session, ctx.community, external_id=None, name=who.name)
    if found is None and ctx.community.platform in _NAMED_BY_NAME and who.name:
        return await member_for(ctx.session, ctx.community, Actor(who.name, who.name), ctx.now())
    if found is None:
        raise NotFoundError(
            rich(
                "I don't know ",
                Code(f"@{who.name}"),
                " here yet. Mention them so I can tell who they are.",
            )
        )
    return found


async def known_person(ctx: Context, who: UserRef) -> Member | None:
    """Find someone already known here (never creates a member: they may have left)."""
    found = await find_member(ctx.session, ctx.community, external_id=who.user_id, name=None)
    if found is None and who.name:
        found = await find_member(ctx.session, ctx.community, external_id=None, name=who.name)
        if found is None and ctx.community.platform in _NAMED_BY_NAME:
            found = await find_member(ctx.session, ctx.community, external_id=who.name, name=None)
    return found


def mention(person: Member | None, *, missing: str = "a former member") -> Rich:
    """Mention a member, or name the gap (`/crowdmentor forget` can leave one)."""
    if person is None:
        return rich(Italic(missing))
    return rich(Mention(person.external_id, person.display_name))
