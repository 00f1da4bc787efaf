"""`/crowdmentor settings`: what admins can change for their community."""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import col

from bot.args import ChannelRef, UserRef
from bot.commands._people import person_named
from bot.context import Context
from bot.errors import UserError
from bot.registry import Access, Param, ParamKind, command, group
from bot.replies import Bold, ChannelLink, Mention, Reply, Rich, Section, rich
from bot.store.models import CommunityRole, CommunitySettings, Member, Role
from bot.store.repositories import (
    members_with_role,
    roles_of,
    settings_for,
)

SETTINGS = group(
    "crowdmentor", "settings", summary="Community settings (admins)", access=Access.ADMIN
)

_HOURS_MAX = 24 * 30
_DAYS_MAX = 365


async def _editable(ctx: Context) -> CommunitySettings:
    found = await settings_for(ctx.session, ctx.community)
    ctx.session.add(found)
    return found


async def _overview(ctx: Context, changed: Rich | None = None) -> Reply:
    current = await settings_for(ctx.session, ctx.community)
    defaults = ctx.settings.ask
    channel: Rich = (
        rich(ChannelLink(current.ask_channel_id, current.ask_channel_name or ""))
        if current.ask_channel_id
        else rich("wherever /ask is used")
    )
    anonymous = (
        current.allow_anonymous if current.allow_anonymous is not None else defaults.allow_anonymous
    )
    admins = await members_with_role(ctx.session, ctx.community, Role.ADMIN)
    moderators = await members_with_role(ctx.session, ctx.community, Role.MODERATOR)

    def people(members: list[Member]) -> Rich:
        if not members:
            return rich("none named")
        return rich(*[rich(Mention(m.external_id, m.display_name), " ") for m in members])

    body = rich(
        "• Ask channel: ", channel, "\n",
        "• Anonymous questions: ", Bold("allowed" if anonymous else "not allowed"), "\n",
        "• Nudge unanswered questions after ",
        Bold(f"{current.nudge_after_hours or defaults.nudge_after_hours} h"), "\n",
        "• Close quiet questions after ",
        Bold(f"{current.close_after_days or defaults.close_after_days} days"), "\n",
        "• Admins (besides the platform's): ", people(admins), "\n",
        "• Moderators: ", people(moderators),
    )  # fmt: skip
    return Reply(text=changed or rich(Bold("Settings")), sections=(Section(body=body),))


@command(
    "crowdmentor", "settings", "show", summary="Show this community's settings", access=Access.ADMIN
)
async def show(ctx: Context) -> Reply:
    """Show the settings."""
    return await _overview(ctx)


@command(
    "crowdmentor",
    "settings",
    "ask-channel",
    summary="Post every /ask question in one channel",
    params=(Param("channel", ParamKind.CHANNEL, "The channel for questions", required=True),),
    access=Access.ADMIN,
    examples=("/crowdmentor settings ask-channel #questions",),
)
async def ask_channel(ctx: Context, channel: ChannelRef) -> Reply:
    """Set the ask channel."""
    current = await _editable(ctx)
    current.ask_channel_id = channel.channel_id[:64]
    current.ask_channel_name = (channel.name or None) and channel.name[:100]
    return await _overview(
        ctx,
        rich("Questions will be posted in ", ChannelLink(channel.channel_id, channel.name), "."),
    )


@command(
    "crowdmentor",
    "settings",
    "anonymous",
    summary="Allow or forbid anonymous questions",
    params=(Param("allowed", ParamKind.CHOICE, "on or off", required=True, choices=("on", "off")),),
    access=Access.ADMIN,
)
async def anonymous(ctx: Context, allowed: str) -> Reply:
    """Toggle anonymous asking."""
    current = await _editable(ctx)
    current.allow_anonymous = allowed == "on"
    return await _overview(
        ctx,
        rich("Anonymous questions are now ", Bold("allowed" if allowed == "on" else "off"), "."),
    )


@command(
    "crowdmentor",
    "settings",
    "nudge-hours",
    summary="Hours before an unanswered question is nudged",
    params=(
        Param(
            "hours",
            ParamKind.INT,
            "Hours (1-720)",
            required=True,
            min_value=1,
            max_value=_HOURS_MAX,
        ),
    ),
    access=Access.ADMIN,
)
async def nudge_hours(ctx: Context, hours: int) -> Reply:
    """Set the nudge delay for new questions."""
    current = await _editable(ctx)
    current.nudge_after_hours = hours
    return await _overview(
        ctx, rich(f"New questions will be nudged after {hours} h without an answer.")
    )


@command(
    "crowdmentor",
    "settings",
    "close-days",
    summary="Quiet days before an open question is closed",
    params=(
        Param(
            "days", ParamKind.INT, "Days (1-365)", required=True, min_value=1, max_value=_DAYS_MAX
        ),
    ),
    access=Access.ADMIN,
)
async def close_days(ctx: Context, days: int) -> Reply:
    """Set how long a quiet question stays open."""
    current = await _editable(ctx)
    current.close_after_days = days
    return await _overview(ctx, rich(f"Questions will be closed after {days} quiet days."))


async def _grant(ctx: Context, role: Role, change: str, who: UserRef) -> Reply:
    person = await person_named(ctx, who)
    if change == "add":
        if role in await roles_of(ctx.session, person):
            raise UserError(
                rich(
                    Mention(person.external_id, person.display_name), f" is already a {role.value}."
                )
            )
        ctx.session.add(
            CommunityRole(community_id=ctx.community_id, member_id=person.id, role=role.value)
        )
        said = rich(Mention(person.external_id, person.display_name), f" is now a {role.value}.")
    else:
        await ctx.session.exec(  # type: ignore[call-overload]
            delete(CommunityRole).where(
                col(CommunityRole.member_id) == person.id, col(CommunityRole.role) == role.value
            )
        )
        said = rich(
            Mention(person.external_id, person.display_name), f" is no longer a {role.value}."
        )
    await ctx.session.flush()
    return await _overview(ctx, said)


_CHANGE = Param(
    "change", ParamKind.CHOICE, "add or remove", required=True, choices=("add", "remove")
)
_WHO = Param("person", ParamKind.USER, "Who", required=True)


@command(
    "crowdmentor",
    "settings",
    "moderator",
    summary="Name or remove a moderator",
    params=(_CHANGE, _WHO),
    access=Access.ADMIN,
)
async def moderator(ctx: Context, change: str, person: UserRef) -> Reply:
    """Grant or take the moderator role."""
    return await _grant(ctx, Role.MODERATOR, change, person)


@command(
    "crowdmentor",
    "settings",
    "admin",
    summary="Name or remove a crowdmentor admin",
    params=(_CHANGE, _WHO),
    access=Access.ADMIN,
)
async def admin(ctx: Context, change: str, person: UserRef) -> Reply:
    """Grant or take the admin role."""
    return await _grant(ctx, Role.ADMIN, change, person)
