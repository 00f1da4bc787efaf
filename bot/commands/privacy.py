"""`/crowdmentor export` and `/crowdmentor forget`: a member's data, to take or to delete.

Each capability declares what it holds about a member with `@on_export` and how to delete it with
`@on_forget`; this module gathers them, and removes the member row last (its foreign keys cascade
to anything a capability forgot to name, and a test checks every table that points at members).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete
from sqlmodel import col, select

from bot.context import Context
from bot.errors import PermissionDeniedError
from bot.registry import action, command, on_export, on_forget
from bot.replies import Attachment, Bold, Button, ButtonStyle, Reply, Section, rich
from bot.store.models import CommunityRole, Member, OutboxMessage

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
            "This deletes everything crowdmentor holds about you here: your questions (their "
            "threads stay on the platform), your topic tags and coffee requests, your pairing "
            "profile and history, your roles, and your name on replies and credits. "
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
    await ctx.session.delete(ctx.member)
    summary = ", ".join(f"{n} {what}" for what, n in counts.items() if n) or "nothing else"
    return Reply(
        text=rich("Done: your data is deleted from crowdmentor in this community."),
        sections=(Section(body=rich("Removed: ", summary, ".")),),
    )


@on_export("profile")
async def export_profile(ctx: Context, person: Member) -> dict[str, Any]:
    """Return the member row and the roles granted to them."""
    roles = await ctx.session.exec(
        select(CommunityRole.role).where(CommunityRole.member_id == person.id)
    )
    return {
        "platform_user_id": person.external_id,
        "display_name": person.display_name,
        "first_seen": person.created_at.isoformat(),
        "last_seen": person.last_seen_at.isoformat(),
        "roles": sorted(roles.all()),
    }


@on_forget("profile")
async def forget_profile(ctx: Context, person: Member) -> dict[str, int]:
    """Delete the member's roles and the messages queued about them."""
    roles = await ctx.session.exec(  # type: ignore[call-overload]
        delete(CommunityRole).where(col(CommunityRole.member_id) == person.id)
    )
    # Sent messages keep no text (the worker blanks it), only where they went; still, they
    # were about this person, so they go too.
    messages = await ctx.session.exec(  # type: ignore[call-overload]
        delete(OutboxMessage).where(col(OutboxMessage.member_id) == person.id)
    )
    return {"roles": roles.rowcount, "queued messages": messages.rowcount}
