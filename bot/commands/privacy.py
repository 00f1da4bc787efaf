"""`/crowdmentor export` and `/crowdmentor forget`: a member's data, to take or to delete.

Each capability declares what it holds about a member with `@on_export` and how to delete it with
`@on_forget`; this module gathers them, then clears the outbox of messages naming the member (last,
because capabilities re-queue what others still need), and removes the member row (its foreign
keys cascade to anything a capability forgot to name; tests check every table and column).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import col, select

from bot import outbox
from bot.adapters.base import DeliveryKind
from bot.context import Context
from bot.errors import PermissionDeniedError
from bot.registry import action, command, on_export, on_forget
from bot.replies import (
    Attachment,
    Bold,
    Button,
    ButtonStyle,
    Reply,
    Section,
    reply_from_json,
    rich,
)
from bot.store.models import CommunityRole, Member, SlackInstallation

FORGET_ACTION = "privacy.forget"
KEEP_ACTION = "privacy.keep"


@command("crowdmentor", "export", summary="Get all the data crowdmentor holds about you, as JSON")
async def export(ctx: Context) -> Reply:
    """Hand the member a JSON file of everything held about them in this community."""
    assert ctx.member is not None
    data: dict[str, Any] = {
        "community": {"platform": ctx.community.platform, "id": ctx.community.external_id},
        "exported_at": ctx.now().isoformat(),
    }
    for spec in ctx.registry.hooks_of("export"):
        data[spec.name] = await spec.handler(ctx, ctx.member)
    return Reply(
        text=rich("Here is everything crowdmentor holds about you in this community."),
        files=(
            Attachment(
                "crowdmentor-export.json", json.dumps(data, indent=2, ensure_ascii=False) + "\n"
            ),
        ),
    )


@command("crowdmentor", "forget", summary="Delete all your data from crowdmentor in this community")
async def forget(ctx: Context) -> Reply:
    """Ask for confirmation before deleting the member's data."""
    assert ctx.member is not None
    return Reply(
        text=rich(
            "This deletes everything crowdmentor holds about you here: your topic tags and "
            "coffee requests, your pairing profile and history, your roles, your drafts, the "
            "messages waiting for you, and your name on questions, replies and credits (posted "
            'questions stay, from "a former member", so their answers keep helping others). '
            "It can't be undone. ",
            Bold("Delete my data?"),
        ),
        buttons=(
            Button(FORGET_ACTION, "Delete my data", str(ctx.member.id), ButtonStyle.DANGER),
            Button(KEEP_ACTION, "Keep it"),
        ),
    )


@action(KEEP_ACTION)
async def keep(ctx: Context, value: str) -> Reply:
    """Do nothing, kindly."""
    return Reply.say("Nothing was deleted.")


@action(FORGET_ACTION)
async def forget_confirmed(ctx: Context, value: str) -> Reply:
    """Delete the member's data: only ever the presser's own, whatever the button says."""
    assert ctx.member is not None
    if value != str(ctx.member.id):
        raise PermissionDeniedError("That button belongs to someone else. Nothing was deleted.")
    counts: dict[str, int] = {}
    for spec in ctx.registry.hooks_of("forget"):
        counts.update(await spec.handler(ctx, ctx.member))
    counts["messages"] = await outbox.forget_member(ctx.session, ctx.member)
    await ctx.session.delete(ctx.member)
    summary = ", ".join(f"{n} {what}" for what, n in counts.items() if n) or "nothing else"
    return Reply(
        text=rich("Done: your data is deleted from crowdmentor in this community."),
        sections=(Section(body=rich("Removed: ", summary, ".")),),
    )


@on_export("profile")
async def export_profile(ctx: Context, person: Member) -> dict[str, Any]:
    """Return the member row, the roles granted to them and the installs they made."""
    roles = await ctx.session.exec(
        select(CommunityRole.role).where(CommunityRole.member_id == person.id)
    )
    installs = await ctx.session.exec(
        select(SlackInstallation.installed_at).where(*_installed_by(ctx, person))
    )
    return {
        "platform_user_id": person.external_id,
        "display_name": person.display_name,
        "first_seen": person.created_at.isoformat(),
        "last_seen": person.last_seen_at.isoformat(),
        "roles": sorted(roles.all()),
        "installed_crowdmentor_at": [at.isoformat() for at in installs.all()],
    }


@on_forget("profile")
async def forget_profile(ctx: Context, person: Member) -> dict[str, int]:
    """Delete the member's roles and their name on the workspace's installation."""
    roles = await ctx.session.exec(  # type: ignore[call-overload]
        delete(CommunityRole).where(col(CommunityRole.member_id) == person.id)
    )
    # The installation itself belongs to the workspace and keeps working without a name on it.
    await ctx.session.exec(  # type: ignore[call-overload]
        update(SlackInstallation).where(*_installed_by(ctx, person)).values(installer_user_id="")
    )
    return {"roles": roles.rowcount}


def _installed_by(ctx: Context, person: Member) -> tuple[Any, ...]:
    """Select the installation of this community made by the member (only Slack has them)."""
    return (
        col(SlackInstallation.team_id) == ctx.community.external_id,
        col(SlackInstallation.installer_user_id) == person.external_id,
    )


@on_export("messages")
async def export_messages(ctx: Context, person: Member) -> list[dict[str, Any]]:
    """Return the messages queued or sent to, about or naming the member.

    Text is there only while a message waits: once delivered it lives on the platform alone.
    """
    return [
        {
            "kind": row.kind,
            "status": row.status,
            # Only their own DM: a group's conversation id can name the others in it.
            "conversation": (row.platform_channel_id or row.channel_id)
            if row.kind == DeliveryKind.DIRECT
            else None,
            "queued_at": row.created_at.isoformat(),
            "sent_at": row.sent_at.isoformat() if row.sent_at else None,
            "text": reply_from_json(row.payload).plain() if row.payload else None,
        }
        for row in await outbox.naming(ctx.session, person)
    ]
